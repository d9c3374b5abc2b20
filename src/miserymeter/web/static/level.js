// Test the microphone: a live meter of the room's loudness, its noise floor, and a verdict.
"use strict";

const METER_BOTTOM_DBFS = -90;
const SOURCES = {
  listener: "Measured by the listener, four times a second.",
  store: "From the listener's database, once a second (it keeps no peaks: clipping is judged from the loudness).",
};

function position(dbfs) {
  const clamped = Math.min(0, Math.max(METER_BOTTOM_DBFS, dbfs));
  return `${(100 * (clamped - METER_BOTTOM_DBFS)) / -METER_BOTTOM_DBFS}%`;
}

function dbfs(value) {
  return value === null ? "–" : `${value.toFixed(1)} dBFS`;
}

function showLevel(level) {
  const meter = document.getElementById("meter");
  meter.dataset.levelDbfs = level.level_dbfs === null ? "" : String(level.level_dbfs);
  meter.dataset.ok = String(level.ok);
  document.getElementById("meter-fill").style.width =
    level.level_dbfs === null ? "0%" : position(level.level_dbfs);
  for (const [id, value] of [["meter-floor", level.floor_dbfs], ["meter-peak", level.peak_dbfs]]) {
    const mark = document.getElementById(id);
    mark.hidden = value === null;
    if (value !== null) mark.style.left = position(value);
  }
  document.getElementById("level-now").textContent = level.level_dbfs === null && level.at !== null
    ? `– (last heard ${mm.duration(level.age_s)} ago)` : dbfs(level.level_dbfs);
  document.getElementById("level-peak").textContent = dbfs(level.peak_dbfs);
  document.getElementById("level-floor").textContent = dbfs(level.floor_dbfs);
  document.getElementById("level-at").textContent =
    level.at === null ? "–" : `${level.at.replace("T", " ").slice(0, 21)} (${level.age_s} s ago)`;
  const verdict = document.getElementById("verdict");
  verdict.textContent = level.verdict;
  verdict.dataset.ok = String(level.ok);
  document.getElementById("level-source").textContent = SOURCES[level.source];
}

async function pollLevel() {
  let waitMs = 1000;
  try {
    const level = await mm.getJSON(`/api/rooms/${mm.roomUrl(mm.room())}/level`);
    showLevel(level);
    waitMs = level.refresh_ms;
  } catch (error) {
    const verdict = document.getElementById("verdict");
    verdict.textContent = error.message;
    verdict.dataset.ok = "false";
  }
  setTimeout(pollLevel, waitMs);
}

document.addEventListener("DOMContentLoaded", pollLevel);
