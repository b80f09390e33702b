// The recommender panel of the page (stages/web): set up once the service says it serves the model.
"use strict";

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

mdr.panels.recommender = setupRecommender;
