// The timeline: loudness above, crying probability and episodes below, on one zoomable axis.
"use strict";

const SECONDS_UP_TO_MS = 3600 * 1000;
const BUCKET_MS = { seconds: 0, minutes: 60 * 1000, hours: 3600 * 1000 };
const LIVE_EVERY_MS = 3000;
const TAIL_MAX_POINTS = 900;  // then the range is loaded again, the tail summed up by the minute
const chart = document.getElementById("timeline");
let base = {};        // the query of the range picked (night=... or since=...&until=...)
let view = null;      // the zoomed-in range, when seconds are shown
let lastData = null;
let tail = null;      // seconds heard since the range was loaded, while it reaches now
let following = false;

function query(params) {
  return new URLSearchParams(params).toString();
}

function nightIso(date) {
  return date.toISOString().slice(0, 10);
}

function pickedRange() {
  const params = new URLSearchParams(location.search);
  if (params.get("from") && params.get("to")) {
    return { since: `${params.get("from")}T12:00:00`, until: `${nextDay(params.get("to"))}T12:00:00` };
  }
  if (params.get("night")) return { night: params.get("night") };
  return {};
}

function nextDay(day) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return nightIso(date);
}

async function load() {
  const params = view ? { since: view[0], until: view[1] } : base;
  const url = `/api/rooms/${mm.roomUrl(mm.room())}/timeline?${query(params)}`;
  const error = document.getElementById("timeline-error");
  try {
    const data = await mm.getJSON(url);
    error.hidden = true;
    lastData = data;
    tail = { after: shownUntil(data), times: [], level_dbfs: [], crying_probability: [] };
    draw(data);
    if (!view) listEpisodes(data.episodes);
    if (!view) tellTheNight(data).catch(() => {});
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
}

// A night shown whole: its story in words above the chart.
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function nightName(night) {
  // The evening and the morning after: "Sat 5 – Sun 6 Dec".
  const evening = new Date(`${night}T00:00:00Z`);
  const morning = new Date(evening);
  morning.setUTCDate(morning.getUTCDate() + 1);
  const day = (d) => `${DAYS[d.getUTCDay()]} ${d.getUTCDate()}`;
  const month = (d) => MONTHS[d.getUTCMonth()];
  const first = evening.getUTCMonth() === morning.getUTCMonth() ? day(evening) : `${day(evening)} ${month(evening)}`;
  return `${first} – ${day(morning)} ${month(morning)}`;
}

async function tellTheNight(data) {
  const story = document.getElementById("night-story");
  const hours = (Date.parse(data.until) - Date.parse(data.since)) / 3600000;
  story.hidden = true;
  if (Math.round(hours) !== 24 || data.since.slice(11, 13) !== "12") return;
  const night = data.since.slice(0, 10);
  const [n] = await mm.getJSON(`/api/rooms/${mm.roomUrl(mm.room())}/nights?last=${night}&n=1`);
  let said;
  if (n.n_episodes) {
    const wakeUps = n.n_episodes === 1 ? "1 wake-up" : `${n.n_episodes} wake-ups`;
    const times = n.n_episodes === 1 ? `at ${n.first_wake}` : `first at ${n.first_wake}, last at ${n.last_wake}`;
    said = `${wakeUps}, ${mm.duration(n.crying_min * 60)} crying, the longest ${mm.duration(n.longest_min * 60)}; ${times}`;
  } else {
    said = n.listened_h ? "no crying" : "nothing recorded";
  }
  document.getElementById("night-name").textContent = nightName(night);
  document.getElementById("night-said").textContent = said;
  story.hidden = false;
}

function draw(data) {
  const minutes = data.resolution !== "seconds";
  const per = data.resolution === "hours" ? "hour" : "minute";
  const traces = [
    {
      x: data.times, y: data.level_dbfs, name: minutes ? `loudness (${per} mean, dBFS)` : "loudness (dBFS)",
      type: "scattergl", mode: "lines", line: { color: "#4a6fa5", width: 1 }, yaxis: "y",
    },
    {
      x: data.times, y: data.crying_probability,
      name: minutes ? `crying (share of the ${per})` : "crying probability",
      type: "scattergl", mode: "lines", line: { color: "#c0392b", width: 1 }, yaxis: "y2",
    },
  ];
  if (minutes) {
    traces.splice(1, 0, {
      x: data.times, y: data.level_max_dbfs, name: `loudness (${per} max)`, type: "scattergl",
      mode: "lines", line: { color: "#9db4d6", width: 1 }, yaxis: "y",
    });
  }
  if (minutes && tail.times.length) {
    traces.push(
      {
        x: tail.times, y: tail.level_dbfs, name: "loudness (live, per second)", type: "scattergl",
        mode: "lines", line: { color: "#1f3f6e", width: 1 }, yaxis: "y",
      },
      {
        x: tail.times, y: tail.crying_probability, name: "crying (live, per second)",
        type: "scattergl", mode: "lines", line: { color: "#7b241c", width: 1 }, yaxis: "y2",
      },
    );
  }
  const shapes = data.episodes.map((e) => ({
    type: "rect", xref: "x", yref: "paper", x0: e.start, x1: e.end, y0: 0, y1: 0.45,
    fillcolor: "rgba(192, 57, 43, 0.18)", line: { width: 0 },
  }));
  const annotations = [];
  const namesByValue = new Map();  // equal thresholds share one line and one label: "on/off"
  for (const [name, value] of Object.entries(data.thresholds)) {
    namesByValue.set(value, [...(namesByValue.get(value) || []), name]);
  }
  for (const [value, names] of namesByValue) {
    const color = names.includes("on") ? "#c0392b" : "#e67e22";
    shapes.push({
      type: "line", xref: "paper", yref: "y2", x0: 0, x1: 1, y0: value, y1: value,
      line: { color, width: 1, dash: "dash" },
    });
    annotations.push({
      xref: "paper", x: 1, xanchor: "right", yref: "y2", y: value, yanchor: "bottom",
      text: `${names.join("/")} ${value.toFixed(2)}`, showarrow: false, font: { size: 10, color },
    });
  }
  const range = view || [data.since, data.until];
  const layout = {
    uirevision: "timeline", height: 520, margin: { l: 60, r: 20, t: 10, b: 40 },
    showlegend: true, legend: { orientation: "h", y: 1.08 },
    xaxis: { type: "date", range, domain: [0, 1], anchor: "y2" },
    yaxis: { title: { text: "dBFS" }, domain: [0.55, 1], range: [-90, 0] },
    yaxis2: { title: { text: "crying" }, domain: [0, 0.45], range: [0, 1.05] },
    shapes, annotations,
  };
  Plotly.react(chart, traces, layout, { responsive: true, displaylogo: false });
  const resolution = document.getElementById("resolution");
  resolution.dataset.resolution = data.resolution;
  const live = minutes && tail.times.length ? ` + ${tail.times.length} seconds live` : "";
  resolution.textContent = `${data.times.length} ${data.resolution}${live}`;
  document.getElementById("range-label").textContent =
    `${data.since.replace("T", " ").slice(0, 16)} – ${data.until.replace("T", " ").slice(0, 16)}`;
}

let shownEpisodes = [];

function listEpisodes(episodes) {
  // Newest first; the episode in progress (not stored until it ends) is the top row.
  shownEpisodes = episodes;
  const body = document.querySelector("#episodes tbody");
  body.replaceChildren();
  if (now.said && now.said.state === "crying") {
    const row = body.insertRow();
    row.className = "episode in-progress";
    mm.cell(row, `${mm.day(now.said.since)} ${mm.clock(now.said.since)}`);
    mm.cell(row, mm.duration(now.said.for_s)).id = "in-progress-duration";
    mm.cell(row, "crying now").colSpan = 3;
  }
  for (const e of [...episodes].reverse()) {
    const row = body.insertRow();
    row.className = "episode";
    const start = mm.cell(row, "");
    const link = document.createElement("a");
    link.href = e.url;
    link.textContent = `${mm.day(e.start)} ${mm.clock(e.start)}`;
    start.appendChild(link);
    mm.cell(row, mm.duration(e.duration_s));
    mm.cell(row, e.peak_probability.toFixed(2));
    mm.cell(row, e.mean_probability.toFixed(2));
    const play = mm.cell(row, "");
    if (e.has_audio) {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "none";
      audio.src = `/api/rooms/${mm.roomUrl(e.room)}/episodes/${e.id}/audio`;
      play.appendChild(audio);
    }
  }
}

function onZoom(event) {
  let range = null;
  if (event["xaxis.range[0]"]) range = [event["xaxis.range[0]"], event["xaxis.range[1]"]];
  else if (event["xaxis.range"]) range = event["xaxis.range"];
  if (event["xaxis.autorange"]) {
    view = null;
    load();
    return;
  }
  if (!range) return;
  range = range.map((t) => String(t).replace(" ", "T"));
  const span = new Date(range[1]) - new Date(range[0]);
  if (span <= SECONDS_UP_TO_MS) {
    view = range;
    load();
  } else if (view) {
    view = null;
    load();
  }
}

function pick(params) {
  const search = query(params);
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
  base = pickedRange();
  view = null;
  load();
}

function isLive() {
  if (!lastData) return false;
  const [since, until] = view || [lastData.since, lastData.until];
  return lastData.now >= since && lastData.now < until;
}

function shownUntil(data) {
  // The time of the last second drawn: its bucket's last millisecond (the hour under way: now),
  // or the range's start.
  const n = data.times.length;
  if (!n) return data.since;
  const last = new Date(`${data.times[n - 1]}Z`);  // local wall-clock times: no zone arithmetic
  const end = new Date(last.getTime() + Math.max(0, BUCKET_MS[data.resolution] - 1));
  const until = end.toISOString().slice(0, 23);
  return until < data.now ? until : data.now;
}

async function follow() {
  // Add the seconds heard since the last ones drawn, while the range shown reaches now.
  if (following || !isLive()) return;
  following = true;
  try {
    const url = `/api/rooms/${mm.roomUrl(mm.room())}/live?${query({ after: tail.after })}`;
    const fresh = await mm.getJSON(url);
    lastData.now = fresh.now;
    const target = lastData.resolution === "seconds" ? lastData : tail;
    for (const key of ["times", "level_dbfs", "crying_probability"]) target[key].push(...fresh[key]);
    if (fresh.times.length) tail.after = fresh.times[fresh.times.length - 1];
    const known = new Set(lastData.episodes.map((e) => e.id));
    const ended = fresh.episodes.filter((e) => !known.has(e.id));
    lastData.episodes.push(...ended);
    if (tail.times.length > TAIL_MAX_POINTS) await load();
    else if (fresh.times.length || ended.length) draw(lastData);
    if (ended.length && !view) listEpisodes(lastData.episodes);
    showHealth();
  } catch (e) {
    // a missed update: the next one asks again from the same second
  } finally {
    following = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  base = pickedRange();
  document.getElementById("tonight").addEventListener("click", () => pick({}));
  document.getElementById("last-night").addEventListener("click", () => {
    const now = lastData ? lastData.now : new Date().toISOString();
    const night = new Date(`${now.slice(0, 10)}T00:00:00Z`);  // tonight, if it is after noon
    night.setUTCDate(night.getUTCDate() - (Number(now.slice(11, 13)) < 12 ? 2 : 1));
    pick({ night: nightIso(night) });
  });
  document.getElementById("show-range").addEventListener("click", () => {
    const from = document.getElementById("from-night").value;
    const to = document.getElementById("to-night").value || from;
    if (from) pick({ from, to });
  });
  load().then(() => chart.on("plotly_relayout", onZoom));
  document.addEventListener("mm-now", () => { if (!view) listEpisodes(shownEpisodes); });
  setInterval(follow, LIVE_EVERY_MS);
});
