// The timeline: loudness above, crying and episodes below, on one zoomable axis; gaps as gaps.
"use strict";

const SECONDS_UP_TO_MS = 3600 * 1000;
const BUCKET_MS = { seconds: 0, minutes: 60 * 1000, hours: 3600 * 1000 };
const STEP_MS = { ...BUCKET_MS, seconds: 1000 };
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
let storyHeard = true;  // whether the night told had been heard (else it is told again)
let toldUnstored = null;  // the episode not yet stored that the story counts, and the state
let cryingSince = null;  // the start of the last crying seen, until the listener stores it

function unstoredEpisode(data) {
  // The start of the night's episode in progress (or in its merge gap), which the listener
  // stores only once it ends: null when there is none, or it is stored.
  if (now.said && now.said.open_episode) cryingSince = now.said.open_episode.start;
  if (now.said && now.said.state === "not listening") cryingSince = null;
  if (!cryingSince || isStored(cryingSince, data.episodes)) return (cryingSince = null);
  const inNight = cryingSince.slice(0, 19) >= data.since.slice(0, 19) && data.now < data.until;
  return inNight ? cryingSince : null;
}

function unstoredTold(data) {
  const since = unstoredEpisode(data);
  return since && `${since} ${now.said.state}`;
}

async function tellTheNight(data) {
  const story = document.getElementById("night-story");
  const hours = (Date.parse(data.until) - Date.parse(data.since)) / 3600000;
  if (Math.round(hours) !== 24 || data.since.slice(11, 13) !== "12") {
    story.hidden = true;
    return;
  }
  const night = data.since.slice(0, 10);
  toldUnstored = unstoredTold(data);
  const unstored = unstoredEpisode(data);
  const [n] = await mm.getJSON(`/api/rooms/${mm.roomUrl(mm.room())}/nights?last=${night}&n=1`);
  storyHeard = Boolean(n.listened_s);
  const yet = data.now < data.until ? " yet" : "";  // the night under way
  let said;
  if (unstored) {
    said = storySoFar(n, unstored);
  } else if (n.n_episodes) {
    const wakeUps = n.n_episodes === 1 ? "1 wake-up" : `${n.n_episodes} wake-ups`;
    const times = n.n_episodes === 1 ? `at ${n.first_wake}` : `first at ${n.first_wake}, last at ${n.last_wake}`;
    said = `${wakeUps}, ${mm.duration(n.crying_s)} crying, the longest ${mm.duration(n.longest_s)}; ${times}`;
  } else if (n.listened_s || data.times.length || tail.times.length) {
    said = yet ? "no wake-ups yet" : "no crying";  // seconds heard live count before their minute
  } else {
    said = `nothing recorded${yet}`;
  }
  document.getElementById("night-name").textContent = mm.nightName(night);
  document.getElementById("night-said").replaceChildren(...[said].flat());
  story.hidden = false;
  drawNow();  // the stop-watch, at once
}

function storySoFar(n, since) {
  // "2 wake-ups so far, crying now for 3 min; first at 21:05": the stored ones and this one.
  const count = n.n_episodes + 1;
  const wakeUps = `${count === 1 ? "1 wake-up" : `${count} wake-ups`} so far, `;
  const first = n.n_episodes ? `; first at ${n.first_wake}` : "";
  if (!(now.said && now.said.state === "crying")) return [`${wakeUps}the last at ${since.slice(11, 16)}${first}`];
  const forHowLong = document.createElement("span");
  forHowLong.className = "crying-for";
  return [`${wakeUps}crying now for `, forHowLong, first];
}

// Crying per point: a probability each second; per minute, the seconds counted as crying;
// per hour, the minutes (what a parent reads, never a share against per-second thresholds).
const CRYING = {
  seconds: { title: "crying (probability)", top: 1.12, mark: 1.06 },
  minutes: { title: "crying (s per minute)", top: 68, mark: 64, unit_s: 1 },
  hours: { title: "crying (min per hour)", top: 68, mark: 64, unit_s: 60 },
};
const COLORS = { loudness: "#4a6fa5", loudest: "#9db4d6", live: "#1f3f6e", crying: "#c0392b" };

function broken(times, values, stepMs) {
  // A null where two points are further apart than 1.5 steps: no line joins across a gap.
  const x = [];
  const y = [];
  times.forEach((t, i) => {
    if (i && Date.parse(`${t}Z`) - Date.parse(`${times[i - 1]}Z`) > 1.5 * stepMs) {
      x.push(t);
      y.push(null);
    }
    x.push(t);
    y.push(values[i]);
  });
  return { x, y };
}

function line(times, values, stepMs, style) {
  // Small markers too: a point between two gaps has no line to show it.
  return {
    ...broken(times, values, stepMs), type: "scattergl", mode: "lines+markers", connectgaps: false,
    marker: { size: 3, color: style.line.color }, ...style,
  };
}

function loudnessTraces(data) {
  const step = STEP_MS[data.resolution];
  const traces = [line(data.times, data.level_dbfs, step, {
    name: "loudness", legendgroup: "loudness", line: { color: COLORS.loudness, width: 1 },
    hovertemplate: "%{y:.0f} dBFS<extra>loudness</extra>",
  })];
  if (data.level_max_dbfs) {
    traces.push(line(data.times, data.level_max_dbfs, step, {
      name: "loudest", legendgroup: "loudness", showlegend: false,
      line: { color: COLORS.loudest, width: 1 }, hovertemplate: "%{y:.0f} dBFS<extra>loudest</extra>",
    }));
  }
  if (data.resolution !== "seconds" && tail.times.length) {
    traces.push(line(tail.times, tail.level_dbfs, STEP_MS.seconds, {
      name: "loudness", legendgroup: "loudness", showlegend: !data.times.length,  // one entry
      line: { color: COLORS.live, width: 1 }, hovertemplate: "%{y:.0f} dBFS<extra>live</extra>",
    }));
  }
  return traces;
}

function cryingTraces(data) {
  if (data.resolution === "seconds") {
    return [line(data.times, data.crying_probability, STEP_MS.seconds, {
      name: "crying", line: { color: COLORS.crying, width: 1 }, yaxis: "y2",
      hovertemplate: "%{y:.2f}<extra>crying</extra>",
    })];
  }
  const { x, crying_s } = cryingPerStep(data);
  const unit_s = CRYING[data.resolution].unit_s;
  return [{
    x, y: crying_s.map((s) => s / unit_s), text: crying_s.map((s) => `${mm.duration(s)} crying`),
    type: "bar", textposition: "none", name: "crying", yaxis: "y2", offset: 0,
    width: STEP_MS[data.resolution],
    marker: { color: COLORS.crying }, hovertemplate: "%{text}<extra></extra>",
  }];
}

function cryingPerStep(data) {
  // The seconds counted as crying per minute (or hour); the live seconds added to theirs.
  const floor = data.resolution === "hours"
    ? (t) => `${t.slice(0, 13)}:00:00.000` : (t) => `${t.slice(0, 16)}:00.000`;
  const x = [...data.times];
  const crying_s = [...data.crying_s];
  tail.times.forEach((t, i) => {
    const counted = (tail.crying_probability[i] ?? 0) >= data.crying_from_probability ? 1 : 0;
    if (x.length && floor(x[x.length - 1]) === floor(t)) crying_s[crying_s.length - 1] += counted;
    else {
      x.push(floor(t));
      crying_s.push(counted);
    }
  });
  return { x, crying_s };
}

function thresholdTraces(data) {
  // Per second only, where a probability is drawn: unlabelled lines, named on hover.
  if (data.resolution !== "seconds") return [];
  const namesByValue = new Map();  // equal thresholds share one line: "on/off"
  for (const [name, value] of Object.entries(data.thresholds)) {
    namesByValue.set(value, [...(namesByValue.get(value) || []), name]);
  }
  return [...namesByValue].map(([value, names]) => ({
    x: [data.since, data.until], y: [value, value], type: "scatter", mode: "lines", yaxis: "y2",
    name: `threshold ${names.join("/")}`, showlegend: false, hoverinfo: "skip",
    line: { color: names.includes("on") ? "#c0392b" : "#e67e22", width: 1, dash: "dash" },
  }));
}

function episodeTrace(data) {
  // A mark above each episode, at its start: click (or tap) it to listen.
  const episodes = data.episodes;
  return {
    x: episodes.map((e) => e.start), y: episodes.map(() => CRYING[data.resolution].mark),
    customdata: episodes.map((e) => e.url),
    text: episodes.map((e) => `crying at ${e.start.slice(11, 16)}, ${mm.duration(e.duration_s)}`),
    type: "scatter", mode: "markers", name: "episodes", yaxis: "y2",
    marker: { symbol: "triangle-down", size: 16, color: "#7b241c" },
    hovertemplate: "%{text}<extra>click to listen</extra>",
  };
}

function nothingRecorded(data) {
  // A whole range never heard: said in words, not a blank chart.
  const empty = !view && !data.times.length && !tail.times.length && !data.episodes.length;
  const said = document.getElementById("nothing-recorded");
  said.hidden = !empty;
  chart.hidden = empty;
  const yet = data.now < data.until ? " yet" : "";
  if (empty) said.textContent = `Nothing recorded${yet}: no listener heard this room from ${shownRange(data)}.`;
  return empty;
}

function shownRange(data) {
  const when = (t) => t.replace("T", " ").slice(0, 16);
  return `${when(data.since)} to ${when(data.until)}`;
}

function draw(data) {
  document.getElementById("range-label").textContent = shownRange(data).replace(" to ", " – ");
  const resolution = document.getElementById("resolution");
  resolution.dataset.resolution = data.resolution;
  // "heard 1 h 1 min + 8 s live" (the minutes, hours or seconds drawn); "8 s live" before the
  // first minute is stored.
  const drawn_s = data.heard_s ?? data.times.length;  // minutes or hours: their seconds
  const points = data.times.length ? [`heard ${mm.duration(drawn_s)}`] : [];
  if (data.resolution !== "seconds" && tail.times.length) points.push(`${mm.duration(tail.times.length)} live`);
  resolution.textContent = points.join(" + ");
  if (nothingRecorded(data)) return;
  const traces = [
    ...loudnessTraces(data), ...cryingTraces(data), ...thresholdTraces(data), episodeTrace(data),
  ];
  const range = view || [data.since, data.until];
  const gaps = mm.notListening(data.gaps, { range, widthPx: chart.clientWidth - MARGIN.l - MARGIN.r });
  const episodes = data.episodes.map((e) => ({
    type: "rect", xref: "x", yref: "paper", x0: e.start, x1: e.end, y0: 0, y1: 0.45,
    fillcolor: "rgba(192, 57, 43, 0.18)", line: { width: 0 },
  }));
  const crying = CRYING[data.resolution];
  const layout = {
    uirevision: "timeline", height: 520, margin: MARGIN, hovermode: "closest",
    showlegend: true, legend: { orientation: "h", y: 1.08 }, bargap: 0,
    xaxis: { type: "date", range, domain: [0, 1], anchor: "y2" },
    yaxis: { title: { text: "loudness (dBFS)" }, domain: [0.55, 1], range: [-90, 0] },
    yaxis2: { title: { text: crying.title }, domain: [0, 0.45], range: [0, crying.top] },
    shapes: [...gaps.shapes, ...episodes], annotations: gaps.annotations,
  };
  Plotly.react(chart, traces, layout, { responsive: true, displaylogo: false });
  listenToTheChart();
}

const MARGIN = { l: 60, r: 20, t: 10, b: 40 };
let listening = false;

function listenToTheChart() {
  // Once the chart is drawn: zooms load seconds; a click on an episode's mark opens it.
  if (listening) return;
  listening = true;
  chart.on("plotly_relayout", onZoom);
  chart.on("plotly_click", (event) => {
    const mark = event.points.find((p) => p.data.name === "episodes");
    if (mark) location.href = mark.customdata;
  });
}

let shownEpisodes = [];

function isStored(since, episodes) {
  // The listener stored the episode in progress (its merge gap may be shorter than ours).
  // Both are local wall-clock times, `since` with its offset: compared to the second.
  const wall = (t) => Date.parse(`${t.slice(0, 19)}Z`);
  return episodes.some((e) => Math.abs(wall(e.start) - wall(since)) < 2000);
}

function listEpisodes(episodes) {
  // Newest first; the episode in progress (not stored until it ends) is the top row.
  shownEpisodes = episodes;
  const body = document.querySelector("#episodes tbody");
  body.replaceChildren();
  // The episode open, crying or quiet in its merge gap (it may yet go on), in a range reaching now.
  const open = now.said && now.said.open_episode;
  if (open && isLive() && !isStored(open.start, episodes)) {
    const crying = now.said.state === "crying";
    const row = body.insertRow();
    row.className = crying ? "episode in-progress" : "episode";
    mm.cell(row, mm.dayAndTime(open.start)).className = "when";
    const duration = mm.cell(row, mm.duration(crying ? now.said.for_s : open.crying_s));
    if (crying) duration.className = "crying-for";
    mm.cell(row, crying ? "crying now" : "quiet for now").colSpan = 3;
  }
  for (const e of [...episodes].reverse()) {
    const row = body.insertRow();
    row.className = "episode";
    const start = mm.cell(row, "");
    start.className = "when";
    const link = document.createElement("a");
    link.href = e.url;
    link.textContent = mm.dayAndTime(e.start);
    start.appendChild(link);
    const duration = mm.cell(row, mm.duration(e.duration_s));
    if (e.reviewed_as) {
      duration.append(" ", Object.assign(document.createElement("span"),
        { className: "reviewed", textContent: `✓ ${e.reviewed_as}`, title: `reviewed as “${e.reviewed_as}”` }));
    }
    mm.cell(row, e.peak_probability.toFixed(2), "peak");
    mm.cell(row, e.mean_probability.toFixed(2), "mean");
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
  // Add the seconds heard since the last ones drawn, while the range shown reaches now: the
  // episodes that ended, the stretches nobody heard (a listener stopped or started), the story.
  if (following || !isLive()) return;
  following = true;
  try {
    const url = `/api/rooms/${mm.roomUrl(mm.room())}/live?${query({ after: tail.after })}`;
    const fresh = await mm.getJSON(url);
    const shownNow = lastData.now;
    lastData.now = fresh.now;
    const target = lastData.resolution === "seconds" ? lastData : tail;
    for (const key of ["times", "level_dbfs", "crying_probability"]) target[key].push(...fresh[key]);
    if (fresh.times.length) tail.after = fresh.times[fresh.times.length - 1];
    const known = new Set(lastData.episodes.map((e) => e.id));
    const ended = fresh.episodes.filter((e) => !known.has(e.id));
    lastData.episodes.push(...ended);
    const gapsMoved = followGaps(fresh, shownNow);
    if (tail.times.length > TAIL_MAX_POINTS) await load();
    else if (fresh.times.length || ended.length || gapsMoved) draw(lastData);
    if (ended.length && !view) listEpisodes(lastData.episodes);
    if (!view && (ended.length || (fresh.times.length && !storyHeard))) tellTheNight(lastData).catch(() => {});
    showHealth();
  } catch (e) {
    // a missed update: the next one asks again from the same second
  } finally {
    following = false;
  }
}

const GAP_ROUNDING_MS = 1000;

function followGaps(fresh, shownNow) {
  // The gaps drawn, the one still open (it ended at the last update's now) running on until
  // the first second heard since, with those the server found since the last second drawn (a
  // listener stopped: from its last second to now). Whether any moved.
  const ms = (t) => Date.parse(`${t}Z`);  // local wall-clock times: no zone arithmetic
  const heardFrom = fresh.times.length ? fresh.times[0] : fresh.now;
  const drawn = lastData.gaps
    .map((g) => ({ ...g, end: g.end === shownNow || g.end > heardFrom ? heardFrom : g.end }))
    .filter((g) => ms(g.end) - ms(g.start) >= GAP_ROUNDING_MS);
  const gaps = [];
  for (const gap of [...drawn, ...fresh.gaps].sort((a, b) => ms(a.start) - ms(b.start))) {
    const last = gaps[gaps.length - 1];
    if (last && ms(gap.start) - ms(last.end) <= GAP_ROUNDING_MS) {
      if (gap.end > last.end) last.end = gap.end;
    } else gaps.push({ ...gap });
  }
  const moved = JSON.stringify(gaps) !== JSON.stringify(lastData.gaps);
  lastData.gaps = gaps;
  return moved;
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
  load();
  document.addEventListener("mm-now", () => {
    if (view) return;
    listEpisodes(shownEpisodes);
    if (lastData && unstoredTold(lastData) !== toldUnstored) tellTheNight(lastData).catch(() => {});
  });
  setInterval(follow, LIVE_EVERY_MS);
});
