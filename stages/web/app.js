// The page's frame: shared helpers, then one panel per model the service serves. Each model package
// ships its panel (web/panel.html, web/panel.js, served at panels/<model>/); the frame asks /readyz
// which models are served, inserts their panels and runs each panel's setup.
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

const mdr = { panels: {} };   // a panel's script registers its setup here: mdr.panels[name] = setup

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), { src });
    script.onload = resolve;
    script.onerror = () => reject(new Error(`${src} did not load`));
    document.body.append(script);
  });
}

// ---- which panels: the models /readyz lists, each with the panel its package ships
(async () => {
  try {
    const ready = await api("readyz");
    for (const name of ready.models) {
      const html = await fetch(`panels/${name}/panel.html`);
      if (!html.ok) continue;   // a model without a panel is served by the API alone
      $("panels").insertAdjacentHTML("beforeend", await html.text());
      await loadScript(`panels/${name}/panel.js`);
      await mdr.panels[name](ready);
    }
    say("status", `Serving: ${ready.models.join(", ")}.`);
  } catch (e) {
    say("status", `The service is not ready: ${e.message}`, true);
  }
})();
