// Model: what serves now (GET /readyz), a retrain with a live progress bar (POST and GET
// /admin/retrain) and, when it finishes, the model before and after on the stored feedback
// (GET /admin/feedback/score, taken just before the start and after the swap).

import {api, apiKey} from "./api.js";
import {el, fmt, pct, svg} from "./dom.js";
import {SERIES, outcome} from "./chart.js";
import {attempt, refused, say} from "./status.js";

const BEFORE = "samesay.retrainBefore"; // kept for the tab, so a reload mid-run still compares
const POLL_MS = 400;
const RETRY_MAX_MS = 5000; // the longest wait between polls while the service does not answer

export async function render(root, _params, alive) {
  const info = el("dl", {class: "facts", id: "model-facts"});
  root.append(el("h2", {}, "Model"), info);
  const ready = await attempt(() => api("GET", "/readyz"));
  if (!ready || !alive()) return;
  const fact = (name, value, id) => [el("dt", {}, name), el("dd", {id}, String(value ?? "–"))];
  info.append(...fact("model version", ready.model_version, "model-version"),
    ...fact("index", `${ready.index_size} FAQ entries, ${{flat: "exact (flat)", ivf: "approximate (IVF)", hnsw: "approximate (HNSW graph)"}[ready.index_kind] ?? ready.index_kind} search${ready.index_rebuilding ? " (rebuilding)" : ""}`, "index-size"),
    ...fact("store revision", ready.revision, "model-revision"));
  if (!apiKey.get()) {
    root.append(el("p", {class: "notice", id: "needs-key"}, "Retraining is an admin action: enter the API key at the top."));
    return;
  }
  const bar = el("progress", {id: "retrain-progress", max: 1, value: 0});
  const message = el("span", {id: "retrain-message", class: "help"});
  const figure = el("section", {id: "before-after", class: "before-after"});
  const button = el("button", {type: "button", id: "retrain-button", class: "primary", onclick: start}, "Retrain now");
  root.append(el("section", {class: "retrain"},
    el("h3", {}, "Retrain"),
    el("p", {class: "help"}, "Trains the encoder again on every FAQ's question and alternates " +
       "(new alternates teach it new wordings), then swaps it in. The current model keeps " +
       "answering meanwhile."),
    el("div", {class: "row"}, button, bar, message)), figure);

  const status = await attempt(() => api("GET", "/admin/retrain"));
  if (!status || !alive()) return;
  show(status);
  if (status.state === "running") poll();
  else if (status.state === "succeeded") compare();  // the last run's figure, on a reload too

  async function start() {
    const before = await attempt(() => api("GET", "/admin/feedback/score"));
    if (!before) return;
    sessionStorage.setItem(BEFORE, JSON.stringify(before));
    const started = await attempt(() => api("POST", "/admin/retrain"));
    if (!started) return;
    say("Retrain started.");
    figure.replaceChildren();
    show(started);
    poll();
  }

  // Until the run ends. A service that stops answering (restarted, say) is asked again,
  // less and less often, until it answers: then the run's state (interrupted, often).
  async function poll() {
    let misses = 0;
    while (alive()) {
      await new Promise((resolve) => setTimeout(resolve, pause(misses)));
      let now;
      try {
        now = await api("GET", "/admin/retrain");
      } catch (error) {
        if (!alive()) return;
        if (!unanswered(error)) { refused(error); button.disabled = false; return; }
        misses += 1;
        notAnswering(error, pause(misses));
        continue;
      }
      if (!alive()) return;
      if (misses) say("The service answers again.");
      misses = 0;
      show(now);
      if (now.state !== "running") return finished(now);
    }
  }

  function notAnswering(error, waitMs) {
    message.textContent = `the service is not answering: asking again in ${Math.round(waitMs / 1000) || 1} s`;
    say(`Retrain progress unknown: ${error.message}; asking again until the service answers.`, "error");
  }

  function show(now) {
    bar.value = now.progress;
    message.textContent = `${now.state}: ${now.message} (${pct(now.progress)})`;
    button.disabled = now.state === "running";
  }

  async function finished(now) {
    if (now.state === "failed") { say(`Retrain failed: ${now.error}`, "error"); return; }
    say(`Retrain finished: serving model ${now.new_model_version}.`);
    document.getElementById("model-version").textContent = now.model_version;
    await compare();
  }

  // "before" was taken in this tab just before the start; "after" is the serving model now.
  async function compare() {
    const before = JSON.parse(sessionStorage.getItem(BEFORE) || "null");
    if (!before) return;
    const after = await attempt(() => api("GET", "/admin/feedback/score"));
    if (after && alive()) figure.replaceChildren(...comparison(before, after));
  }
}

// Between polls: longer after each one the service did not answer.
function pause(misses) {
  return Math.min(POLL_MS * 2 ** misses, RETRY_MAX_MS);
}

// No answer (status 0) or a gateway's "unavailable": worth asking again.
function unanswered(error) {
  return error.status === 0 || [502, 503, 504].includes(error.status);
}

// Two stacked bars (before, after): shares of the feedback questions right / wrong / declined.
function comparison(before, after) {
  if (!after.n_examples || !before.n_examples) {
    return [el("p", {class: "notice", id: "no-feedback"}, "No stored feedback to compare on: " +
      "mark answers right or wrong on the Try page, and the next retrain shows before and after.")];
  }
  const rows = [["before", before], ["after", after]];
  const bars = rows.map(([name, score], i) => {
    const o = outcome(score.metrics);
    let x = 70;
    const parts = SERIES.map(([key]) => {
      const w = 500 * o[key];
      const rect = svg("rect", {class: `part ${key}`, x: x.toFixed(1), y: 10 + i * 40, width: w.toFixed(1), height: 28});
      x += w;
      return rect;
    });
    return [svg("text", {class: "tick", x: 60, y: 29 + i * 40, "text-anchor": "end"}, name), ...parts];
  });
  return [
    el("h3", {}, `Before and after, on ${after.n_examples} questions with feedback`),
    svg("svg", {class: "compare", viewBox: "0 0 580 96", role: "img", id: "compare-figure",
                "aria-label": "answered right, wrong and declined before and after the retrain"}, ...bars.flat()),
    el("ul", {class: "compare-legend"}, rows.map(([name, score]) => {
      const o = outcome(score.metrics);
      return el("li", {}, `${name} (model ${score.model_version}, threshold ${fmt(score.threshold)}): `,
        ...SERIES.map(([key, label]) => el("span", {class: `legend ${key}`}, `${label} ${pct(o[key])}`)));
    })),
  ];
}
