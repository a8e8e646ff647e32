// The validation page's keys, one per answer: C answers "correct"; I moves to the labels of "incorrect", where
// 1-9 and 0 pick a label (the arrows move between them too) and Enter answers; F moves to the flag's reason,
// where Enter answers (the form's own submission). The forms work without this script: it only moves the focus
// and submits the page's own forms, so the keys never do what a click could not.
(function () {
  "use strict";
  const section = document.getElementById("validate-item");
  if (!section) return;
  const correct = document.getElementById("answer-correct");
  const incorrect = document.getElementById("answer-incorrect");
  const reason = document.getElementById("flag-reason");
  const LABEL_KEY = /^[0-9]$/;

  section.classList.add("keys-on");
  document.getElementById("keys-help").hidden = false;
  section.querySelectorAll("button[data-key]").forEach(function (button) {
    button.setAttribute("aria-keyshortcuts", button.dataset.key.toUpperCase());
  });

  // Keys typed into the reason are text, not answers.
  function typing(target) {
    return target.isContentEditable || target.matches("input[type=text], textarea, select");
  }

  function submit(form) {
    const button = form.querySelector("button[type=submit]");
    if (form.reportValidity()) form.requestSubmit(button);
  }

  function pickable() {
    return Array.from(incorrect.querySelectorAll("input[type=radio]:not(:disabled)"));
  }

  function labelKey(key) {
    if (!LABEL_KEY.test(key)) return null;
    return pickable().find(function (radio) { return radio.dataset.key === key; }) || null;
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (typing(event.target)) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === "c") {
      event.preventDefault();
      submit(correct);
    } else if (key === "i") {
      event.preventDefault();
      const chosen = incorrect.querySelector("input[type=radio]:checked") || pickable()[0];
      if (chosen) chosen.focus();
    } else if (key === "f") {
      event.preventDefault();
      reason.focus();
    } else if (incorrect.contains(event.target)) {
      const radio = labelKey(key);
      if (radio) {
        event.preventDefault();
        radio.checked = true;
        radio.focus();
      } else if (key === "Enter" && event.target.type === "radio") {
        event.preventDefault();
        submit(incorrect);
      }
    }
  }

  document.addEventListener("keydown", onKey);
})();
