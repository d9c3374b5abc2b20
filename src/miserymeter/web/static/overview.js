// Every room at a glance: its state now, tonight so far, when it was last heard; live.
"use strict";

const STATE_LINES = {
  crying: (since, forS) => `Crying now — ${mm.duration(forS)}, since ${since}`,
  quiet: (since) => (since ? `Quiet since ${since}` : "Quiet"),
  "not listening": (since) => (since ? `Not listening since ${since}` : "Not listening"),
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
  const since = room.now.since ? room.now.since.slice(11, 16) : "";
  state.textContent = STATE_LINES[room.now.state](since, room.now.for_s);
  const tonight = document.createElement("span");
  tonight.className = "room-tonight";
  tonight.textContent = tonightLine(room);
  const heard = document.createElement("span");
  heard.className = "room-heard";
  heard.textContent = room.last_heard ? `last heard ${mm.when(room.last_heard)}` : "never heard";
  card.append(name, state, tonight, heard);
  return card;
}

// Tonight's stored episodes, and the one in progress (stored only once it ends).
function tonightLine(room) {
  const crying = room.now.state === "crying";
  const n = room.tonight.n_episodes + (crying ? 1 : 0);
  if (!n) return "tonight: no crying";
  const cryingS = room.tonight.crying_s + (crying ? room.now.for_s : 0);
  return `tonight: ${n === 1 ? "1 wake-up" : `${n} wake-ups`}, ${mm.duration(cryingS)} crying`;
}

async function showOverview() {
  const error = document.getElementById("overview-error");
  try {
    const rooms = await mm.getJSON("/api/overview");
    document.getElementById("rooms").replaceChildren(...rooms.map(roomCard));
    error.hidden = true;
  } catch (e) {
    error.textContent = `Cannot reach the dashboard: ${e.message}`;
    error.hidden = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  showOverview();
  setInterval(showOverview, 5000);
});
