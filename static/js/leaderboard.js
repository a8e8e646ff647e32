// Leaderboard page: renders the ranked table and two plotly charts from JSON, then polls the JSON endpoint
// (with its ETag, so an unchanged leaderboard costs a 304) and redraws when a new score lands.
(function () {
  "use strict";
  const POLL_MS = 2500;
  const table = document.getElementById("leaderboard");
  const body = document.getElementById("leaderboard-body");
  let etag = null;

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function formatScore(value, scale) {
    return (value * scale).toFixed(scale === 1 ? 4 : 2);
  }

  function renderHead(board, extra) {
    const head = document.getElementById("leaderboard-head");
    const labels = ["Rank", "Team", board.primary.label]
      .concat(extra.map(function (c) { return c.label; }), ["Submissions", "Submitted"]);
    head.replaceChildren.apply(head, labels.map(function (label) {
      const th = document.createElement("th");
      th.textContent = label;
      return th;
    }));
  }

  function renderTable(board) {
    const scale = board.primary.scale;
    const extra = board.columns.filter(function (c) { return c.column; });
    renderHead(board, extra);
    const rows = board.rows.map(function (entry) {
      const tr = document.createElement("tr");
      tr.dataset.submission = entry.submission_id;
      if (entry.is_baseline) tr.className = "baseline";
      cell(tr, entry.rank, "rank");
      const team = cell(tr, entry.label, "team");
      if (entry.is_baseline) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = "baseline";
        team.appendChild(document.createTextNode(" "));
        team.appendChild(badge);
      }
      cell(tr, formatScore(entry.primary, scale), "score");
      extra.forEach(function (c) {
        const value = entry.metrics[c.name];
        cell(tr, value === undefined ? "" : formatScore(value, c.scale), "metric");
      });
      cell(tr, entry.is_baseline ? "" : entry.submissions, "count");
      cell(tr, entry.submitted_at.replace("T", " ").slice(0, 19), "when");
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = cell(tr, "No scored submissions yet.");
      td.colSpan = 5 + extra.length;
      rows.push(tr);
    }
    body.replaceChildren.apply(body, rows);
  }

  function renderCharts(data) {
    if (typeof Plotly === "undefined") return;
    const board = data.board;
    const scale = board.primary.scale;
    const ordered = board.rows.slice().reverse();
    Plotly.react("chart-ranking", [{
      type: "bar", orientation: "h",
      x: ordered.map(function (r) { return r.primary * scale; }),
      y: ordered.map(function (r) { return "#" + r.rank + " " + r.label; }),
      marker: {color: ordered.map(function (r) { return r.is_baseline ? "#9aa5b1" : "#2f6fde"; })},
      hovertemplate: "%{y}: %{x:.3f}<extra></extra>",
    }], {
      title: {text: "Ranking"}, margin: {l: 200, r: 20, t: 40, b: 40},
      xaxis: {title: {text: board.primary.label}}, height: Math.max(260, 40 + 28 * ordered.length),
    }, {displaylogo: false, responsive: true});
    const history = data.history;
    const participants = history.filter(function (p) { return !p.baseline; });
    const baselines = history.filter(function (p) { return p.baseline; });
    Plotly.react("chart-history", [
      {type: "scatter", mode: "markers", name: "submissions",
        x: participants.map(function (p) { return p.t; }), y: participants.map(function (p) { return p.value * scale; }),
        text: participants.map(function (p) { return p.team; }), hovertemplate: "%{text}: %{y:.3f}<extra></extra>"},
      {type: "scatter", mode: "lines", name: "best so far", line: {shape: "hv"},
        x: participants.map(function (p) { return p.t; }), y: participants.map(function (p) { return p.best * scale; })},
      {type: "scatter", mode: "markers", name: "baselines", marker: {symbol: "diamond", color: "#9aa5b1"},
        x: baselines.map(function (p) { return p.t; }), y: baselines.map(function (p) { return p.value * scale; }),
        text: baselines.map(function (p) { return p.team; }), hovertemplate: "%{text}: %{y:.3f}<extra></extra>"},
    ], {title: {text: "Scores over time"}, margin: {l: 60, r: 20, t: 40, b: 40},
      yaxis: {title: {text: board.primary.label}}, height: 320}, {displaylogo: false, responsive: true});
  }

  function render(data) {
    renderTable(data.board);
    renderCharts(data);
    table.dataset.version = data.board.version;
  }

  function poll() {
    const headers = etag ? {"If-None-Match": etag} : {};
    fetch(table.dataset.url, {headers: headers, credentials: "same-origin"})
      .then(function (response) {
        if (response.status === 304) return null;
        if (!response.ok) throw new Error("HTTP " + response.status);
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) { if (data) render(data); })
      .catch(function () { document.getElementById("live-state").textContent = "Live updates paused (retrying)."; })
      .finally(function () { setTimeout(poll, POLL_MS); });
  }

  render(JSON.parse(document.getElementById("leaderboard-data").textContent));
  setTimeout(poll, POLL_MS);
})();
