// The page's three panels, each talking to the same JSON API the OpenAPI page documents.
"use strict";

const $ = (id) => document.getElementById(id);
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.blob();
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function say(id, text, isError = false) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle("error", isError);
}

function item(text) {
  const li = document.createElement("li");
  li.textContent = text;
  return li;
}

// ---- recommender: a known user's or a typed history's list, re-ranked live by concept sliders
let concepts = 0;
let pending = null;

function buildSliders(n) {
  const box = $("rec-sliders");
  box.replaceChildren();
  for (let c = 0; c < n; c++) {
    const label = document.createElement("label");
    label.innerHTML = `<span class="concept" style="background:${COLOURS[c % COLOURS.length]}">${c}</span> concept ${c}`;
    const slider = document.createElement("input");
    Object.assign(slider, { type: "range", min: "0", max: "1", step: "0.05", value: "1", id: `concept-${c}` });
    slider.setAttribute("aria-label", `weight of concept ${c}`);
    slider.addEventListener("input", () => { clearTimeout(pending); pending = setTimeout(recommend, 150); });
    label.prepend(slider);
    box.append(label);
  }
}

function weights() {
  const w = Array.from({ length: concepts }, (_, c) => Number($(`concept-${c}`).value));
  return w.some((x) => x > 0) ? w : null;   // all at 0: the unsteered list
}

async function recommend() {
  const byUser = document.querySelector("input[name=rec-by]:checked").value === "user";
  const body = { k: Number($("rec-k").value), concept_weights: weights() };
  if (byUser) body.user = $("rec-user").value.trim();
  else body.history = $("rec-history").value.split(",").map((s) => s.trim()).filter(Boolean);
  try {
    const r = await api("recommend", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const notes = [];
    if (r.source === "most_popular") notes.push("No known item in the history: the most popular items.");
    if (r.ignored.length) notes.push(`Left out unknown items: ${r.ignored.join(", ")}.`);
    say("rec-note", notes.join(" ") || `${r.items.length} items.`);
    $("rec-results").replaceChildren(...r.items.map((i) => {
      const li = item(` ${i.item}${i.category ? ` (${i.category})` : ""} — score ${i.score.toFixed(3)}`);
      const tag = document.createElement("span");
      Object.assign(tag, { className: "concept", textContent: i.concept, title: `concept ${i.concept}` });
      tag.style.background = COLOURS[i.concept % COLOURS.length];
      li.prepend(tag);
      return li;
    }));
  } catch (e) {
    say("rec-note", e.message, true);
    $("rec-results").replaceChildren();
  }
}

function setupRecommender(ready) {
  concepts = ready.concepts;
  buildSliders(concepts);
  for (const radio of document.querySelectorAll("input[name=rec-by]")) {
    radio.addEventListener("change", () => {
      const byUser = radio.value === "user" && radio.checked;
      $("rec-user").disabled = !byUser;
      $("rec-history").disabled = byUser;
    });
  }
  $("rec-form").addEventListener("submit", (e) => { e.preventDefault(); recommend(); });
}

// ---- images: diverse translations of an upload, and the nearest images of the other domain
function figure(src, caption) {
  const fig = document.createElement("figure");
  const img = document.createElement("img");
  Object.assign(img, { src, alt: caption });
  const cap = document.createElement("figcaption");
  cap.textContent = caption;
  fig.append(img, cap);
  return fig;
}

function setupTranslator() {
  $("img-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("img-file").files[0];
    const direction = $("img-direction").value;
    say("img-note", "Working…");
    try {
      const t = new FormData();
      t.append("image", file);
      t.append("direction", direction);
      t.append("n", $("img-n").value);
      const s = new FormData();
      s.append("image", file);
      s.append("domain", direction[0]);
      s.append("k", "8");
      const [translated, found] = await Promise.all([api("translate", { method: "POST", body: t }),
                                                     api("search", { method: "POST", body: s })]);
      $("img-translations").replaceChildren(...translated.images.map((b64, i) =>
        figure(`data:image/png;base64,${b64}`, `output ${i + 1}`)));
      $("img-search").replaceChildren(...found.results.map((h) =>
        figure(`images/${h.domain}/${h.id}`, `${h.domain}/${h.id}${h.label ? ` · ${h.label}` : ""} · ${h.score.toFixed(2)}`)));
      say("img-note", `${translated.n} translations; ${found.results.length} nearest images of domain ${direction[2].toUpperCase()}.`);
    } catch (err) {
      say("img-note", err.message, true);
    }
  });
}

// ---- speech: a word's phonemes and clips, a phoneme string's spelling, a clip's spellings
function encodeWav(samples, rate) {   // mono float32 → 16-bit PCM wav
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (offset, s) => [...s].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
  text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE"); text(12, "fmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true);
  view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, samples.length * 2, true);
  samples.forEach((x, i) => view.setInt16(44 + i * 2, Math.max(-1, Math.min(1, x)) * 0x7fff, true));
  return new Blob([buffer], { type: "audio/wav" });
}

let recorded = null;
let recording = null;

async function toggleRecording() {
  const button = $("sp-record");
  if (recording) {   // stop: keep what was heard as a wav
    const { context, stream, chunks } = recording;
    stream.getTracks().forEach((t) => t.stop());
    await context.close();
    const samples = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) { samples.set(c, at); at += c.length; }
    recorded = encodeWav(samples, context.sampleRate);
    recording = null;
    button.textContent = "Record";
    button.setAttribute("aria-pressed", "false");
    say("sp-heard", `Recorded ${(samples.length / context.sampleRate).toFixed(1)} s; press "Find spellings".`);
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const context = new AudioContext();
    const source = context.createMediaStreamSource(stream);
    const processor = context.createScriptProcessor(4096, 1, 1);
    const chunks = [];
    processor.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    source.connect(processor);
    processor.connect(context.destination);
    recording = { context, stream, chunks };
    button.textContent = "Stop";
    button.setAttribute("aria-pressed", "true");
    say("sp-heard", "Recording… say one word, then press Stop.");
  } catch (e) {
    say("sp-heard", `No microphone: ${e.message}`, true);
  }
}

function setupSpeech() {
  $("word-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const word = encodeURIComponent($("sp-word").value.trim());
    try {
      const r = await api(`speech/search?word=${word}&k=8`);
      say("sp-g2p", `${r.word}: /${r.phonemes.join(" ")}/`);
      $("sp-phonemes").value = r.phonemes.join(" ");
      $("sp-clips").replaceChildren(...r.results.map((h) => {
        const li = item(`${h.word} (${h.voice}) — ${h.score.toFixed(3)} `);
        const audio = document.createElement("audio");
        Object.assign(audio, { controls: true, preload: "none", src: `clips/${h.clip}` });
        audio.setAttribute("aria-label", `clip ${h.clip}: ${h.word}`);
        li.append(audio);
        return li;
      }));
    } catch (err) {
      say("sp-g2p", err.message, true);
      $("sp-clips").replaceChildren();
    }
  });
  $("p2g-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const r = await api(`p2g?phonemes=${encodeURIComponent($("sp-phonemes").value.trim())}`);
      say("sp-p2g", `/${r.phonemes.join(" ")}/ is spelled “${r.word}”`);
    } catch (err) {
      say("sp-p2g", err.message, true);
    }
  });
  $("sp-file").addEventListener("change", () => { recorded = null; });
  $("sp-record").addEventListener("click", toggleRecording);
  $("clip-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const clip = $("sp-file").files[0] || recorded;
    if (!clip) { say("sp-heard", "Choose a wav file or record a clip first.", true); return; }
    const form = new FormData();
    form.append("audio", clip, clip.name || "recording.wav");
    form.append("k", "10");
    try {
      const r = await api("text/search", { method: "POST", body: form });
      say("sp-heard", `Heard /${r.heard.join(" ")}/ in ${r.seconds} s of sound.`);
      $("sp-spellings").replaceChildren(...r.results.map((h) => item(`${h.word} — ${h.score.toFixed(3)}`)));
    } catch (err) {
      say("sp-heard", err.message, true);
      $("sp-spellings").replaceChildren();
    }
  });
}

// ---- which panels: the models /readyz lists
(async () => {
  const setups = { recommender: setupRecommender, translator: setupTranslator, speech_text: setupSpeech };
  try {
    const ready = await api("readyz");
    for (const name of ready.models) {
      $(name).hidden = false;
      setups[name](ready);
    }
    say("status", `Serving: ${ready.models.join(", ")}.`);
  } catch (e) {
    say("status", `The service is not ready: ${e.message}`, true);
  }
})();
