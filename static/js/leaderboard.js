// Leaderboard page: renders the ranked table (sortable by any column, in the browser, with the mouse or the
// keyboard) and three plotly charts (ranking and score distribution: from the board the page embeds; the scores
// over time with the record as a step line: from the history document, fetched apart), then polls the board's
// JSON with its ETag (an unchanged board costs a 304) and redraws, and fetches the history again, when a new score
// lands. The private board adds the shake-up: each row's public rank and its move, as two columns and a chart.
// Axes name the metric with its display scale as the table's heading does; a chart with nothing to draw gives way
// to a sentence saying so; each drawing is hidden from screen readers, the table beside it being its text.
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

  // A metric's name with its display scale, as the table's headings and the charts' axes read it (the server's
  // `selectors.metric_title`): "F1, mean over concepts (×100)"; the label alone when unscaled.
  function metricTitle(spec) {
    return spec.scale === 1 ? spec.label : spec.label + " (×" + spec.scale + ")";
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
      {key: "primary", label: metricTitle(primary), type: "num", first: primary.higher_is_better ? -1 : 1,
        value: function (r) { return r.primary; }},
    ], extra.map(function (c) {
      return {key: "metric:" + c.name, label: metricTitle(c), type: "num", first: c.higher_is_better ? -1 : 1, metric: c,
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

  // Each heading holds a button (the keyboard reaches it with Tab; Enter and Space press it), its sort state in
  // `aria-sort` on the active column. A click anywhere on the heading sorts too (it reaches the heading's
  // listener). Rebuilding the headings would drop the keyboard's focus: it goes back to the same column's button.
  function renderHead(cols) {
    const active = document.activeElement;
    const focused = active && head.contains(active) && active.closest("th") ? active.closest("th").dataset.key : null;
    head.replaceChildren.apply(head, cols.map(function (column) {
      const th = document.createElement("th");
      th.dataset.key = column.key;
      th.scope = "col";
      th.className = "sortable-heading";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      button.textContent = column.label;
      const sorted = sort.key === column.key;
      if (sorted) {
        th.setAttribute("aria-sort", sort.dir === 1 ? "ascending" : "descending");
        const arrow = document.createElement("span");
        arrow.className = "sort-arrow";
        arrow.setAttribute("aria-hidden", "true");
        arrow.textContent = sort.dir === 1 ? " ▲" : " ▼";
        button.appendChild(arrow);
      }
      th.appendChild(button);
      th.addEventListener("click", function () { onSort(column); });
      return th;
    }));
    const again = focused === null ? null : head.querySelector('th[data-key="' + CSS.escape(focused) + '"] button');
    if (again) again.focus();
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

  // No mode bar: its buttons would be focusable inside a drawing hidden from screen readers (the table is the
  // text alternative; dragging still zooms, a double click resets).
  const CONFIG = {displaylogo: false, displayModeBar: false, responsive: true};
  const HOUR_MS = 3600 * 1000;
  const INK = "#14213d", BLUE = "#2f6fde", GREY = "#9aa5b1";

  // Show a chart's figure when it has something to draw, else the sentence that says why not (never an empty
  // chart). Plotly draws only into a shown figure: a hidden one has no width to lay the chart out in.
  function showChart(id, hasData) {
    document.getElementById(id + "-figure").hidden = !hasData;
    const empty = document.getElementById(id + "-empty");
    if (empty) empty.hidden = hasData;
    if (!hasData) Plotly.purge(id);
    return hasData;
  }

  // Laid out for a phone: shorter names beside the bars, more room above the plot for the legend.
  function narrow(id) {
    return document.getElementById(id).clientWidth < 560;
  }

  // An axis title that fits along `pixels` (about 7 px a character): broken into lines between words.
  function axisTitle(text, pixels) {
    const room = Math.max(12, Math.floor(pixels / 7));
    const lines = [];
    text.split(" ").forEach(function (word) {
      const last = lines.length - 1;
      if (last >= 0 && (lines[last] + " " + word).length <= room) lines[last] += " " + word;
      else lines.push(word);
    });
    return {text: lines.join("<br>")};
  }

  // The width left for the plot beside the axis labels, for an x axis title.
  function plotWidth(id) {
    return document.getElementById(id).clientWidth - 90;
  }

  // A chart's title and, under it, its legend, both above the plot (the top margin leaves them room: the
  // legend takes several rows on a phone).
  function titleAndLegend(text, height) {
    return {
      title: {text: text, yref: "container", y: 1 - 8 / height, yanchor: "top"},
      legend: {orientation: "h", x: 0, xanchor: "left", yref: "container", y: 1 - 34 / height, yanchor: "top"},
    };
  }

  function lowest(values) { return values.reduce(function (a, b) { return Math.min(a, b); }, Infinity); }
  function highest(values) { return values.reduce(function (a, b) { return Math.max(a, b); }, -Infinity); }

  function drawRanking(board) {
    if (!showChart("chart-ranking", board.rows.length > 0)) return;
    const scale = board.primary.scale;
    const ordered = board.rows.slice().reverse();
    Plotly.react("chart-ranking", [{
      type: "bar", orientation: "h",
      x: ordered.map(function (r) { return r.primary * scale; }),
      y: ordered.map(function (r) {
        return "#" + r.rank + " " + shortLabel(r.label, narrow("chart-ranking") ? 14 : 28);
      }),
      customdata: ordered.map(function (r) { return formatScore(r.primary, scale); }),
      marker: {color: ordered.map(function (r) { return r.is_baseline ? GREY : BLUE; })},
      hovertemplate: "%{y}: %{customdata}<extra></extra>",
    }], {
      title: {text: "Ranking"}, margin: {l: 10, r: 20, t: 40, b: 50},
      xaxis: {title: axisTitle(metricTitle(board.primary), plotWidth("chart-ranking"))}, yaxis: {automargin: true},
      height: Math.max(260, 90 + 28 * ordered.length),
    }, CONFIG);
  }

  // Plotly's date format, in UTC as every date the board shows: "2025-05-01 12:34:56.789".
  function plotDate(ms) {
    return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
  }

  // The time axis: the points' span and a margin, at least an hour wide, so that points minutes (or
  // milliseconds) apart sit on an axis of hours and minutes, not of milliseconds.
  function timeRange(times) {
    const first = lowest(times), last = highest(times);
    const pad = Math.max((last - first) * 0.05, (HOUR_MS - (last - first)) / 2);
    return [plotDate(first - pad), plotDate(last + pad)];
  }

  // The record's steps: each team submission that beat the best so far (the server's `best`, in the metric's
  // direction; baselines never move it), with the team that set it.
  function recordSteps(teams) {
    const steps = [];
    teams.forEach(function (p) {
      if (p.best !== null && (steps.length === 0 || steps[steps.length - 1].best !== p.best)) {
        steps.push({time: p.time, best: p.best, team: p.team});
      }
    });
    return steps;
  }

  // The history's points with their times in milliseconds, split into teams' and baselines'.
  function historyPoints(history) {
    const points = history.map(function (p) { return Object.assign({time: Date.parse(p.t)}, p); });
    return {
      teams: points.filter(function (p) { return !p.baseline; }),
      baselines: points.filter(function (p) { return p.baseline; }),
      times: points.map(function (p) { return p.time; }),
    };
  }

  // The record as a step line ("hv": it holds until the next record), drawn on to the latest point in time.
  function recordTrace(steps, until, scale) {
    const held = steps.concat(steps.length ? [Object.assign({}, steps[steps.length - 1], {time: until})] : []);
    return {type: "scatter", mode: "lines", name: "record (best so far)", line: {shape: "hv", color: INK, width: 2.5},
      x: held.map(function (s) { return plotDate(s.time); }), y: held.map(function (s) { return s.best * scale; }),
      customdata: held.map(function (s) { return [formatScore(s.best, scale), s.team]; }),
      hovertemplate: "Record: %{customdata[0]} by %{customdata[1]}<extra></extra>"};
  }

  function pointsTrace(points, name, marker, scale) {
    return {type: "scatter", mode: "markers", name: name, marker: marker,
      x: points.map(function (p) { return plotDate(p.time); }), y: points.map(function (p) { return p.value * scale; }),
      text: points.map(function (p) { return p.team; }),
      customdata: points.map(function (p) { return formatScore(p.value, scale); }),
      hovertemplate: "%{text}: %{customdata}<br>%{x|%Y-%m-%d %H:%M:%S} UTC<extra></extra>"};
  }

  // The record's steps as a table: the chart's text alternative (the board's table holds each team's best).
  function renderRecordTable(steps, scale) {
    const body = document.getElementById("history-body");
    body.replaceChildren.apply(body, steps.map(function (step) {
      const tr = document.createElement("tr");
      cell(tr, plotDate(step.time).slice(0, 19), "when");
      cell(tr, step.team, "team");
      cell(tr, formatScore(step.best, scale), "score");
      return tr;
    }));
  }

  function drawHistory(board, history) {
    if (document.getElementById("charts").hidden || !showChart("chart-history", history.length > 0)) return;
    const scale = board.primary.scale;
    const found = historyPoints(history);
    const steps = recordSteps(found.teams);
    renderRecordTable(steps, scale);
    Plotly.react("chart-history", [
      recordTrace(steps, highest(found.times), scale),
      pointsTrace(found.teams, "submissions", {color: BLUE, size: 8, opacity: 0.7}, scale),
      pointsTrace(found.baselines, "baselines", {symbol: "diamond", color: GREY, size: 9}, scale),
    ].filter(function (trace) { return trace.x.length > 0; }), Object.assign(titleAndLegend("Scores over time", 380), {
      height: 380, margin: {l: 50, r: 20, t: narrow("chart-history") ? 82 : 62, b: 50},
      xaxis: {type: "date", title: {text: "Submitted (UTC)"}, range: timeRange(found.times)},
      yaxis: {title: axisTitle(metricTitle(board.primary), 380 - 140), automargin: true},
    }), CONFIG);
  }

  // The "nice" step (1, 2 or 5 times a power of ten) nearest to `raw`.
  function niceStep(raw) {
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const unit = raw / power;
    return power * (unit < 1.5 ? 1 : unit < 3.5 ? 2 : unit < 7.5 ? 5 : 10);
  }

  // The histogram's bins over the values' own range (scaled as the table shows them): about 5 to 20 bins of a
  // nice width, the first starting at a multiple of it, the last closed on the right; one value gets bins around it.
  function histogramBins(values) {
    let low = lowest(values), high = highest(values);
    if (high === low) {
      const half = low === 0 ? 0.5 : Math.abs(low) * 0.05;
      low -= half;
      high += half;
    }
    const size = niceStep((high - low) / Math.min(20, Math.max(5, Math.ceil(Math.sqrt(values.length)))));
    const start = Math.floor(low / size) * size;
    const count = Math.max(1, Math.ceil((high - start) / size - 1e-9));
    const counts = new Array(count).fill(0);
    values.forEach(function (v) {
      counts[Math.min(count - 1, Math.max(0, Math.floor((v - start) / size + 1e-9)))] += 1;
    });
    return {start: start, size: size, counts: counts};
  }

  // The histogram's data: every ranked team's primary score, and the baselines to mark on it (both scaled).
  function distribution(board) {
    const scale = board.primary.scale;
    return {
      values: board.rows.filter(function (r) { return !r.is_baseline; }).map(function (r) { return r.primary * scale; }),
      baselines: board.rows.filter(function (r) { return r.is_baseline; })
        .map(function (r) { return {label: shortLabel(r.label, 24), value: r.primary * scale}; }),
    };
  }

  // Baselines closer than `apart` as one mark, named by the first and how many more (labels a few pixels apart
  // would overprint; the table names them all).
  function nearBaselines(baselines, apart) {
    const marks = [];
    baselines.slice().sort(function (a, b) { return a.value - b.value; }).forEach(function (b) {
      const last = marks[marks.length - 1];
      if (last && b.value - last.value < apart) last.more += 1;
      else marks.push({label: b.label, value: b.value, more: 0});
    });
    return marks.map(function (m) { return {label: m.label + (m.more ? " (+" + m.more + ")" : ""), value: m.value}; });
  }

  // The baselines as dotted vertical lines, each named at its top.
  function baselineMarks(baselines) {
    return {
      shapes: baselines.map(function (b) {
        return {type: "line", xref: "x", yref: "paper", x0: b.value, x1: b.value, y0: 0, y1: 1,
          line: {color: GREY, dash: "dot"}};
      }),
      annotations: baselines.map(function (b) {
        return {xref: "x", yref: "paper", x: b.value, y: 1, text: b.label, showarrow: false,
          textangle: -90, xanchor: "right", yanchor: "top", font: {size: 10, color: "#5f6b7a"}};
      }),
    };
  }

  function drawDistribution(board) {
    const found = distribution(board);
    if (!showChart("chart-distribution", found.values.length > 0)) return;
    const bins = histogramBins(found.values);
    const digits = Math.max(0, -Math.floor(Math.log10(bins.size)));
    const edges = bins.counts.map(function (_, i) { return bins.start + i * bins.size; });
    const marks = baselineMarks(nearBaselines(found.baselines, bins.size / 2));
    const ends = edges.concat([bins.start + bins.counts.length * bins.size], found.baselines.map(function (b) {
      return b.value;
    }));
    const most = highest(bins.counts);
    Plotly.react("chart-distribution", [{
      type: "bar", name: "teams", marker: {color: BLUE, line: {color: "#fff", width: 1}},
      x: edges.map(function (edge) { return edge + bins.size / 2; }), y: bins.counts, width: bins.size,
      customdata: edges.map(function (edge) {
        return [edge.toFixed(digits), (edge + bins.size).toFixed(digits)];
      }),
      hovertemplate: "%{customdata[0]} to %{customdata[1]}: %{y} team(s)<extra></extra>",
    }], {
      title: {text: "Distribution of the teams' scores"}, margin: {l: 50, r: 20, t: 40, b: 50}, height: 300,
      xaxis: {title: axisTitle(metricTitle(board.primary), plotWidth("chart-distribution")),
        range: [lowest(ends) - bins.size / 2, highest(ends) + bins.size / 2]},
      // Whole teams, counted from 0: integer ticks only.
      yaxis: {title: {text: "Teams"}, range: [0, Math.max(1, most) * 1.15], tick0: 0,
        dtick: Math.max(1, Math.round(niceStep(Math.max(1, most) / 5))), tickformat: "d", fixedrange: true},
      shapes: marks.shapes, annotations: marks.annotations,
    }, CONFIG);
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
    if (!showChart("chart-shakeup", rows.length > 0)) return;
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

  // With no row at all, one sentence says so instead of the charts.
  function renderCharts(board) {
    if (typeof Plotly === "undefined") return;
    const scored = board.rows.length > 0;
    document.getElementById("charts").hidden = !scored;
    document.getElementById("charts-empty").hidden = scored;
    if (!scored) return;
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
