// The last 30 nights: a chart of minutes crying and wake-ups, and the nightly reports.
"use strict";

async function showNights() {
  const nights = await mm.getJSON(`/api/rooms/${mm.roomUrl(mm.room())}/nights?n=30`);
  const x = nights.map((n) => n.night);
  Plotly.react("nights-chart", [
    { x, y: nights.map((n) => n.crying_min), type: "bar", name: "minutes crying", marker: { color: "#c0392b" } },
    { x, y: nights.map((n) => n.n_episodes), type: "scatter", mode: "lines+markers", name: "wake-ups", yaxis: "y2", line: { color: "#4a6fa5" } },
  ], {
    height: 320, margin: { l: 50, r: 50, t: 10, b: 40 }, legend: { orientation: "h", y: 1.12 },
    xaxis: { type: "date" },
    yaxis: { title: { text: "minutes crying" }, rangemode: "tozero" },
    yaxis2: { title: { text: "wake-ups" }, overlaying: "y", side: "right", rangemode: "tozero" },
  }, { responsive: true, displaylogo: false });
  const body = document.querySelector("#nights tbody");
  body.replaceChildren();
  for (const n of nights.slice().reverse()) {
    const row = body.insertRow();
    row.className = "night";
    const link = document.createElement("a");
    link.href = `/rooms/${mm.roomUrl(mm.room())}?night=${n.night}`;
    link.textContent = n.night;
    mm.cell(row, "").appendChild(link);
    mm.cell(row, String(n.n_episodes));
    mm.cell(row, n.crying_min.toFixed(1));
    mm.cell(row, n.longest_min.toFixed(1));
    mm.cell(row, n.first_wake || "–");
    mm.cell(row, n.last_wake || "–");
    mm.cell(row, n.listened_h.toFixed(1));
  }
}

document.addEventListener("DOMContentLoaded", showNights);
