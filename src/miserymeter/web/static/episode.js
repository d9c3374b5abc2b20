// One episode: its facts, its audio, its spectrogram, and the family's review.
"use strict";

const article = document.getElementById("episode");
const base = () => `/api/rooms/${mm.roomUrl(mm.room())}/episodes/${encodeURIComponent(article.dataset.start)}`;

async function showEpisode() {
  const e = await mm.getJSON(base());
  const when = Object.assign(document.createElement("span"), { className: "when", textContent: mm.dayAndTime(e.start) });
  document.getElementById("episode-title").replaceChildren(`Crying in ${e.room}, `, when);
  document.getElementById("episode-facts").textContent =
    `${mm.duration(e.duration_s)} (${mm.clock(e.start)} – ${mm.clock(e.end)}), peak ${e.peak_probability.toFixed(2)}, ` +
    `mean ${e.mean_probability.toFixed(2)}, detector ${e.detector}`;
  showReviewed(e.reviewed_as);
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

function showReviewed(label) {
  document.getElementById("review-state").textContent =
    label ? `Reviewed as “${label}”.` : "Not reviewed yet: is this crying?";
  for (const id of ["review-crying", "review-other"]) document.getElementById(id).disabled = Boolean(label);
}

async function review(label) {
  const message = document.getElementById("review-message");
  try {
    const result = await mm.postJSON(`${base()}/review`, { label });
    message.textContent = `Saved ${result.files.length} clip(s) as “${result.label}” for the next training.`;
    showReviewed(result.label);
    showWaiting().catch(() => {});
  } catch (error) {
    message.textContent = error.message;
  }
}

async function showLabels() {
  const reviews = await mm.getJSON("/api/reviews");
  const list = document.getElementById("other-labels");
  for (const label of reviews.other_labels) list.appendChild(new Option(label, label));
  document.getElementById("review-crying").onclick = () => review(reviews.crying_label);
  document.getElementById("review-other").onclick = () =>
    review(document.getElementById("other-label").value.trim());
}

document.addEventListener("DOMContentLoaded", () => {
  showLabels();
  showEpisode().catch((error) => {
    document.getElementById("episode-facts").textContent = error.message;
  });
});
