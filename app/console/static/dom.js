// DOM helpers. Text always goes in as text nodes or textContent (never parsed as HTML), so FAQ text and
// questions can hold any characters, markup included, and show as written.

const SVG = "http://www.w3.org/2000/svg";

// el("button", {class: "x", onclick: fn}, "text", child) -> element
export function el(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function fmt(value, digits = 3) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

export function pct(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)} %`;
}

// Score bar: the score as a filled bar over [0, 1] with the threshold as a vertical line.
export function scoreBar(score, threshold, label) {
  const clamp = (v) => Math.max(0, Math.min(1, v ?? 0));
  const passed = score !== null && score >= threshold;
  return svg("svg", {class: "scorebar", viewBox: "0 0 200 16", preserveAspectRatio: "none",
                     role: "img", "aria-label": label},
    svg("rect", {class: "track", x: 0, y: 2, width: 200, height: 12}),
    svg("rect", {class: passed ? "fill pass" : "fill fail", x: 0, y: 2,
                 width: (200 * clamp(score)).toFixed(1), height: 12}),
    svg("line", {class: "mark", x1: (200 * clamp(threshold)).toFixed(1), y1: 0,
                 x2: (200 * clamp(threshold)).toFixed(1), y2: 16}));
}
