// The Analyze chart: reads its data from the #chart element's data-figure attribute
// (JSON, escaped by the server) and draws it with the Plotly bundled by occur.
"use strict";

// Plotly reads a small subset of HTML in names and labels; a value from outside must
// show as typed, never become markup, so every label is entity-escaped first.
function plain(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function draw() {
  const node = document.getElementById("chart");
  if (!node || !window.Plotly) return;
  const figure = JSON.parse(node.dataset.figure);
  const many = figure.series.length > 1;
  const traces = figure.series.map((series) => ({
    type: "scatter",
    mode: figure.x.length > 60 ? "lines" : "lines+markers",
    name: plain(series.name),
    x: figure.x,
    y: series.y,
    hovertemplate: "%{x}: %{y:,}<extra>" + plain(series.name) + "</extra>",
  }));
  const layout = {
    margin: { t: 10, r: 10, b: 40, l: 50 },
    showlegend: many,
    legend: { orientation: "h", y: -0.2 },
    xaxis: { type: "date", tickformat: figure.interval === "month" ? "%b %Y" : "%-d %b" },
    yaxis: { rangemode: "tozero", title: { text: plain(figure.metric) } },
    hovermode: "x unified",
  };
  window.Plotly.newPlot(node, traces, layout, { displaylogo: false, responsive: true });
}

function syncRangeFields() {
  const range = document.querySelector("[data-range]");
  if (!range) return;
  const custom = range.value === "custom";
  for (const field of document.querySelectorAll("[data-custom]")) field.hidden = !custom;
}

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-range]")) syncRangeFields();
});
// A unique breakdown's "Other" and "(no value)" lines are counted after the page shows
// (they are its slowest counts); until then, and without script, they link to the page
// counted in full. A line whose count is 0 goes, as the server leaves such lines out.
async function fillLaterLines() {
  const table = document.querySelector("table[data-rest]");
  if (!table) return;
  const rows = table.querySelectorAll("tr[data-later]");
  for (const row of rows) row.querySelector("td.num").setAttribute("aria-busy", "true");
  try {
    const response = await fetch(table.dataset.rest, { credentials: "same-origin" });
    if (!response.ok) return;
    const counts = await response.json();
    for (const row of rows) {
      const count = counts[row.dataset.later];
      if (count === 0) row.remove();
      else row.querySelector("td.num").textContent = Number(count).toLocaleString("en-US");
    }
  } finally {
    for (const row of rows) row.querySelector("td.num")?.removeAttribute("aria-busy");
  }
}

syncRangeFields();
draw();
fillLaterLines();
