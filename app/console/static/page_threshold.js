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
  const set = setter(current.threshold, (typed) => preview(storable(typed)));
  const chart = thresholdChart(tuning.curve, current.threshold, (t) => show(t));
  // The slider, chart and readout at `t`; the slider and the mark stop at the plot's ends.
  function preview(t) {
    slider.value = t;
    chart.mark(Math.min(Number(slider.max), Math.max(Number(slider.min), t)));
    const p = outcome(nearest(tuning.curve, t));
    readout.replaceChildren(el("strong", {}, `at ${fmt(t)}, of ${tuning.n_examples} questions: `),
      ...SERIES.map(([key, label]) => el("span", {class: `legend ${key}`}, `${label} ${pct(p[key])}`)));
  }
  // A pick on the chart or the slider also fills the field; a value typed there is never
  // rewritten (it is what Apply sends).
  function show(picked) {
    const t = storable(picked);
    preview(t);
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
  preview(storable(current.threshold));
}

// A threshold as stored: three decimals when that is exact, else every digit (Apply on an
// untouched field keeps the current value, not its rounding).
function asStored(t) {
  return Number(fmt(t)) === t ? fmt(t) : String(t);
}

// The curve's end points (answer everything, answer nothing) lie just outside [-1, 1], which
// is all PUT /admin/threshold accepts: a pick past them means the end of the range.
function storable(t) {
  return Math.min(1, Math.max(-1, t));
}

// `onTyped(t)` follows each number typed in the field. Any number is sent as typed (step
// "any", no browser validation): the API judges the range and says why it refuses.
function setter(value, onTyped) {
  const input = el("input", {type: "number", id: "threshold-input", min: -1, max: 1, step: "any", value: asStored(value)});
  const node = el("form", {class: "row setter", novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const typed = typedNumber(input);
      if (typed === null) {
        say("Type the new threshold as a number from -1 to 1: nothing applied.", "error");
        return;
      }
      const done = await attempt(() => api("PUT", "/admin/threshold", {threshold: typed}));
      if (done) {
        say(`Threshold set to ${asStored(done.threshold)}: every worker follows within a second.`);
        dispatchEvent(new Event("console:rerender"));
      }
    }},
    el("label", {for: "threshold-input", class: "inline"}, `Current ${fmt(value)} · new value`), input,
    el("button", {type: "submit", id: "threshold-apply"}, "Apply"));
  if (onTyped) input.addEventListener("input", () => { const t = typedNumber(input); if (t !== null) onTyped(t); });
  return {node, input};
}

// The field's number, or null when it is empty or not a number (a number input then reads "").
function typedNumber(input) {
  const t = input.value.trim() === "" ? NaN : Number(input.value);
  return Number.isFinite(t) ? t : null;
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
          const said = `Tuned on ${done.n_examples} feedback questions: ${objective.value} is best at ${fmt(done.threshold)}`;
          say(done.warning ? `${said}, but ${done.warning}.` : `${said}.`, done.warning ? "error" : "ok");
          dispatchEvent(new Event("console:rerender"));
        }
      }}, "Tune from feedback")));
}
