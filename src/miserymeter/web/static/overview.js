// Every room at a glance: its state now, tonight so far, when it was last heard; live.
"use strict";

const at = (localIso) => (localIso ? localIso.slice(11, 16) : "");
const STATE_LINES = {
  crying: (now) => `Crying now — ${mm.duration(now.for_s)}, since ${at(now.since)}`,
  quiet: (now) => (now.since ? `Quiet since ${at(now.since)}` : "Quiet"),
  // last heard maybe days ago: its day unless today
  "not listening": (now) => (now.since ? `Not listening since ${mm.near(now.since)}` : "Not listening"),
};

function roomCard(room) {
  const card = document.createElement("a");
  card.className = "room-card";
  card.href = room.url;
  card.dataset.state = room.now.state.replace(" ", "-");
  const name = document.createElement("span");
  name.className = "room-name";
  name.textContent = room.room;
  const state = document.createElement("span");
  state.className = "room-state";
  state.textContent = STATE_LINES[room.now.state](room.now);
  const tonight = document.createElement("span");
  tonight.className = "room-tonight";
  tonight.textContent = tonightLine(room);
  const heard = document.createElement("span");
  heard.className = "room-heard";
  heard.textContent = room.last_heard ? `last heard ${mm.near(room.last_heard, mm.clock(room.last_heard))}` : "never heard";
  card.append(name, state, tonight, heard);
  return card;
}

// Tonight's stored episodes, and the one open: stored only once its merge gap has passed
// without crying, it counts meanwhile, crying or quiet (its crying so far: what it will count).
function tonightLine(room) {
  const open = room.now.open_episode;
  const n = room.tonight.n_episodes + (open ? 1 : 0);
  if (!n) return "tonight: no crying";
  const cryingS = room.tonight.crying_s + (open ? open.crying_s : 0);
  return `tonight: ${n === 1 ? "1 wake-up" : `${n} wake-ups`}, ${mm.duration(cryingS)} crying`;
}

// When the cards shown were last known (ms): while they cannot be asked, they stay, greyed.
let knownAt = null;
let shownIso = null;  // a local time shown, for the zone of `knownAt`

async function showOverview() {
  const error = document.getElementById("overview-error");
  const cards = document.getElementById("rooms");
  try {
    const rooms = await mm.getJSON("/api/overview");
    knownAt = Date.now();
    shownIso = rooms.map((r) => r.last_heard).find(Boolean);
    cards.replaceChildren(...rooms.map(roomCard));
    cards.removeAttribute("data-stale");
    error.hidden = true;
  } catch (e) {
    cards.toggleAttribute("data-stale", knownAt !== null);
    error.textContent = mm.outOfDate(e, knownAt, shownIso);
    error.hidden = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  showOverview();
  setInterval(showOverview, 5000);
});
