// Unanswered: the review queue (GET /admin/review). One click makes a question an alternate
// of the suggested FAQ (PATCH /faq/{id}), or starts a new FAQ with it; either way it is then
// a stored phrasing and leaves the queue.

import {api, apiKey, ifMatch} from "./api.js";
import {el, fmt} from "./dom.js";
import {attempt, say} from "./status.js";

// The longest phrasing the store keeps (a question or an alternate); /ask takes up to 1000.
const PHRASING_CHARS = 500;

export async function render(root, _params, alive) {
  root.append(el("h2", {}, "Unanswered questions"),
    el("p", {class: "help"}, "Questions Samesay declined, most frequent first, then answers " +
       "marked wrong with a better FAQ named. Adding one as an alternate makes it answerable " +
       "at once (no retrain needed); retrain later so similar wordings match too."),
    el("p", {class: "help"}, "The suggestions are only the nearest FAQs by score: add the " +
       "question where that FAQ's answer really answers it, start a new FAQ, or mark it " +
       "right not to answer (off-topic questions)."));
  if (!apiKey.get()) {
    root.append(el("p", {class: "notice", id: "needs-key"},
      "The queue is admin data: enter the API key at the top to see it."));
    return;
  }
  const list = el("ol", {class: "queue", id: "queue"});
  root.append(list);
  const data = await attempt(() => api("GET", "/admin/review?limit=50&suggestions=3"));
  if (!data || !alive()) return;
  if (!data.items.length) {
    list.replaceWith(el("p", {class: "notice", id: "queue-empty"},
      "Nothing waiting: every declined question has been handled."));
    return;
  }
  list.append(...data.items.map((item) => queueItem(item)));
}

function queueItem(item) {
  const node = el("li", {class: "queue-item"});
  const title = item.kind === "unanswered"
    ? `asked ${item.count}× · last ${new Date(item.last_asked_at).toLocaleString()}`
    : `marked wrong (answered #${item.answered_faq_id ?? "–"}), ` +
      (item.named_faq_id === null ? "the FAQ named as right was deleted since"
                                  : `FAQ #${item.named_faq_id} named as right`);
  // Too long to store as a phrasing: it can be declined, or shortened in a new FAQ.
  const length = [...item.question].length; // in characters, as the API counts them
  const tooLong = length > PHRASING_CHARS;
  // Enter in the id box does what its button does.
  const otherId = el("input", {type: "number", min: 1, class: "faq-id-input", disabled: tooLong,
                               "aria-label": "another FAQ id", placeholder: "FAQ id",
                               onkeydown: (e) => { if (e.key === "Enter") { e.preventDefault(); addToOther(); } }});
  const addToOther = () => { if (otherId.value) addAlternate(node, item.question, Number(otherId.value)); };
  node.append(
    el("div", {class: "queue-question"}, el("q", {}, item.question)),
    el("div", {class: "help"}, title),
    tooLong ? el("p", {class: "notice too-long"}, `This question has ${length} characters: ` +
      `too long to store as written (a question or an alternate holds ${PHRASING_CHARS} at most), so it ` +
      "cannot be added as an alternate. Start a new FAQ with it and shorten it there, or mark it right not to answer.") : null,
    el("ul", {class: "suggestions"}, item.suggestions.map((s) => el("li", {},
      el("button", {type: "button", class: "add-alternate primary", "data-faq": s.faq_id, disabled: tooLong,
                    onclick: () => addAlternate(node, item.question, s.faq_id)},
         `Add as alternate of #${s.faq_id}`),
      el("span", {class: "suggested"}, s.question),
      el("span", {class: "num"}, s.score === null ? "named" : fmt(s.score))))),
    el("div", {class: "row actions"},
      otherId,
      el("button", {type: "button", class: "add-other", disabled: tooLong, onclick: addToOther}, "Add to this FAQ"),
      el("a", {class: "button", href: `#faqs?new=${encodeURIComponent(item.question)}`},
         "Start a new FAQ with it"),
      item.kind === "unanswered" ? el("button", {type: "button", class: "decline",
        onclick: () => rightlyDeclined(node, item)}, "Right not to answer") : null));
  return node;
}

// Feedback "declining was right" on its latest ask: it leaves the queue and becomes a
// "should not be answered" example for tuning from feedback.
async function rightlyDeclined(node, item) {
  const stored = await attempt(() => api("POST", "/feedback", {ask_id: item.ask_id, correct: true}));
  if (!stored) return;
  removeItem(node);
  say(`“${item.question}” marked as rightly declined (feedback #${stored.id}): it counts as ` +
      "a question not to answer when you tune from feedback.");
}

function removeItem(node) {
  node.remove();
  if (!document.querySelector("#queue li")) {
    document.getElementById("queue")?.replaceWith(el("p", {class: "notice", id: "queue-empty"},
      "Nothing waiting: every declined question has been handled."));
  }
}

// Read, append, write if unchanged: an edit saved in between (412) is read again and the
// question appended to it, instead of the PATCH dropping that edit's alternates.
async function addAlternate(node, question, faqId) {
  const done = await attempt(async () => {
    for (let tries = 1; ; tries += 1) {
      const entry = await api("GET", `/faq/${faqId}`);
      try {
        return await api("PATCH", `/faq/${faqId}`, {alternates: [...entry.alternates, question]}, ifMatch(entry));
      } catch (error) {
        if (error.status !== 412 || tries === 3) throw error;
      }
    }
  });
  if (!done) return;
  removeItem(node);
  say(`Added “${question}” as an alternate of FAQ #${faqId}: revision ${done.revision}.`);
}
