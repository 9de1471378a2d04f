// Threshold: the curve of the last tuning (GET /admin/threshold/curve) as an interactive
// chart, the current value marked, a control to apply a new one (PUT /admin/threshold) and
// "tune from feedback" (POST /admin/threshold/tune/feedback).

import {api, apiKey} from "./api.js";
import {el, fmt, pct} from "./dom.js";
import {SERIES, nearest, outcome, thresholdChart} from "./chart.js";
import {attempt, refused, say} from "./status.js";

export async function render(root, _params, alive) {
  root.append(el("h2", {}, "Threshold"),
    el("p", {class: "help"}, "Samesay answers when the best match scores at least the " +
       "threshold. Higher: fewer wrong answers, more questions declined. The curve is from the " +
       "last tuning on labelled questions; click the chart or move the slider to see a value."));
  if (!apiKey.get()) {
    root.append(el("p", {class: "notice", id: "needs-key"}, "Tuning data is admin data: enter the API key at the top to see it."));
    return;
  }
  const current = await attempt(() => api("GET", "/admin/threshold"));
  if (!current || !alive()) return;
  let tuning = null;
  try {
    tuning = await api("GET", "/admin/threshold/curve");
  } catch (error) {
    if (error.status !== 404) { refused(error); return; }
  }
  if (!alive()) return;
  const tuneBox = tuneFromFeedback();
  if (tuning === null) {
    root.append(el("p", {class: "notice", id: "no-curve"},
      "No tuning has run yet. Tune from feedback below, or POST labelled questions to /admin/threshold/tune."),
      setter(current.threshold, null).node, tuneBox);
    return;
  }
  const readout = el("div", {class: "readout", id: "chart-readout"});
  const slider = el("input", {type: "range", id: "threshold-slider",
                              // On the step's grid, so that the far end (1 at most) is reachable.
                              min: Math.floor(storable(Math.min(tuning.curve[0].threshold, current.threshold)) * 1000) / 1000,
                              max: storable(Math.max(tuning.curve.at(-1).threshold, current.threshold)),
                              step: 0.001, value: current.threshold, "aria-label": "threshold to inspect"});
  const set = setter(current.threshold, slider);
  const chart = thresholdChart(tuning.curve, current.threshold, (t) => show(t));
  function show(picked) {
    const t = storable(picked);
    slider.value = t;
    chart.mark(t);
    const p = outcome(nearest(tuning.curve, t));
    readout.replaceChildren(el("strong", {}, `at ${fmt(t)}, of ${tuning.n_examples} questions: `),
      ...SERIES.map(([key, label]) => el("span", {class: `legend ${key}`}, `${label} ${pct(p[key])}`)));
    set.input.value = t.toFixed(3);
  }
  slider.addEventListener("input", () => show(Number(slider.value)));
  root.append(
    el("div", {class: "row legend-row"},
      ...SERIES.map(([key, label]) => el("span", {class: `legend ${key}`}, label)),
      el("span", {class: "legend current"}, `current ${fmt(current.threshold)}`),
      el("span", {class: "legend chosen"}, "the value you picked")),
    chart.node, slider, readout,
    el("p", {class: "help", id: "curve-source"}, `Tuned on ${tuning.n_examples} ${tuning.source}, ` +
      `${new Date(tuning.tuned_at).toLocaleString()}; it recommended ${fmt(tuning.threshold)} for ${tuning.objective}.`),
    set.node, tuneBox);
  set.node.append(el("button", {type: "button", id: "use-recommended",
                                onclick: () => show(tuning.threshold)},
                     `Pick the recommended ${fmt(tuning.threshold)}`));
  show(current.threshold);
}

// The curve's end points (answer everything, answer nothing) lie just outside [-1, 1], which
// is all PUT /admin/threshold accepts: a pick past them means the end of the range.
function storable(t) {
  return Math.min(1, Math.max(-1, t));
}

function setter(value, slider) {
  const input = el("input", {type: "number", id: "threshold-input", min: -1, max: 1, step: 0.001, value: fmt(value)});
  const node = el("form", {class: "row setter", onsubmit: async (e) => {
      e.preventDefault();
      const done = await attempt(() => api("PUT", "/admin/threshold", {threshold: Number(input.value)}));
      if (done) {
        say(`Threshold set to ${fmt(done.threshold)}: every worker follows within a second.`);
        dispatchEvent(new Event("console:rerender"));
      }
    }},
    el("label", {for: "threshold-input", class: "inline"}, `Current ${fmt(value)} · new value`), input,
    el("button", {type: "submit", id: "threshold-apply"}, "Apply"));
  if (slider) input.addEventListener("change", () => { slider.value = input.value; slider.dispatchEvent(new Event("input")); });
  return {node, input};
}

function tuneFromFeedback() {
  const objective = el("select", {id: "tune-objective", "aria-label": "objective"},
    el("option", {value: "accuracy"}, "accuracy"), el("option", {value: "f1"}, "F1"),
    el("option", {value: "precision"}, "precision ≥ 0.95"));
  return el("section", {class: "tune"},
    el("h3", {}, "Tune from feedback"),
    el("p", {class: "help"}, "Builds labelled questions from the answers marked right or " +
       "wrong (a wrong one expects the FAQ named, or no answer) and draws their curve here. " +
       "It only recommends: apply the value you want above."),
    el("div", {class: "row"}, objective,
      el("button", {type: "button", id: "tune-feedback", onclick: async () => {
        const done = await attempt(() => api("POST", "/admin/threshold/tune/feedback", {objective: objective.value}));
        if (done) {
          say(`Tuned on ${done.n_examples} feedback questions: ${objective.value} is best at ${fmt(done.threshold)}.`);
          dispatchEvent(new Event("console:rerender"));
        }
      }}, "Tune from feedback")));
}
