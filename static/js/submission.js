// Submission page: polls the status endpoint until the submission reaches a final state, showing progress,
// the verification stages of a closed-division submission and, once scored, the metrics (with a private
// split: the public part's, and the private part's and whole set's when the viewer may see them).
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

  function metricTable(values, id) {
    const table = document.createElement("table");
    table.className = "table metrics";
    if (id) table.id = id;
    const primary = values.primary;
    row(table, primary.label, primary.value === null ? "" : primary.value.toFixed(6));
    values.metrics.forEach(function (m) { row(table, m.label, m.value.toFixed(6)); });
    return table;
  }

  function heading(text, level) {
    const node = document.createElement(level || "h3");
    node.textContent = text;
    return node;
  }

  function hint(text, id) {
    const p = document.createElement("p");
    p.className = "hint";
    if (id) p.id = id;
    p.textContent = text;
    return p;
  }

  // A task with a private split (the page's data-private-percent): the public values are computed on the
  // public part alone; the private part's and the whole set's come when the viewer may see them.
  function splitNodes(values, percent) {
    const publicPercent = 100 - Number(percent);
    const nodes = [
      heading("Public part", "h4"),
      hint("Computed on " + publicPercent + "% of the evaluation data: the other " + percent +
        "% is held out for the final, private ranking.", "public-part-note"),
      metricTable(values, "metrics-public"),
    ];
    if (values.private) {
      nodes.push(heading("Private part", "h4"),
        hint("The " + percent + "% of the evaluation data held out for the final ranking."),
        metricTable(values.private, "metrics-private"));
    } else if (section.dataset.privatePending) {
      nodes.push(hint("The private part's scores are shown when the challenge ends.", "private-pending"));
    }
    if (values.whole_set) {
      nodes.push(heading("Whole evaluation set", "h4"),
        hint("All of the evaluation data, public and private parts together."),
        metricTable(values.whole_set, "metrics-whole-set"));
    }
    return nodes;
  }

  function renderMetrics(data) {
    if (!data.metrics) { metrics.replaceChildren(); return; }
    const percent = section.dataset.privatePercent;
    const nodes = [heading("Metrics (evaluator " + data.metrics.evaluator_version + ")")];
    if (percent) {
      nodes.push.apply(nodes, splitNodes(data.metrics, percent));
    } else {
      nodes.push(metricTable(data.metrics, "metrics-public"));
    }
    if (data.metrics.concealed) {
      nodes.push(heading("Concealed task"), metricTable(data.metrics.concealed, "metrics-concealed"));
    }
    metrics.replaceChildren.apply(metrics, nodes);
  }

  // The verification list, as the page first renders it (selectors.verification_steps): every planned
  // stage (recorded, else waiting or not run), then the score step (the submission's own state).
  const SCORE_STEP = {
    running: ["running", "Running"], scored: ["passed", "Scored"], rejected: ["failed", "Rejected"],
    failed: ["failed", "Failed"], cancelled: ["failed", "Cancelled"],
  };

  function verificationSteps(data) {
    if (!data.stage_plan || !data.stage_plan.length) return [];
    const recorded = new Map(data.stages.map(function (s) { return [s.stage, s]; }));
    const pending = data.terminal ? ["skipped", "Not run"] : ["pending", "Waiting"];
    const steps = data.stage_plan.map(function (planned) {
      return recorded.get(planned.stage) ||
        {stage: planned.stage, label: planned.label, status: pending[0], status_label: pending[1]};
    });
    const score = SCORE_STEP[data.status] || ["pending", "Waiting"];
    steps.push({stage: "score", label: "Score", status: score[0], status_label: score[1]});
    return steps;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function formatBytes(bytes) {
    const units = ["bytes", "KB", "MB", "GB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit === 0 ? value : value.toFixed(1)) + " " + units[unit];
  }

  function figures(step) {
    if (step.wall_seconds === null || step.wall_seconds === undefined) return null;
    const parts = [step.wall_seconds.toFixed(1) + " s wall"];
    if (step.cpu_seconds !== null) parts.push(step.cpu_seconds.toFixed(1) + " s CPU");
    if (step.max_rss_bytes !== null) parts.push(formatBytes(step.max_rss_bytes) + " peak memory");
    if (step.output_bytes !== null) parts.push(formatBytes(step.output_bytes) + " written");
    return element("p", "hint figures", parts.join(", "));
  }

  function folded(className, summary, text, open) {
    const details = element("details", className);
    details.open = open;
    details.appendChild(element("summary", "", summary));
    details.appendChild(element("pre", "", text));
    return details;
  }

  function stepItem(step) {
    const item = element("li", "step step-" + step.status);
    item.dataset.stage = step.stage;
    const head = element("div");
    head.appendChild(element("strong", "", step.label));
    head.appendChild(document.createTextNode(": "));
    head.appendChild(element("span", "state state-" + step.status, step.status_label));
    item.appendChild(head);
    if (step.message) item.appendChild(element("p", "message", step.message));
    const shown = figures(step);
    if (shown) item.appendChild(shown);
    if (step.stderr_tail) item.appendChild(folded("stderr", "Standard error (last lines)", step.stderr_tail, true));
    if (step.organizer_detail) {
      item.appendChild(folded("organizer-detail", "For organizers only", step.organizer_detail, false));
    }
    return item;
  }

  function renderVerification(data) {
    const list = document.getElementById("verification-steps");
    if (!list) return;
    // Keep the organizer's open/closed choice on the folded notes across polls.
    const opened = new Set(Array.from(list.querySelectorAll("li")).filter(function (li) {
      const note = li.querySelector("details.organizer-detail");
      return note && note.open;
    }).map(function (li) { return li.dataset.stage; }));
    const items = verificationSteps(data).map(stepItem);
    items.forEach(function (li) {
      const note = li.querySelector("details.organizer-detail");
      if (note && opened.has(li.dataset.stage)) note.open = true;
    });
    list.replaceChildren.apply(list, items);
  }

  // A chart's numbers as a table, folded under the chart: its text alternative. One row per x value (in the
  // order the series first give them), one column per series.
  function chartTable(group, title) {
    const xs = [];
    const columns = group.map(function (c) {
      const byX = new Map();
      c.x.forEach(function (x, i) {
        if (!byX.has(String(x))) { byX.set(String(x), c.y[i]); if (xs.indexOf(String(x)) < 0) xs.push(String(x)); }
      });
      return byX;
    });
    const table = element("table", "table chart-table");
    const headRow = element("tr");
    headRow.appendChild(element("th", "", group[0].x_label || "x"));
    group.forEach(function (c) {
      headRow.appendChild(element("th", "", [c.series || title, c.y_label].filter(Boolean).join(", ")));
    });
    Array.prototype.forEach.call(headRow.children, function (th) { th.scope = "col"; });
    const thead = element("thead");
    thead.appendChild(headRow);
    const tbody = element("tbody");
    xs.forEach(function (x) {
      const tr = element("tr");
      tr.appendChild(element("td", "", x));
      columns.forEach(function (byX) {
        const value = byX.get(x);
        tr.appendChild(element("td", "metric", value === undefined ? "–" : Number(value).toPrecision(6)));
      });
      tbody.appendChild(tr);
    });
    table.appendChild(thead);
    table.appendChild(tbody);
    const scroll = element("div", "table-scroll");
    scroll.tabIndex = 0;
    scroll.setAttribute("role", "region");
    scroll.setAttribute("aria-label", title + ": the numbers");
    scroll.appendChild(table);
    const details = element("details", "chart-numbers");
    details.appendChild(element("summary", "", "The chart's numbers as a table"));
    details.appendChild(scroll);
    return details;
  }

  // One evaluator chart: the drawing (hidden from screen readers), a caption, and its numbers as a table.
  function chartFigure(group, title) {
    const figure = element("figure", "chart-figure");
    const div = element("div", "chart");
    div.setAttribute("aria-hidden", "true");
    figure.appendChild(div);
    figure.appendChild(element("figcaption", "hint", title + ": the table below the chart holds the same numbers."));
    figure.appendChild(chartTable(group, title));
    return {figure: figure, drawing: div};
  }

  function drawChart(div, group, title) {
    const traces = group.map(function (c) {
      const trace = {type: c.kind === "line" ? "scatter" : "bar", x: c.x, y: c.y, name: c.series || title};
      if (c.kind === "line") trace.mode = "lines";
      return trace;
    });
    Plotly.newPlot(div, traces, {
      title: {text: title}, margin: {l: 60, r: 20, t: 40, b: 60}, height: 300, showlegend: group.length > 1,
      xaxis: {title: {text: group[0].x_label}, automargin: true}, yaxis: {title: {text: group[0].y_label}},
    }, {displaylogo: false, displayModeBar: false, responsive: true}); // no buttons inside a hidden drawing
  }

  // The evaluator's charts (details.charts: kind, title, x, y, labels, series): one plot per title, one
  // trace per series. Generic: a new benchmark brings its charts without code here. A chart without a single
  // point says so in a sentence instead of drawing empty axes.
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
      if (!group.some(function (c) { return c.x.length > 0; })) {
        holder.appendChild(element("p", "hint chart-empty", title + ": nothing to draw for this submission."));
        return;
      }
      const made = chartFigure(group, title);
      holder.appendChild(made.figure);
      drawChart(made.drawing, group, title);
    });
    holder.dataset.drawn = "1";
  }

  // The rank line (rendered by the server) of a submission that had no score when the page opened: once it
  // has one, its rank is on the boards, and a reload shows it; a submission that ended unscored ranks nowhere.
  function renderStanding(data) {
    const standing = document.getElementById("standing");
    if (!standing || !standing.dataset.pending || !data.terminal) return;
    delete standing.dataset.pending;
    standing.textContent = data.status === "scored"
      ? "Scored: reload the page to see the rank it reached."
      : "Not ranked: " + data.status_label.toLowerCase() + ".";
  }

  function render(data) {
    label.textContent = data.status_label;
    label.className = "state state-" + data.status;
    bar.style.width = Math.round(data.progress * 100) + "%";
    progressMessage.textContent = data.progress_message;
    message.textContent = data.message;
    message.classList.toggle("error-box", data.status === "rejected" || data.status === "failed");
    renderVerification(data);
    renderMetrics(data);
    renderCharts(data);
    renderStanding(data);
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
