// What every page shares: the CSRF token, JSON requests, the room picker, the health badge.
"use strict";

// A gap's label runs across it from this width, upright from the smaller one, else not at all.
const NOT_LISTENING_ACROSS_PX = 100;
const NOT_LISTENING_UPRIGHT_PX = 18;
// A duration shorter than this keeps its seconds: "1 min 27 s" is not "1 min".
const SECONDS_SHOWN_BELOW_S = 600;

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const mm = {
  room: () => document.body.dataset.room,
  csrf: () => document.querySelector('meta[name="csrf-token"]').content,
  roomUrl: (room) => encodeURIComponent(room),

  getJSON: (url) => mm.request(url, { headers: { Accept: "application/json" } }),

  sendJSON: (method, url, body) => mm.request(url, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": mm.csrf() },
    body: body === undefined ? undefined : JSON.stringify(body),
  }),

  // The answer's JSON. A 401 (the session is gone: the dashboard restarted, or the user
  // logged out elsewhere) goes to the log-in page, which comes back here: the request never
  // settles, so nothing is said of it meanwhile.
  // A failure is thrown as an Error with the answer's `status` (0: no answer at all).
  async request(url, options) {
    let response;
    try {
      response = await fetch(url, options);
    } catch (e) {
      throw Object.assign(new Error(e.message), { status: 0 });
    }
    if (response.status === 401) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
      return new Promise(() => {});
    }
    const data = await response.json().catch(() => ({ error: response.statusText }));
    if (!response.ok) throw Object.assign(new Error(data.error || response.statusText), { status: response.status });
    return data;
  },

  // What a page says over what it shows when a request for it failed: why, and when what is
  // shown was last known (`knownAt`, ms; null: nothing shown), in the zone of `shownIso` (a
  // local time shown, with its UTC offset), or the browser's.
  outOfDate(error, knownAt, shownIso) {
    const why = {
      0: `Cannot reach the dashboard: ${error.message}`,
      503: `The dashboard cannot read its database: ${error.message}`,
    }[error.status] || `The dashboard could not answer: ${error.message}`;
    if (knownAt === null) return why;
    return `${why}; showing what it knew at ${mm.timeOfDay(knownAt, shownIso)}`;
  },
  timeOfDay(ms, shownIso) {
    if (!shownIso) return new Date(ms).toTimeString().slice(0, 8);
    return mm.wallClockAt(ms, shownIso).slice(11, 19);
  },
  // The instant `ms` as a wall-clock ISO time where `localIso` (with its UTC offset) was read.
  wallClockAt(ms, localIso) {
    const offsetMs = Date.parse(`${localIso.slice(0, 19)}Z`) - Date.parse(localIso);
    return new Date(ms + offsetMs).toISOString();
  },
  postJSON: (url, body) => mm.sendJSON("POST", url, body),

  // 48 s, 1 min 27 s, 12 min, 2 h 5 min, 7 h: what people read, seconds while they count.
  duration(seconds) {
    const whole = Math.round(seconds);
    if (whole < 60) return `${whole} s`;
    const minutes = Math.floor(whole / 60);
    if (whole < SECONDS_SHOWN_BELOW_S) return whole % 60 ? `${minutes} min ${whole % 60} s` : `${minutes} min`;
    if (minutes < 60) return `${minutes} min`;
    const hours = `${Math.floor(minutes / 60)} h`;
    return minutes % 60 ? `${hours} ${minutes % 60} min` : hours;
  },
  clock: (localIso) => localIso.slice(11, 19),
  when: (localIso) => localIso.replace("T", " ").slice(0, 19),
  nightName(night) {
    // The evening and the morning after: "Sat 5 – Sun 6 Dec".
    const evening = new Date(`${night}T00:00:00Z`);
    const morning = new Date(evening);
    morning.setUTCDate(morning.getUTCDate() + 1);
    const day = (d) => `${DAYS[d.getUTCDay()]} ${d.getUTCDate()}`;
    const month = (d) => MONTHS[d.getUTCMonth()];
    const first = evening.getUTCMonth() === morning.getUTCMonth() ? day(evening) : `${day(evening)} ${month(evening)}`;
    return `${first} – ${day(morning)} ${month(morning)}`;
  },
  // "Sun 6 Dec, 22:48": a local time as a parent reads it (a list's cell never breaks it).
  dayAndTime(localIso) {
    const day = new Date(`${localIso.slice(0, 10)}T00:00:00Z`);
    return `${DAYS[day.getUTCDay()]} ${day.getUTCDate()} ${MONTHS[day.getUTCMonth()]}, ${localIso.slice(11, 16)}`;
  },
  // A local time (ISO, with its UTC offset) as near as it is: its `time` alone today there,
  // "yesterday 23:10", else "Sun 6 Dec, 22:48" (a room not heard for days says so).
  near(localIso, time = localIso.slice(11, 16)) {
    const dayThere = (ms) => mm.wallClockAt(ms, localIso).slice(0, 10);
    const day = localIso.slice(0, 10);
    if (day === dayThere(Date.now())) return time;
    if (day === dayThere(Date.now() - 86_400_000)) return `yesterday ${time}`;
    return mm.dayAndTime(localIso);
  },

  // Shaded bands over the stretches no listener heard, "not listening" where there is room.
  notListening(gaps, { range, widthPx }) {
    const ms = (t) => Date.parse(`${t}Z`);  // local wall-clock times: no zone arithmetic
    const pxPerMs = widthPx / (ms(range[1]) - ms(range[0]));
    const shapes = [];
    const annotations = [];
    for (const gap of gaps) {
      shapes.push({
        type: "rect", xref: "x", yref: "paper", x0: gap.start, x1: gap.end, y0: 0, y1: 1,
        fillcolor: "rgba(127, 140, 141, 0.2)", line: { width: 0 }, layer: "below",
      });
      const from = Math.max(ms(gap.start), ms(range[0]));
      const to = Math.min(ms(gap.end), ms(range[1]));
      const px = (to - from) * pxPerMs;
      if (px < NOT_LISTENING_UPRIGHT_PX) continue;
      annotations.push({
        xref: "x", x: new Date((from + to) / 2).toISOString().slice(0, 23), yref: "paper", y: 0.5,
        text: "not listening", showarrow: false, textangle: px < NOT_LISTENING_ACROSS_PX ? -90 : 0,
        font: { size: 12, color: "#4d5656" },
      });
    }
    return { shapes, annotations };
  },

  // A table's cell; `label` names it where a phone shows the row as a card, without the header.
  cell(row, text, label) {
    const td = document.createElement("td");
    td.textContent = text;
    if (label) td.dataset.label = label;
    row.appendChild(td);
    return td;
  },
};

async function showRooms() {
  const picker = document.getElementById("room-picker");
  if (!picker || !mm.room()) return;
  const rooms = await mm.getJSON("/api/rooms");
  for (const room of rooms) {
    const option = new Option(room, room, false, room === mm.room());
    picker.add(option);
  }
  picker.addEventListener("change", () => {
    const rest = (location.pathname.match(/\/(nights|calibrate|level)$/) || [""])[0];
    location.href = `/rooms/${mm.roomUrl(picker.value)}${rest}`;
  });
}

// A replay reads its recording as fast as the CPU allows: its share says nothing of a live one's.
function cpuText(health) {
  const cpu = `listener CPU ${health.listener_cpu_percent} % of a core`;
  if (!health.listener_replaying) return cpu;
  return `${cpu} (replaying a recording as fast as it can; live listening uses a few %)`;
}

const events = (n) => (n === 1 ? "1 event" : `${n} events`);

async function showHealth() {
  const badge = document.getElementById("health");
  if (!badge || !mm.room()) return;
  try {
    const health = await mm.getJSON(`/api/rooms/${mm.roomUrl(mm.room())}/health`);
    badge.textContent = health.status;
    badge.dataset.status = health.status.replace(" ", "-");
    const facts = [health.last_heard ? `last heard ${mm.near(health.last_heard, mm.clock(health.last_heard))}` : "never heard"];
    if (health.listener_cpu_percent !== null) facts.push(cpuText(health));
    facts.push(`${health.dropped_windows_tonight} window(s) dropped tonight`);
    badge.title = facts.join(", ");
    document.getElementById("health-facts").textContent = facts.join(" · ");
    const undelivered = document.getElementById("undelivered");
    undelivered.textContent = health.undelivered.map((u) => {
      const counts = [u.waiting ? `${events(u.waiting)} not yet sent` : "", u.refused ? `${events(u.refused)} refused` : ""];
      const reason = u.last_error ? `: ${u.last_error}` : "";
      return `${counts.filter(Boolean).join(", ")} to ${u.destination} since ${mm.near(u.since)}${reason}`;
    }).join(" · ");
    undelivered.hidden = health.undelivered.length === 0;
  } catch (error) {
    // not "offline": whether the listener hears is not known while the dashboard cannot tell
    badge.textContent = "unknown";
    badge.dataset.status = "unknown";
    badge.title = mm.outOfDate(error, null);
  }
}

// "Crying now — 2 min" (a stop-watch), "Quiet since 03:12", "Not listening since 03:12";
// asked this often, so crying shows within 3 s of the listener storing its confirmation.
const NOW_EVERY_MS = 1500;
// While the state cannot be asked (`failedAt`, ms), the one last known stays, greyed, its
// stop-watch stopped, under what went wrong.
const now = { said: null, fetchedAt: 0, failedAt: null };

function drawNow() {
  const said = now.said;
  if (!said) return;
  const section = document.getElementById("now");
  const shownAt = now.failedAt ?? Date.now();
  const elapsed = said.for_s === null ? null : said.for_s + (shownAt - now.fetchedAt) / 1000;
  const at = said.since ? said.since.slice(11, 16) : "";
  const lines = {
    crying: [`Crying now — ${mm.duration(elapsed)}`, `since ${at}`],
    quiet: said.since ? [`Quiet since ${at}`, `${mm.duration(elapsed)} without crying`] : ["Quiet", "no crying in the past day"],
    "not listening": said.since ? [`Not listening since ${mm.near(said.since)}`, "check the listener and its microphone"] : ["Not listening", "nothing heard from this room yet"],
  }[said.state];
  if (said.state === "crying") {
    for (const stopWatch of document.querySelectorAll(".crying-for")) stopWatch.textContent = mm.duration(elapsed);
  }
  section.dataset.state = said.state.replace(" ", "-");
  document.getElementById("now-state").textContent = lines[0];
  document.getElementById("now-detail").textContent = lines[1];
  section.hidden = false;
}

async function showNow() {
  if (!document.getElementById("now") || !mm.room()) return;
  try {
    now.said = await mm.getJSON(`/api/rooms/${mm.roomUrl(mm.room())}/now`);
    now.fetchedAt = Date.now();
    now.failedAt = null;
    showOutOfDate(null);
    drawNow();
    document.dispatchEvent(new CustomEvent("mm-now", { detail: now.said }));
  } catch (error) {
    if (now.said) now.failedAt ??= Date.now();
    showOutOfDate(now.said && mm.outOfDate(error, now.fetchedAt, now.said.since));
  }
}

function showOutOfDate(why) {
  const stale = document.getElementById("now-stale");
  stale.textContent = why || "";
  stale.hidden = !why;
  document.getElementById("now").toggleAttribute("data-stale", Boolean(why));
}

async function showWaiting() {
  const waiting = document.getElementById("waiting");
  if (!waiting) return;
  const reviews = await mm.getJSON("/api/reviews");
  waiting.textContent = `${reviews.waiting} reviewed clip(s) waiting for training`;
  waiting.title = reviews.data_dir;
}

// The page's shared parts start as soon as it is parsed (this script is deferred), without
// waiting for plotly, deferred after it on the pages that draw charts: the state now first.
function startPage() {
  const logout = document.getElementById("logout");
  logout.addEventListener("submit", async (event) => {
    event.preventDefault();
    await fetch("/logout", { method: "POST", headers: { "X-CSRF-Token": mm.csrf() } });
    location.href = "/login";
  });
  if (location.pathname === "/login") return;
  const first = document.getElementById("now-first");  // the state now, come with the page
  if (first) {
    now.said = JSON.parse(first.textContent);
    now.fetchedAt = Date.now();
    drawNow();
  }
  showRooms().catch(() => {});
  showHealth();
  showNow();
  showWaiting().catch(() => {});
  setInterval(showHealth, 15000);
  setInterval(showNow, NOW_EVERY_MS);
  setInterval(drawNow, 1000);
}

startPage();
