// Leaderboard page: renders the ranked table (sortable by any column, in the browser) and three plotly charts
// (ranking, score distribution: from the board the page embeds; best score over time: from the history document,
// fetched apart), then polls the board's JSON with its ETag (an unchanged board costs a 304) and redraws, and
// fetches the history again, when a new score lands. The private board adds the shake-up: each row's public rank
// and its move, as two columns and a chart.
// The DOM is built with textContent only: team names and method descriptions are never parsed as HTML.
(function () {
  "use strict";
  const POLL_MS = 2500;
  const table = document.getElementById("leaderboard");
  const body = document.getElementById("leaderboard-body");
  const head = document.getElementById("leaderboard-head");
  let etag = table.dataset.etag || null;
  let historyEtag = null;
  let current = null;
  // The viewer's sort, kept across live updates: a column key and a direction (1 ascending, -1 descending).
  let sort = {key: null, dir: 1};

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

  // The table's columns: how to read a row's value for sorting, and the direction a first click sorts in
  // (best first for metrics, as their direction says; rank and dates ascending; text alphabetical).
  function columns(board) {
    const extra = board.columns.filter(function (c) { return c.column && c.name !== board.primary.name; });
    const primary = board.primary;
    return [
      {key: "rank", label: "Rank", type: "num", first: 1, value: function (r) { return r.rank; }},
    ].concat(board.split === "private" ? SHAKE_UP_COLUMNS : [], [
      {key: "team", label: "Team", type: "text", first: 1, value: function (r) { return r.label; }},
      {key: "primary", label: primary.label, type: "num", first: primary.higher_is_better ? -1 : 1,
        value: function (r) { return r.primary; }},
    ], extra.map(function (c) {
      return {key: "metric:" + c.name, label: c.label, type: "num", first: c.higher_is_better ? -1 : 1, metric: c,
        value: function (r) { const v = r.metrics[c.name]; return v === undefined ? null : v; }};
    }), [
      {key: "submissions", label: "Submissions", type: "num", first: -1,
        value: function (r) { return r.is_baseline ? null : r.submissions; }},
      {key: "submitted", label: "Submitted", type: "text", first: 1, value: function (r) { return r.submitted_at; }},
    ]);
  }

  // A private row's rank on the public board (null when it has none there).
  function publicRank(row) {
    return row.public_rank === undefined ? null : row.public_rank;
  }

  // A private row's move: the places it gained since the public board (negative: lost), null without a public rank.
  function move(row) {
    return publicRank(row) === null ? null : publicRank(row) - row.rank;
  }

  // The private board's shake-up columns, after the rank.
  const SHAKE_UP_COLUMNS = [
    {key: "public_rank", label: "Public rank", type: "num", first: 1, value: publicRank},
    {key: "move", label: "Move", type: "num", first: -1, value: move},
  ];

  function compare(column, dir) {
    return function (a, b) {
      const x = column.value(a.row), y = column.value(b.row);
      if (x === null || y === null) {
        if (x === y) return a.index - b.index;
        return x === null ? 1 : -1; // missing values last, whatever the direction
      }
      let order = column.type === "num" ? x - y : String(x).localeCompare(String(y));
      if (order === 0) return a.index - b.index; // stable: the server's order (the stated tie-break)
      return order * dir;
    };
  }

  function sortedRows(board, cols) {
    const indexed = board.rows.map(function (row, index) { return {row: row, index: index}; });
    const column = cols.find(function (c) { return c.key === sort.key; });
    if (column) indexed.sort(compare(column, sort.dir));
    return indexed.map(function (item) { return item.row; });
  }

  function onSort(column) {
    if (sort.key === column.key) {
      sort = {key: column.key, dir: -sort.dir};
    } else {
      sort = {key: column.key, dir: column.first};
    }
    if (current) renderTable(current);
  }

  function renderHead(cols) {
    head.replaceChildren.apply(head, cols.map(function (column) {
      const th = document.createElement("th");
      th.dataset.key = column.key;
      th.tabIndex = 0;
      th.className = "sortable-heading";
      th.textContent = column.label;
      const active = sort.key === column.key;
      th.setAttribute("aria-sort", active ? (sort.dir === 1 ? "ascending" : "descending") : "none");
      if (active) {
        const arrow = document.createElement("span");
        arrow.className = "sort-arrow";
        arrow.textContent = sort.dir === 1 ? " ▲" : " ▼";
        th.appendChild(arrow);
      }
      th.addEventListener("click", function () { onSort(column); });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); onSort(column); }
      });
      return th;
    }));
  }

  // Visible text for the eye (an arrow and a number) and words for a screen reader, not colour alone.
  function moveText(places) {
    if (places === null) return {shown: "–", spoken: "no public rank", kind: "none"};
    if (places === 0) return {shown: "–", spoken: "no change", kind: "same"};
    const count = Math.abs(places);
    const spoken = (places > 0 ? "up " : "down ") + count + (count === 1 ? " place" : " places");
    return {shown: (places > 0 ? "▲ " : "▼ ") + count, spoken: spoken, kind: places > 0 ? "up" : "down"};
  }

  function renderShakeUp(tr, entry) {
    const rank = publicRank(entry);
    cell(tr, rank === null ? "–" : rank, "public-rank");
    const text = moveText(move(entry));
    const td = cell(tr, "", "move move-" + text.kind);
    const shown = document.createElement("span");
    shown.setAttribute("aria-hidden", "true");
    shown.textContent = text.shown;
    const spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    spoken.textContent = text.spoken;
    td.title = text.spoken;
    td.replaceChildren(shown, spoken);
  }

  function renderRow(entry, board, cols) {
    const tr = document.createElement("tr");
    tr.dataset.submission = entry.submission_id;
    tr.dataset.team = entry.team_id;
    if (entry.is_baseline) tr.className = "baseline";
    cell(tr, entry.rank, "rank");
    if (board.split === "private") renderShakeUp(tr, entry);
    const team = cell(tr, entry.label, "team");
    if (entry.is_baseline) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "baseline";
      team.appendChild(document.createTextNode(" "));
      team.appendChild(badge);
    }
    cell(tr, formatScore(entry.primary, board.primary.scale), "score");
    cols.filter(function (c) { return c.metric; }).forEach(function (c) {
      const value = entry.metrics[c.metric.name];
      cell(tr, value === undefined ? "" : formatScore(value, c.metric.scale), "metric");
    });
    cell(tr, entry.is_baseline ? "" : entry.submissions, "count");
    cell(tr, entry.submitted_at.replace("T", " ").slice(0, 19), "when");
    return tr;
  }

  function renderTable(board) {
    const cols = columns(board);
    renderHead(cols);
    const rows = sortedRows(board, cols).map(function (entry) { return renderRow(entry, board, cols); });
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = cell(tr, "No scored submissions yet.");
      td.colSpan = cols.length;
      rows.push(tr);
    }
    body.replaceChildren.apply(body, rows);
  }

  const CONFIG = {displaylogo: false, responsive: true};

  function drawRanking(board) {
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
    }, CONFIG);
  }

  function drawHistory(board, history) {
    const scale = board.primary.scale;
    const teams = history.filter(function (p) { return !p.baseline; });
    const baselines = history.filter(function (p) { return p.baseline; });
    Plotly.react("chart-history", [
      {type: "scatter", mode: "markers", name: "submissions",
        x: teams.map(function (p) { return p.t; }), y: teams.map(function (p) { return p.value * scale; }),
        text: teams.map(function (p) { return p.team; }), hovertemplate: "%{text}: %{y:.3f}<extra></extra>"},
      {type: "scatter", mode: "lines", name: "best so far", line: {shape: "hv"},
        x: teams.map(function (p) { return p.t; }), y: teams.map(function (p) { return p.best * scale; })},
      {type: "scatter", mode: "markers", name: "baselines", marker: {symbol: "diamond", color: "#9aa5b1"},
        x: baselines.map(function (p) { return p.t; }), y: baselines.map(function (p) { return p.value * scale; }),
        text: baselines.map(function (p) { return p.team; }), hovertemplate: "%{text}: %{y:.3f}<extra></extra>"},
    ], {title: {text: "Scores over time (the best score so far, among the teams)"}, margin: {l: 60, r: 20, t: 40, b: 40},
      yaxis: {title: {text: board.primary.label}}, height: 320}, CONFIG);
  }

  // The histogram's data: every ranked team's primary score, and the baselines to mark on it.
  function distribution(board) {
    return {
      values: board.rows.filter(function (r) { return !r.is_baseline; }).map(function (r) { return r.primary; }),
      baselines: board.rows.filter(function (r) { return r.is_baseline; })
        .map(function (r) { return {label: r.label, value: r.primary}; }),
    };
  }

  function drawDistribution(board) {
    const scale = board.primary.scale;
    const found = distribution(board);
    const shapes = found.baselines.map(function (b) {
      return {type: "line", xref: "x", yref: "paper", x0: b.value * scale, x1: b.value * scale, y0: 0, y1: 1,
        line: {color: "#9aa5b1", dash: "dot"}};
    });
    const annotations = found.baselines.map(function (b) {
      return {xref: "x", yref: "paper", x: b.value * scale, y: 1, text: b.label, showarrow: false,
        textangle: -90, xanchor: "right", yanchor: "top", font: {size: 10, color: "#5f6b7a"}};
    });
    Plotly.react("chart-distribution", [{
      type: "histogram", name: "teams", marker: {color: "#2f6fde"},
      x: found.values.map(function (v) { return v * scale; }),
      hovertemplate: "%{x}: %{y} team(s)<extra></extra>",
    }], {title: {text: "Score distribution of the ranked teams (dotted: baselines)"}, margin: {l: 50, r: 20, t: 40, b: 40},
      xaxis: {title: {text: board.primary.label}}, yaxis: {title: {text: "teams"}}, bargap: 0.05, height: 280,
      shapes: shapes, annotations: annotations}, CONFIG);
  }

  // The shake-up chart's groups: rows that moved up, down or not at all, and the baselines (marked as on the
  // table); each group drawn as one trace of line segments from the public rank (x 0) to the private rank (x 1).
  const SHAKE_UP_GROUPS = [
    {name: "moved up", color: "#137a3a", symbol: "triangle-up", dash: "solid",
      has: function (r) { return !r.is_baseline && move(r) > 0; }},
    {name: "moved down", color: "#b42318", symbol: "triangle-down", dash: "solid",
      has: function (r) { return !r.is_baseline && move(r) < 0; }},
    {name: "unchanged", color: "#2f6fde", symbol: "circle", dash: "solid",
      has: function (r) { return !r.is_baseline && move(r) === 0; }},
    {name: "baselines", color: "#9aa5b1", symbol: "diamond", dash: "dot",
      has: function (r) { return r.is_baseline; }},
  ];

  function shakeUpTrace(group, rows) {
    const x = [], y = [], text = [], symbols = [];
    rows.forEach(function (r) {
      x.push(0, 1, null);
      y.push(publicRank(r), r.rank, null);
      const hover = r.label + ": public #" + publicRank(r) + ", private #" + r.rank;
      text.push(hover, hover, null);
      symbols.push("circle", group.symbol, "circle");
    });
    return {type: "scatter", mode: "lines+markers", name: group.name, x: x, y: y, text: text,
      hovertemplate: "%{text}<extra></extra>", connectgaps: false,
      line: {color: group.color, dash: group.dash, width: 2}, marker: {color: group.color, size: 8, symbol: symbols}};
  }

  // A name cut to `chars` characters (the hover and the table show it whole).
  function shortLabel(text, chars) {
    return text.length > chars ? text.slice(0, Math.max(1, chars - 1)) + "…" : text;
  }

  // The teams' names beside their private ranks (a baseline by its method, as on the table), cut to what fits
  // right of the lines at the chart's width (x from 1.03 to 1.9 of 2 units; about 6.5 px a character). Where
  // there is little room, a baseline is told by its grey diamond (and the legend) alone.
  function shakeUpLabels(rows, width) {
    const chars = Math.max(6, Math.floor(((width - 60) * 0.87) / 2 / 6.5));
    const suffix = chars >= 24 ? " (baseline)" : "";
    return {type: "scatter", mode: "text", showlegend: false, hoverinfo: "skip",
      x: rows.map(function () { return 1.03; }), y: rows.map(function (r) { return r.rank; }),
      text: rows.map(function (r) {
        return r.is_baseline ? shortLabel(r.label, chars - suffix.length) + suffix : shortLabel(r.label, chars);
      }),
      textposition: "middle right", textfont: {size: 11, color: "#1d2733"}};
  }

  function drawShakeUp(board) {
    const chart = document.getElementById("chart-shakeup");
    if (!chart) return;
    const rows = board.rows.filter(function (r) { return publicRank(r) !== null; });
    const traces = SHAKE_UP_GROUPS.map(function (group) { return shakeUpTrace(group, rows.filter(group.has)); })
      .filter(function (trace) { return trace.x.length > 0; });
    const deepest = rows.reduce(function (most, r) { return Math.max(most, r.rank, publicRank(r)); }, 1);
    Plotly.react("chart-shakeup", traces.concat(rows.length ? [shakeUpLabels(rows, chart.clientWidth)] : []), {
      title: {text: "Shake-up: public rank → private rank"}, margin: {l: 50, r: 10, t: 40, b: 30},
      xaxis: {tickvals: [0, 1], ticktext: ["Public rank", "Private rank"], range: [-0.1, 1.9], zeroline: false,
        showgrid: false, fixedrange: true},
      yaxis: {title: {text: "rank"}, autorange: "reversed", dtick: deepest <= 20 ? 1 : null, zeroline: false,
        fixedrange: true},
      legend: {orientation: "h", y: -0.08}, height: Math.max(280, 90 + 26 * deepest),
    }, CONFIG);
  }

  function renderCharts(board) {
    if (typeof Plotly === "undefined") return;
    drawShakeUp(board);
    drawRanking(board);
    drawDistribution(board);
  }

  // The history is fetched apart from the board (it holds every ranked submission, the board one row per team),
  // once when the page opens and again whenever the board changes.
  function loadHistory() {
    const headers = historyEtag ? {"If-None-Match": historyEtag} : {};
    fetch(table.dataset.historyUrl, {headers: headers, credentials: "same-origin"})
      .then(function (response) {
        if (response.status === 304) return null;
        if (!response.ok) throw new Error("HTTP " + response.status);
        historyEtag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (history) {
        if (history && current && typeof Plotly !== "undefined") drawHistory(current, history);
      })
      .catch(function () { /* the chart stays as it was; the next change of the board fetches again */ });
  }

  function render(board) {
    current = board;
    renderTable(board);
    renderCharts(board);
    table.dataset.version = board.version;
    loadHistory();
  }

  function poll() {
    if (document.hidden) { setTimeout(poll, POLL_MS); return; } // nobody is looking: no request
    const headers = etag ? {"If-None-Match": etag} : {};
    fetch(table.dataset.url, {headers: headers, credentials: "same-origin"})
      .then(function (response) {
        if (response.status === 304) return null;
        if (!response.ok) throw new Error("HTTP " + response.status);
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) {
        document.getElementById("live-state").textContent = "Live: updates by itself.";
        if (data) render(data);
      })
      .catch(function () { document.getElementById("live-state").textContent = "Live updates paused (retrying)."; })
      .finally(function () { setTimeout(poll, POLL_MS); });
  }

  render(JSON.parse(document.getElementById("leaderboard-data").textContent));
  setTimeout(poll, POLL_MS);
})();
