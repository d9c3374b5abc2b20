// One episode: its facts, its audio, its spectrogram, and the family's review.
"use strict";

const article = document.getElementById("episode");
const base = () => `/api/rooms/${mm.roomUrl(mm.room())}/episodes/${encodeURIComponent(article.dataset.start)}`;
const reviews = mm.getJSON("/api/reviews");  // the labels to offer, asked for once
let shown;  // the episode on the page

async function showEpisode() {
  const e = shown = await mm.getJSON(base());
  document.getElementById("episode-facts").textContent =
    `${mm.duration(e.duration_s)} (${mm.clock(e.start)} – ${mm.clock(e.end)}), peak ${e.peak_probability.toFixed(2)}, ` +
    `mean ${e.mean_probability.toFixed(2)}, detector ${e.detector}`;
  await showReviewed(e.reviewed_as);
  if (!e.has_audio) {
    document.getElementById("player").replaceWith(Object.assign(document.createElement("p"),
      { textContent: "No audio was kept of this episode." }));
    document.querySelector(".review").hidden = true;
    return;
  }
  document.getElementById("player").src = `${base()}/audio`;
  const s = await mm.getJSON(`${base()}/spectrogram`);
  Plotly.react("spectrogram", [{
    x: s.times_s, y: s.freqs_hz, z: s.power_db, type: "heatmap", colorscale: "Viridis",
    zmin: -100, zmax: -10, colorbar: { title: { text: "dB" } },
  }], {
    height: 320, margin: { l: 60, r: 20, t: 10, b: 40 },
    xaxis: { title: { text: "seconds into the clip" } }, yaxis: { title: { text: "Hz" } },
  }, { responsive: true, displaylogo: false });
  document.getElementById("spectrogram").dataset.ready = "true";
}

async function showReviewed(label) {
  // "Crying in nursery", or once reviewed otherwise "Not crying (laughter) in nursery".
  const { crying_label: crying } = await reviews;
  const what = !label || label === crying ? "Crying" : `Not crying (${label})`;
  const when = Object.assign(document.createElement("span"), { className: "when", textContent: mm.dayAndTime(shown.start) });
  document.getElementById("episode-title").replaceChildren(`${what} in ${shown.room}, `, when);
  document.getElementById("review-said").textContent =
    label ? `Reviewed as “${label}”.` : "Not reviewed yet: is this crying?";
  document.getElementById("review-undo").hidden = !label;
  for (const id of ["review-crying", "review-other"]) document.getElementById(id).disabled = Boolean(label);
}

async function undoReview() {
  // A mis-tap undone: the review's clips removed, the buttons back.
  const message = document.getElementById("review-message");
  try {
    const result = await mm.sendJSON("DELETE", `${base()}/review`);
    message.textContent = `Removed ${result.files.length} clip(s) reviewed as “${result.label}”: review it again.`;
    await showReviewed(null);
    showWaiting().catch(() => {});
  } catch (error) {
    message.textContent = error.message;
  }
}

async function review(label) {
  const message = document.getElementById("review-message");
  try {
    const result = await mm.postJSON(`${base()}/review`, { label });
    message.textContent = `Saved ${result.files.length} clip(s) as “${result.label}” for the next training.`;
    await showReviewed(result.label);
    showWaiting().catch(() => {});
  } catch (error) {
    message.textContent = error.message;
  }
}

async function showLabels() {
  const { crying_label: crying, other_labels: others } = await reviews;
  const list = document.getElementById("other-labels");
  for (const label of others) list.appendChild(new Option(label, label));
  document.getElementById("review-crying").onclick = () => review(crying);
  document.getElementById("review-undo").onclick = undoReview;
  document.getElementById("review-other").onclick = () => {
    const label = document.getElementById("other-label").value.trim();
    const message = document.getElementById("review-message");
    if (label.toLowerCase() === crying.toLowerCase()) message.textContent = `That is crying: press “Crying” instead.`;
    else if (label) review(label);
    else message.textContent = `Say what it was first: ${others.slice(0, 4).join(", ")}…`;
  };
}

document.addEventListener("DOMContentLoaded", () => {
  showLabels();
  showEpisode().catch((error) => {
    document.getElementById("episode-facts").textContent = error.message;
  });
});
