// The speech_text panel of the page (stages/web): set up once the service says it serves the model.
"use strict";

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

mdr.panels.speech_text = setupSpeech;
