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

  // The evaluator's charts (details.charts: kind, title, x, y, labels, series): one plot per title, one
  // trace per series. Generic: a new benchmark brings its charts without code here.
  function renderCharts(data) {
    const holder = document.getElementById("charts");
    const details = (data.metrics && data.metrics.details) || {};
    const charts = details.charts || [];
    document.getElementById("sealed-note").hidden = !details.sealed_pending;
    if (!charts.length || typeof Plotly === "undefined" || holder.dataset.drawn) return;
    const byTitle = new Map();
    charts.forEach(function (c) {
      if (!byTitle.has(c.title)) byTitle.set(c.title, []);
      byTitle.get(c.title).push(c);
    });
    byTitle.forEach(function (group, title) {
      const div = document.createElement("div");
      div.className = "chart";
      holder.appendChild(div);
      const traces = group.map(function (c) {
        const trace = {type: c.kind === "line" ? "scatter" : "bar", x: c.x, y: c.y, name: c.series || title};
        if (c.kind === "line") trace.mode = "lines";
        return trace;
      });
      Plotly.newPlot(div, traces, {
        title: {text: title}, margin: {l: 60, r: 20, t: 40, b: 60}, height: 300, showlegend: group.length > 1,
        xaxis: {title: {text: group[0].x_label}}, yaxis: {title: {text: group[0].y_label}},
      }, {displaylogo: false, responsive: true});
    });
    holder.dataset.drawn = "1";
  }

  function render(data) {
    label.textContent = data.status_label;
    label.className = "state state-" + data.status;
    bar.style.width = Math.round(data.progress * 100) + "%";
    progressMessage.textContent = data.progress_message;
    message.textContent = data.message;
    message.classList.toggle("error-box", data.status === "rejected" || data.status === "failed");
    renderMetrics(data);
    renderCharts(data);
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
