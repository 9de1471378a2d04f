// The threshold chart: shares of the tuning examples answered right, answered wrong and
// declined at every threshold of the last tuning, with the current and the chosen threshold.

import {svg} from "./dom.js";

const W = 640, H = 300, L = 52, R = 24, T = 14, B = 36;
export const SERIES = [
  ["right", "answered right"],
  ["wrong", "answered wrong"],
  ["declined", "declined"],
];

// A curve point as the three shares of all examples (they add up to 1).
export function outcome(point) {
  const wrong = point.wrong_answer_rate;
  return {right: point.coverage - wrong, wrong, declined: 1 - point.coverage};
}

export function nearest(curve, threshold) {
  let best = curve[0];
  for (const p of curve) if (Math.abs(p.threshold - threshold) < Math.abs(best.threshold - threshold)) best = p;
  return best;
}

// -> {node, mark(threshold)}; onPick(threshold) is called on click / drag over the plot.
export function thresholdChart(curve, current, onPick) {
  const lo = Math.min(curve[0].threshold, current), hi = Math.max(curve.at(-1).threshold, current);
  const x = (t) => L + ((t - lo) / (hi - lo || 1)) * (W - L - R);
  const y = (v) => T + (1 - v) * (H - T - B);
  const grid = [];
  for (let v = 0; v <= 1.0001; v += 0.25) {
    grid.push(svg("line", {class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v)}),
              svg("text", {class: "tick", x: L - 6, y: y(v) + 4, "text-anchor": "end"}, `${Math.round(v * 100)}%`));
  }
  const step = (hi - lo) / 5;
  for (let i = 0; i <= 5; i += 1) {
    const t = lo + i * step;
    grid.push(svg("text", {class: "tick", x: x(t), y: H - B + 16, "text-anchor": "middle"}, t.toFixed(2)));
  }
  const lines = SERIES.map(([key]) => svg("polyline", {class: `series ${key}`,
    points: curve.map((p) => `${x(p.threshold).toFixed(1)},${y(outcome(p)[key]).toFixed(1)}`).join(" ")}));
  const currentLine = svg("line", {class: "current", x1: x(current), x2: x(current), y1: T, y2: H - B});
  // The value being looked at: drawn once it differs from the current one.
  const chosen = svg("line", {class: "chosen", x1: x(current), x2: x(current), y1: T, y2: H - B,
                              visibility: "hidden"});
  const plot = svg("rect", {class: "hit", x: L, y: T, width: W - L - R, height: H - T - B});
  const node = svg("svg", {class: "chart", id: "threshold-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
                           "aria-label": "answered right, answered wrong and declined against the threshold"},
    ...grid, ...lines, currentLine, chosen,
    svg("text", {class: "axis", x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle"}, "threshold (cosine)"),
    plot);
  const pick = (event) => {
    const box = node.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * W;
    const t = lo + ((px - L) / (W - L - R)) * (hi - lo);
    onPick(Math.max(lo, Math.min(hi, t)));
  };
  plot.addEventListener("click", pick);
  plot.addEventListener("pointermove", (event) => { if (event.buttons) pick(event); });
  return {
    node,
    mark(t) {
      chosen.setAttribute("x1", x(t));
      chosen.setAttribute("x2", x(t));
      chosen.setAttribute("visibility", Math.abs(t - current) > 1e-9 ? "visible" : "hidden");
    },
  };
}
