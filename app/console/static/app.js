// Boot: the key box and the hash router (#try, #faqs, ...). Each page module exports
// `render(root, params)` and draws into the empty <main>.

import {apiKey} from "./api.js";
import {say} from "./status.js";
import * as tryPage from "./page_try.js";
import * as faqsPage from "./page_faqs.js";
import * as unansweredPage from "./page_unanswered.js";
import * as thresholdPage from "./page_threshold.js";
import * as modelPage from "./page_model.js";

const PAGES = {try: tryPage, faqs: faqsPage, unanswered: unansweredPage,
               threshold: thresholdPage, model: modelPage};

// `refused`: the service refused the key kept here (401), so the box shows again for
// another one while "Forget key" stays.
function showKeyState(refused = false) {
  const has = Boolean(apiKey.get());
  document.getElementById("key-state").textContent =
    !has ? "read-only (no key)" : refused ? "key refused: enter the right one" : "key set for this tab";
  document.getElementById("key-forget").hidden = !has;
  document.getElementById("key-input").hidden = has && !refused;
  document.getElementById("key-save").hidden = has && !refused;
  document.getElementById("key-label").hidden = has && !refused;
}

// The page is kept as it is (an answer shown, an editor's draft): the next request sends the
// new key. Only a page that is nothing but a "needs the key" notice is drawn again.
function keyChanged(message) {
  showKeyState();
  say(message);
  if (document.getElementById("needs-key")) route();
}

function setUpKey() {
  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("key-input");
    const value = input.value.trim();
    input.value = "";
    if (!value) return;
    apiKey.set(value);
    keyChanged("Key kept for this browser tab only (closing the tab forgets it).");
  });
  document.getElementById("key-forget").addEventListener("click", () => {
    apiKey.clear();
    keyChanged("Key forgotten: read-only.");
  });
  addEventListener("console:key-refused", () => showKeyState(true));
  showKeyState();
}

let current = 0;

function route() {
  const [name, query] = (location.hash.slice(1) || "try").split("?");
  const page = PAGES[name] ? name : "try";
  for (const link of document.querySelectorAll("nav.tabs a")) {
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const root = document.getElementById("page");
  root.replaceChildren();
  root.dataset.page = page;
  current += 1;
  const token = current;
  // `alive()` lets a page's timers and late responses stop once another page is shown.
  PAGES[page].render(root, new URLSearchParams(query || ""), () => token === current);
}

setUpKey();
window.addEventListener("hashchange", () => { say(""); route(); });
// A page redraws itself after a write, keeping the status line that reports the write.
window.addEventListener("console:rerender", () => route());
route();
