// Calibration: the quiet room's level, the reviewed clips' scores, the recommended thresholds.
"use strict";

const QUIET_S = 30;
const STORE_LAG_S = 3;  // the listener stores each second a moment after it ends
const api = () => `/api/rooms/${mm.roomUrl(mm.room())}`;

const dbfs = (value) => (value === null ? "–" : `${value.toFixed(1)} dBFS`);
const percent = (share) => `${(100 * share).toFixed(0)} %`;

async function measure(params) {
  const verdict = document.getElementById("quiet-verdict");
  try {
    showQuiet(await mm.getJSON(`${api()}/quiet?${new URLSearchParams(params)}`));
  } catch (error) {
    verdict.textContent = error.message;
    verdict.className = "error";
  }
}

function gateText(q) {
  if (q.gate_db === null) return "none (no_gate): the model runs on every window";
  if (q.gate_dbfs === null) return `${q.gate_db} dB above the floor`;
  return `the model runs above ${dbfs(q.gate_dbfs)} (floor + ${q.gate_db} dB): ` +
    `${(100 * q.share_above_gate).toFixed(1)} % of these seconds`;
}

function showQuiet(q) {
  const rows = [
    ["period", `${mm.when(q.since)} – ${mm.when(q.until).slice(11)} (${q.n_seconds} s stored)`],
    ["noise floor (the quietest second)", dbfs(q.floor_dbfs)],
    ["median", dbfs(q.median_dbfs)],
    ["95 % of the seconds below", dbfs(q.p95_dbfs)],
    ["listen's gate", gateText(q)],
  ];
  const body = document.querySelector("#quiet-facts tbody");
  body.replaceChildren();
  for (const [name, value] of rows) {
    const row = body.insertRow();
    mm.cell(row, name);
    mm.cell(row, value);
  }
  const verdict = document.getElementById("quiet-verdict");
  verdict.textContent = q.verdict;
  verdict.className = q.ok ? "ok" : "error";
  verdict.dataset.ok = String(q.ok);
}

function measurePicked() {
  const from = document.getElementById("quiet-from").value;
  const to = document.getElementById("quiet-to").value;
  if (from && to) return measure({ since: from, until: to });
  return measure({ last_s: document.getElementById("quiet-last").value });
}

async function keepQuiet() {
  const button = document.getElementById("keep-quiet");
  const countdown = document.getElementById("quiet-countdown");
  const health = await mm.getJSON(`${api()}/health`);
  if (health.status !== "listening" || !health.last_heard) {
    countdown.textContent = "The listener is not running: the latest 30 s stored instead.";
    return measure({ last_s: QUIET_S });
  }
  // The next 30 s after the last second stored, on the server's clock.
  const since = new Date(Date.parse(health.last_heard) + 1000);
  const until = new Date(since.getTime() + QUIET_S * 1000);
  button.disabled = true;
  for (let left = QUIET_S + STORE_LAG_S; left > 0; left--) {
    countdown.textContent = `Keep the room quiet: ${left} s`;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  countdown.textContent = "Measured while you kept the room quiet.";
  button.disabled = false;
  return measure({ since: since.toISOString(), until: until.toISOString() });
}

async function showCalibration() {
  const all = document.getElementById("all-clips").checked;
  const summary = document.getElementById("clips-summary");
  let c;
  try {
    c = await mm.getJSON(`${api()}/calibration?clips=${all ? "all" : "reviewed"}`);
  } catch (error) {
    summary.textContent = error.message;
    return;
  }
  const newest = c.n_found > c.n_scored ? ` (the newest ${c.n_scored} of ${c.n_found})` : "";
  const unreadable = c.n_unreadable ? `; ${c.n_unreadable} could not be read` : "";
  summary.textContent = `${c.n_crying} crying and ${c.n_other} other episode(s) ` +
    `(${c.n_crying_clips} and ${c.n_other_clips} clips) in ${c.data_dir}${newest}, scored by ` +
    `the model, each episode by its highest clip${unreadable}.`;
  drawHistogram(c);
  showThresholds(c);
}

function drawHistogram(c) {
  const edges = c.histogram.edges;
  const x = edges.slice(0, -1).map((edge, k) => (edge + edges[k + 1]) / 2);
  const width = edges[1] - edges[0];
  const bars = (name, y, color) => ({
    x, y, name, type: "bar", width, opacity: 0.65, marker: { color },
  });
  const marks = [[`now ${c.current.on.toFixed(2)}`, c.current.on, "#7f8c8d", "dash"]];
  if (c.recommended) {
    marks.push([`recommended ${c.recommended.on.toFixed(2)}`, c.recommended.on, "#27ae60", "solid"]);
  }
  const shapes = marks.map(([, value, color, dash]) => ({
    type: "line", xref: "x", yref: "paper", x0: value, x1: value, y0: 0, y1: 1,
    line: { color, width: 2, dash },
  }));
  const annotations = marks.map(([text, value, color], k) => ({
    xref: "x", x: value, yref: "paper", y: 1 - 0.08 * k, xanchor: "left", text, showarrow: false,
    font: { size: 11, color },
  }));
  Plotly.react("histogram", [
    bars(`crying (${c.n_crying})`, c.histogram.crying, "#c0392b"),
    bars(`everything else (${c.n_other})`, c.histogram.other, "#4a6fa5"),
  ], {
    height: 300, barmode: "overlay", margin: { l: 50, r: 20, t: 10, b: 45 },
    legend: { orientation: "h", y: 1.12 }, shapes, annotations,
    xaxis: { title: { text: "crying probability (an episode's highest clip)" }, range: [0, 1] },
    yaxis: { title: { text: "episodes" }, rangemode: "tozero" },
  }, { responsive: true, displaylogo: false });
  document.getElementById("histogram").dataset.ready = "true";
}

function showThresholds(c) {
  const text = document.getElementById("recommendation");
  const config = document.getElementById("config-lines");
  const table = document.getElementById("candidates");
  document.getElementById("estimate").textContent = c.recommended ? c.explanation : "";
  config.hidden = table.hidden = !c.recommended;
  if (!c.recommended) {
    text.textContent = c.explanation;
    return;
  }
  const r = c.recommended;
  text.textContent = `Recommended: on_probability ${r.on.toFixed(2)}, off_probability ` +
    `${r.off.toFixed(2)} (now ${c.current.on.toFixed(2)} and ${c.current.off.toFixed(2)}): the ` +
    `threshold that best separates your ${c.n_crying} crying episodes from the ${c.n_other} ` +
    "others. " +
    "Paste these lines into listen's config file (listen.toml) and restart listen:";
  config.textContent = r.config;
  const body = table.querySelector("tbody");
  body.replaceChildren();
  for (const t of c.candidates) {
    const row = body.insertRow();
    const marks = [t.on === r.on ? "recommended" : "", t.on === c.current.on ? "now" : ""];
    row.className = `candidate ${t.on === r.on ? "recommended" : ""}`;
    const note = marks.filter(Boolean).join(", ");
    mm.cell(row, `${t.on.toFixed(2)}${note ? ` (${note})` : ""}`);
    mm.cell(row, `${t.n_missed} of ${c.n_crying} (${percent(t.missed_share)})`);
    mm.cell(row, `${t.n_other_above} of ${c.n_other} (${percent(t.false_share)})`);
    mm.cell(row, t.false_alarms_per_night === null ? "–" : t.false_alarms_per_night.toFixed(1));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("measure").addEventListener("click", measurePicked);
  document.getElementById("keep-quiet").addEventListener("click", () => {
    keepQuiet().catch((error) => {
      document.getElementById("quiet-countdown").textContent = error.message;
      document.getElementById("keep-quiet").disabled = false;
    });
  });
  document.getElementById("all-clips").addEventListener("change", showCalibration);
  measure({ last_s: 600 });
  showCalibration();
});
