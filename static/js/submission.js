// Submission page: polls the status endpoint until the submission reaches a final state, showing progress
// and, once scored, the metrics.
(function () {
  "use strict";
  const section = document.getElementById("status");
  const label = document.getElementById("status-label");
  const bar = document.getElementById("progress-bar");
  const progressMessage = document.getElementById("progress-message");
  const message = document.getElementById("message");
  const metrics = document.getElementById("metrics");

  function row(table, name, value) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = name;
    const td = document.createElement("td");
    td.textContent = value;
    tr.appendChild(th);
    tr.appendChild(td);
    table.appendChild(tr);
  }

  function renderMetrics(data) {
    if (!data.metrics) { metrics.replaceChildren(); return; }
    const table = document.createElement("table");
    table.className = "table metrics";
    const primary = data.metrics.primary;
    row(table, primary.label, primary.value === null ? "" : primary.value.toFixed(6));
    data.metrics.metrics.forEach(function (m) { row(table, m.label, m.value.toFixed(6)); });
    const heading = document.createElement("h3");
    heading.textContent = "Metrics (evaluator " + data.metrics.evaluator_version + ")";
    metrics.replaceChildren(heading, table);
  }

  // Evaluator details as a bar chart: per-class values when the evaluator reports them, else per-seed ones.
  function renderDetails(data) {
    const chart = document.getElementById("chart-details");
    const details = data.metrics && data.metrics.details;
    if (!details || typeof Plotly === "undefined") return;
    let x, y, title;
    if (details.per_class_f1) {
      x = Object.keys(details.per_class_f1);
      y = x.map(function (k) { return details.per_class_f1[k]; });
      title = "F1 per class (mean over seeds)";
    } else if (details.per_seed) {
      x = details.per_seed.map(function (s) { return "seed " + s.seed; });
      y = details.per_seed.map(function (s) { return s.macro_f1; });
      title = "Macro F1 per seed";
    } else {
      return;
    }
    chart.hidden = false;
    Plotly.react(chart, [{type: "bar", x: x, y: y, marker: {color: "#2f6fde"}}],
      {title: {text: title}, margin: {l: 50, r: 20, t: 40, b: 60}, yaxis: {range: [0, 1]}, height: 300},
      {displaylogo: false, responsive: true});
  }

  function render(data) {
    label.textContent = data.status_label;
    label.className = "state state-" + data.status;
    bar.style.width = Math.round(data.progress * 100) + "%";
    progressMessage.textContent = data.progress_message;
    message.textContent = data.message;
    message.classList.toggle("error-box", data.status === "rejected" || data.status === "failed");
    renderMetrics(data);
    renderDetails(data);
  }

  function poll() {
    fetch(section.dataset.url, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) render(data);
        if (!data || !data.terminal) setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }

  const initial = JSON.parse(document.getElementById("status-data").textContent);
  render(initial);
  if (!initial.terminal) setTimeout(poll, 1000);
})();
