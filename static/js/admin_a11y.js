// Django's admin leaves a few controls without an accessible name, which screen readers then announce as
// "edit text" alone: a tabular inline's cells (their label is the column's heading), the two halves of a date and
// time field, and the filter icon of a horizontal selector (a labelled span without a role). Name them once the
// admin's own widgets exist: they are built on "load", and this listener is added after theirs.
"use strict";
(function () {
  function hasName(control) {
    if (control.getAttribute("aria-label") || control.getAttribute("aria-labelledby")) {
      return true;
    }
    return Boolean(control.id && document.querySelector('label[for="' + CSS.escape(control.id) + '"]'));
  }

  function fieldName(cell) {
    const found = Array.from(cell.classList).find(function (name) { return name.startsWith("field-"); });
    return found ? found.slice("field-".length) : null;
  }

  function headingText(element) {
    return element ? element.textContent.replace(/[:*]/g, "").trim() : "";
  }

  function nameOf(control) {
    const cell = control.closest("td[class*='field-']");
    if (cell) {
      const table = cell.closest("table");
      const name = fieldName(cell);
      const heading = table && name ? table.querySelector("thead th.column-" + CSS.escape(name)) : null;
      return headingText(heading) || name;
    }
    const row = control.closest(".form-row, .fieldBox");
    const label = headingText(row ? row.querySelector("label") : null);
    if (!label) {
      return "";
    }
    const datetime = control.closest("p.datetime");
    if (datetime) {
      return label + (/_0$/.test(control.id) ? " (date)" : " (time)");
    }
    return label;
  }

  function nameControls() {
    document.querySelectorAll("#content input:not([type=hidden]), #content select, #content textarea")
      .forEach(function (control) {
        if (!hasName(control)) {
          const name = nameOf(control);
          if (name) {
            control.setAttribute("aria-label", name);
          }
        }
      });
    document.querySelectorAll("span.search-label-icon[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  window.addEventListener("load", nameControls);
  // Inline rows added with "Add another" arrive after "load".
  document.addEventListener("formset:added", nameControls);
})();
