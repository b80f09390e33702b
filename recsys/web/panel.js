// The recommender panel of the page (stages/web): set up once the service says it serves the model.
"use strict";

// ---- recommender: a known user's or a typed history's list, re-ranked live by concept sliders
let concepts = 0;
let labels = [];
let pending = null;

function tag(c) {
  const span = document.createElement("span");
  Object.assign(span, { className: "concept", textContent: c });
  span.style.background = COLOURS[c % COLOURS.length];
  return span;
}

// one slider per concept, named by its label (/concepts: typical categories, else best-known titles)
function buildSliders(summaries) {
  const box = $("rec-sliders");
  box.replaceChildren();
  for (const s of summaries) {
    const c = s.concept;
    const label = document.createElement("label");
    const name = document.createElement("span");
    Object.assign(name, { className: "concept-label", textContent: s.label });
    const examples = s.top_items.map((i) => i.title || i.item).join("; ");
    label.title = `concept ${c}, ${s.items} items` + (examples ? ` — best known: ${examples}` : "");
    const head = document.createElement("span");
    head.className = "slider-head";
    head.append(tag(c), name);
    label.append(head);
    const slider = document.createElement("input");
    Object.assign(slider, { type: "range", min: "0", max: "1", step: "0.05", value: "1", id: `concept-${c}` });
    slider.setAttribute("aria-label", `weight of concept ${c}: ${s.label}`);
    slider.addEventListener("input", () => { clearTimeout(pending); pending = setTimeout(recommend, 150); });
    label.append(slider);
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
      const name = i.title ? `${i.title} [${i.item}]` : i.item;
      const cats = i.categories.length ? ` (${i.categories.join(", ")})` : "";
      const li = item(` ${name}${cats} — score ${i.score.toFixed(3)}`);
      const t = tag(i.concept);
      t.title = `concept ${i.concept}: ${labels[i.concept] || ""}`;
      li.prepend(t);
      return li;
    }));
  } catch (e) {
    say("rec-note", e.message, true);
    $("rec-results").replaceChildren();
  }
}

async function setupRecommender(ready) {
  concepts = ready.concepts;
  try {
    const summaries = (await api("concepts")).concepts;
    labels = summaries.map((s) => s.label);
    buildSliders(summaries);
  } catch (e) {
    say("rec-note", `Concept labels did not load: ${e.message}`, true);
    buildSliders(Array.from({ length: concepts }, (_, c) => ({ concept: c, label: `concept ${c}`, items: 0, top_items: [] })));
  }
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
