// The translator panel of the page (stages/web): set up once the service says it serves the model.
"use strict";

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

mdr.panels.translator = setupTranslator;
