// Challenge leaderboard page: re-ranks the teams in the browser when the viewer changes the task weights, from
// the per-task normalised scores the page embeds (apps/leaderboards/challenge_board.py computes them, and the
// official ranking with the organizers' weights, shown as it is). `combine` and `rank` repeat `combine_scores`
// and `_rank` of that module for the viewer's own weights.
// The DOM is built with textContent only.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("challenge-board-data").textContent);
  const division = data.divisions[0];
  const tasks = {};
  data.tasks.forEach(function (task) { tasks[task.id] = task; });
  const inputs = Array.prototype.slice.call(document.querySelectorAll("#weights input[data-task]"));
  const body = document.getElementById("challenge-board-body");
  const state = document.getElementById("weights-state");

  // The weighted mean of a team's normalised scores, summed in column order (a missing task counts 0).
  function combine(normalised, weights) {
    let total = 0.0;
    let weightSum = 0.0;
    for (let i = 0; i < normalised.length; i++) {
      total += weights[i] * (normalised[i] === null ? 0.0 : normalised[i]);
      weightSum += weights[i];
    }
    // Rounded as the server rounds (SCORE_DECIMALS), so that mathematically equal scores tie.
    return weightSum > 0 ? Number((total / weightSum).toFixed(12)) : 0.0;
  }

  // Higher score first; within equal scores the team whose latest counted submission came first, then by name
  // (plain code-point order, as the server sorts). Equal scores share a rank.
  function rank(rows) {
    rows.sort(function (a, b) {
      if (a.score !== b.score) return b.score - a.score;
      if (a.last_submitted_at !== b.last_submitted_at) return a.last_submitted_at < b.last_submitted_at ? -1 : 1;
      if (a.team !== b.team) return a.team < b.team ? -1 : 1;
      return 0;
    });
    rows.forEach(function (row, index) {
      row.rank = index > 0 && rows[index - 1].score === row.score ? rows[index - 1].rank : index + 1;
    });
    return rows;
  }

  // The weight of each column from the inputs; an empty or invalid input counts as the organizers' weight.
  function currentWeights() {
    const byTask = {};
    let custom = false;
    inputs.forEach(function (input) {
      const task = tasks[input.dataset.task];
      const value = input.value === "" ? NaN : Number(input.value);
      const valid = isFinite(value) && value >= 0;
      input.classList.toggle("invalid", !valid);
      byTask[input.dataset.task] = valid ? value : task.weight;
      if (valid && value !== task.weight) custom = true;
    });
    return {weights: division.columns.map(function (id) { return byTask[id]; }), custom: custom};
  }

  function cell(tr, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    tr.appendChild(td);
    return td;
  }

  function teamLink(row) {
    const link = document.createElement("a");
    const params = new URLSearchParams({division: division.slug, split: data.split, team: String(row.team_id)});
    link.href = "?" + params.toString() + "#breakdown";
    link.textContent = row.team;
    return link;
  }

  function render(rows) {
    const trs = rows.map(function (row) {
      const tr = document.createElement("tr");
      tr.dataset.team = row.team_id;
      cell(tr, row.rank, "rank");
      cell(tr, "", "team").appendChild(teamLink(row));
      cell(tr, row.score.toFixed(4), "score");
      row.normalised.forEach(function (value) { cell(tr, value === null ? "–" : value.toFixed(3), "metric"); });
      return tr;
    });
    if (trs.length === 0) {
      const tr = document.createElement("tr");
      cell(tr, "No team is ranked yet.").colSpan = 3 + division.columns.length;
      trs.push(tr);
    }
    body.replaceChildren.apply(body, trs);
    drawRanking(rows);
  }

  function recompute() {
    const chosen = currentWeights();
    // The organizers' weights: the server's ranking as it is (the official one, to the last bit).
    const rows = chosen.custom ? rank(division.rows.map(function (row) {
      return Object.assign({}, row, {score: combine(row.normalised, chosen.weights)});
    })) : division.rows;
    render(rows);
    state.textContent = chosen.custom ? "Showing your weights (not the official ranking)." : "Showing the organizers' weights.";
    body.closest("table").classList.toggle("custom-weights", chosen.custom);
  }

  // No mode bar: its buttons would be focusable inside a drawing hidden from screen readers (the table is the
  // text alternative).
  const CONFIG = {displaylogo: false, displayModeBar: false, responsive: true};

  // A name cut to `chars` characters for an axis (the hover and the table show it whole).
  function shortLabel(text, chars) {
    return text.length > chars ? text.slice(0, chars - 1) + "…" : text;
  }

  // With no team ranked, one sentence instead of an empty chart. Plotly draws only into a shown figure.
  function drawRanking(rows) {
    if (typeof Plotly === "undefined") return;
    const ranked = rows.length > 0;
    document.getElementById("chart-challenge-figure").hidden = !ranked;
    document.getElementById("chart-challenge-empty").hidden = ranked;
    if (!ranked) { Plotly.purge("chart-challenge"); return; }
    const ordered = rows.slice().reverse();
    Plotly.react("chart-challenge", [{
      type: "bar", orientation: "h", marker: {color: "#2f6fde"},
      x: ordered.map(function (r) { return r.score; }),
      y: ordered.map(function (r) { return "#" + r.rank + " " + shortLabel(r.team, 28); }),
      text: ordered.map(function (r) { return r.team; }), textposition: "none",
      hovertemplate: "%{text}: %{x:.4f}<extra></extra>",
    }], {title: {text: "Challenge ranking"}, margin: {l: 10, r: 20, t: 40, b: 50},
      xaxis: {title: {text: "Score (weighted mean of normalised scores)"}, range: [0, 1]},
      yaxis: {automargin: true}, height: Math.max(260, 90 + 28 * ordered.length)},
    CONFIG);
  }

  function drawBreakdown() {
    const element = document.getElementById("breakdown-data");
    if (!element || typeof Plotly === "undefined") return;
    const breakdown = JSON.parse(element.textContent);
    const items = breakdown.tasks;
    const titles = items.map(function (t) { return shortLabel(t.title, 24); });
    Plotly.react("chart-breakdown", [
      {type: "bar", name: "normalised score", x: titles, y: items.map(function (t) { return t.normalised; }),
        text: items.map(function (t) { return t.rank === null ? "not ranked" : "rank " + t.rank; }),
        textposition: "none", hovertemplate: "%{x}: %{y:.3f} (%{text})<extra></extra>", marker: {color: "#2f6fde"}},
      {type: "bar", name: "share of the score", x: titles, y: items.map(function (t) { return t.contribution; }),
        marker: {color: "#9aa5b1"}, hovertemplate: "%{x}: %{y:.4f}<extra></extra>"},
    ], {title: {text: "Per task: " + shortLabel(breakdown.team, 28)}, barmode: "group",
      margin: {l: 60, r: 20, t: 40, b: 80}, legend: {orientation: "h", x: 0, y: 1.02, yanchor: "bottom"},
      xaxis: {automargin: true}, yaxis: {title: {text: "From 0 to 1"}, range: [0, 1]}, height: 340},
    CONFIG);
  }

  inputs.forEach(function (input) { input.addEventListener("input", recompute); });
  document.getElementById("weights-reset").addEventListener("click", function () {
    inputs.forEach(function (input) { input.value = String(tasks[input.dataset.task].weight); });
    recompute();
  });
  recompute();
  drawBreakdown();
})();
