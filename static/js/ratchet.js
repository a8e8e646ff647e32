// The ratchet chart: per round, the best training set's score on that round's test data and the round's models'
// accuracy on its validated items, both from 0 to 1 on one axis, from the data the page embeds
// (apps/ratchets/charts.py). The table under the chart holds the same numbers, for screen readers and without
// this script.
(function () {
  "use strict";
  const holder = document.getElementById("ratchet-chart");
  const data = document.getElementById("ratchet-chart-data");
  if (!holder || !data || typeof Plotly === "undefined") return;
  const chart = JSON.parse(data.textContent);
  const rounds = chart.points.map(function (p) { return p.round; });

  function series(name, key, color, symbol) {
    return {
      type: "scatter", mode: "lines+markers", name: name, connectgaps: false,
      x: rounds, y: chart.points.map(function (p) { return p[key]; }),
      line: {color: color, width: 3}, marker: {color: color, size: 9, symbol: symbol},
      hovertemplate: "Round %{x}: %{y:.1%}",
    };
  }

  Plotly.react(holder, [
    series(chart.training_name, "training", "#2f6fde", "circle"),
    series(chart.suite_name, "suite", "#b45309", "square"),
  ], {
    margin: {l: 55, r: 15, t: 20, b: 45}, height: 340,
    xaxis: {title: {text: "Round"}, tickmode: "array", tickvals: rounds, zeroline: false, fixedrange: true},
    yaxis: {range: [0, 1.02], tickformat: ".0%", zeroline: false, fixedrange: true},
    legend: {orientation: "h", x: 0, y: -0.22, font: {size: 12}},
  }, {displaylogo: false, displayModeBar: false, responsive: true});
})();
