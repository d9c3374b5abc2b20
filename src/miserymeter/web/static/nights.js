// The last 30 nights: a chart of crying and wake-ups, and the nightly reports. A night nobody
// listened to is "not listening", never 0 wake-ups.
"use strict";

const NIGHTS_MARGIN = { l: 50, r: 50, t: 10, b: 40 };
const COLORS = { crying: "#c0392b", wakeUps: "#4a6fa5" };
// Each y axis has at most 4 ticks above 0. The crying axis: the smallest step (minutes) that
// reaches the worst night, labelled as durations: "30 min", "1 h 30 min", not a bare 90.
const CRYING_STEPS_MIN = [1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360];  // 4 x 6 h: a day
const AXIS_TICKS = 4;
const WEEK_MS = 7 * 24 * 3600 * 1000;

function shifted(night, hours) {
  // A night's date moved by `hours`, as a local wall-clock time (a bar spans its date ± 12 h).
  const at = new Date(Date.parse(`${night}T00:00:00Z`) + hours * 3600 * 1000);
  return at.toISOString().slice(0, 19);
}

function unheardRuns(nights) {
  // Consecutive nights nobody listened to, as gaps of the chart's date axis.
  const gaps = [];
  nights.forEach((n, i) => {
    if (n.listened_s) return;
    const end = shifted(n.night, 12);
    if (i && !nights[i - 1].listened_s) gaps[gaps.length - 1].end = end;
    else gaps.push({ start: shifted(n.night, -12), end });
  });
  return gaps;
}

function cryingAxis(topMin) {
  // Ticks as durations, the worst night just below the top: "0", "30 min", "1 h", "1 h 30 min".
  const step = CRYING_STEPS_MIN.find((s) => s * AXIS_TICKS >= topMin) ?? CRYING_STEPS_MIN.at(-1);
  const n = Math.max(1, Math.ceil(topMin / step));
  const tickvals = Array.from({ length: n + 1 }, (_, k) => k * step);
  const ticktext = tickvals.map((m) => (m ? mm.duration(m * 60) : "0"));
  return { tickmode: "array", tickvals, ticktext, range: [0, 1.05 * n * step] };
}

function nightSaid(n) {
  // What a tap on a night shows: its name, its crying, its wake-ups, how long it was heard.
  const crying = n.crying_s ? `${mm.duration(n.crying_s)} crying` : "no crying";
  const wakeUps = n.n_episodes === 1 ? "1 wake-up" : `${n.n_episodes} wake-ups`;
  return [mm.nightName(n.night), crying, wakeUps, `heard ${mm.duration(n.listened_s)}`].join("<br>");
}

function drawNights(nights) {
  const chart = document.getElementById("nights-chart");
  const heard = nights.some((n) => n.listened_s);
  const said = document.getElementById("nothing-recorded");
  said.hidden = heard;
  chart.hidden = !heard;
  said.textContent = `Nothing recorded in the last ${nights.length} nights: no listener heard this room.`;
  if (!heard) return;
  const x = nights.map((n) => n.night);
  const ifHeard = (value) => nights.map((n) => (n.listened_s ? value(n) : null));
  const last = nights[nights.length - 1].night;
  const range = [shifted(nights[0].night, -12), shifted(last, 12)];
  const widthPx = chart.clientWidth - NIGHTS_MARGIN.l - NIGHTS_MARGIN.r;
  const gaps = mm.notListening(unheardRuns(nights), { range, widthPx });
  const text = ifHeard(nightSaid);
  const hover = { text, hovertemplate: "%{text}<extra></extra>" };
  const mostWakeUps = Math.max(...nights.map((n) => n.n_episodes));
  Plotly.react(chart, [
    {
      x, y: ifHeard((n) => n.crying_s / 60), textposition: "none", type: "bar", name: "crying",
      marker: { color: COLORS.crying }, ...hover,
    },
    {
      x, y: ifHeard((n) => n.n_episodes), type: "scatter", mode: "lines+markers", name: "wake-ups",
      yaxis: "y2", line: { color: COLORS.wakeUps }, connectgaps: false, ...hover,
    },
  ], {
    height: 320, margin: NIGHTS_MARGIN, legend: { orientation: "h", y: 1.12 },
    hoverlabel: { align: "left" },
    // A tick a week, on the last night and back: "30 Nov", as the nights below are named.
    xaxis: { type: "date", range, tick0: last, dtick: WEEK_MS, tickformat: "%-d %b" },
    yaxis: {
      title: { text: "crying", font: { color: COLORS.crying } },
      ...cryingAxis(Math.max(...nights.map((n) => n.crying_s)) / 60), automargin: true,
    },
    yaxis2: {
      title: { text: "wake-ups", font: { color: COLORS.wakeUps } }, overlaying: "y", side: "right",
      rangemode: "tozero", dtick: Math.max(1, Math.ceil(mostWakeUps / AXIS_TICKS)),
      showgrid: false, automargin: true,
    },
    shapes: gaps.shapes, annotations: gaps.annotations,
  }, { responsive: true, displaylogo: false });
}

function listNights(nights) {
  const body = document.querySelector("#nights tbody");
  body.replaceChildren();
  for (const n of nights.slice().reverse()) {
    const row = body.insertRow();
    row.className = n.listened_s ? "night" : "night not-listening";
    const link = document.createElement("a");
    link.href = `/rooms/${mm.roomUrl(mm.room())}?night=${n.night}`;
    link.textContent = mm.nightName(n.night);
    mm.cell(row, "").appendChild(link);
    if (!n.listened_s) {
      mm.cell(row, "not listening").colSpan = 6;
      continue;
    }
    mm.cell(row, String(n.n_episodes), "wake-ups");
    mm.cell(row, mm.duration(n.crying_s), "crying");
    mm.cell(row, mm.duration(n.longest_s), "longest");
    mm.cell(row, n.first_wake || "–", "first");
    mm.cell(row, n.last_wake || "–", "last");
    mm.cell(row, mm.duration(n.listened_s), "heard");
  }
}

async function showNights() {
  const nights = await mm.getJSON(`/api/rooms/${mm.roomUrl(mm.room())}/nights?n=30`);
  drawNights(nights);
  listNights(nights);
}

document.addEventListener("DOMContentLoaded", showNights);
