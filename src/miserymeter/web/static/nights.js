// The last 30 nights: a chart of crying and wake-ups, and the nightly reports. A night nobody
// listened to is "not listening", never 0 wake-ups.
"use strict";

const NIGHTS_MARGIN = { l: 50, r: 50, t: 10, b: 40 };

function shifted(night, hours) {
  // A night's date moved by `hours`, as a local wall-clock time (a bar spans its date ± 12 h).
  const at = new Date(Date.parse(`${night}T00:00:00Z`) + hours * 3600 * 1000);
  return at.toISOString().slice(0, 19);
}

function unheardRuns(nights) {
  // Consecutive nights nobody listened to, as gaps of the chart's date axis.
  const gaps = [];
  nights.forEach((n, i) => {
    if (n.listened_h) return;
    const end = shifted(n.night, 12);
    if (i && !nights[i - 1].listened_h) gaps[gaps.length - 1].end = end;
    else gaps.push({ start: shifted(n.night, -12), end });
  });
  return gaps;
}

function drawNights(nights) {
  const chart = document.getElementById("nights-chart");
  const heard = nights.some((n) => n.listened_h);
  const said = document.getElementById("nothing-recorded");
  said.hidden = heard;
  chart.hidden = !heard;
  said.textContent = `Nothing recorded in the last ${nights.length} nights: no listener heard this room.`;
  if (!heard) return;
  const x = nights.map((n) => n.night);
  const ifHeard = (value) => nights.map((n) => (n.listened_h ? value(n) : null));
  const range = [shifted(nights[0].night, -12), shifted(nights[nights.length - 1].night, 12)];
  const widthPx = chart.clientWidth - NIGHTS_MARGIN.l - NIGHTS_MARGIN.r;
  const gaps = mm.notListening(unheardRuns(nights), { range, widthPx });
  const text = ifHeard((n) => `${mm.duration(n.crying_s)} crying, heard ${mm.duration(n.listened_h * 3600)}`);
  Plotly.react(chart, [
    {
      x, y: ifHeard((n) => n.crying_s / 60), text, textposition: "none", type: "bar", name: "crying",
      marker: { color: "#c0392b" }, hovertemplate: "%{text}<extra></extra>",
    },
    {
      x, y: ifHeard((n) => n.n_episodes), type: "scatter", mode: "lines+markers", name: "wake-ups",
      yaxis: "y2", line: { color: "#4a6fa5" }, connectgaps: false,
    },
  ], {
    height: 320, margin: NIGHTS_MARGIN, legend: { orientation: "h", y: 1.12 },
    xaxis: { type: "date", range },
    yaxis: { title: { text: "crying (min)" }, rangemode: "tozero" },
    yaxis2: { title: { text: "wake-ups" }, overlaying: "y", side: "right", rangemode: "tozero", dtick: 1 },
    shapes: gaps.shapes, annotations: gaps.annotations,
  }, { responsive: true, displaylogo: false });
}

function listNights(nights) {
  const body = document.querySelector("#nights tbody");
  body.replaceChildren();
  for (const n of nights.slice().reverse()) {
    const row = body.insertRow();
    row.className = n.listened_h ? "night" : "night not-listening";
    const link = document.createElement("a");
    link.href = `/rooms/${mm.roomUrl(mm.room())}?night=${n.night}`;
    link.textContent = mm.nightName(n.night);
    mm.cell(row, "").appendChild(link);
    if (!n.listened_h) {
      mm.cell(row, "not listening").colSpan = 6;
      continue;
    }
    mm.cell(row, String(n.n_episodes), "wake-ups");
    mm.cell(row, mm.duration(n.crying_s), "crying");
    mm.cell(row, mm.duration(n.longest_s), "longest");
    mm.cell(row, n.first_wake || "–", "first");
    mm.cell(row, n.last_wake || "–", "last");
    mm.cell(row, mm.duration(n.listened_h * 3600), "heard");
  }
}

async function showNights() {
  const nights = await mm.getJSON(`/api/rooms/${mm.roomUrl(mm.room())}/nights?n=30`);
  drawNights(nights);
  listNights(nights);
}

document.addEventListener("DOMContentLoaded", showNights);
