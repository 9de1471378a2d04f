// Try it: ask a question, see why it matched (score against the threshold, top-k with the
// phrasing that matched), and mark the result right or wrong (POST /feedback).

import {api} from "./api.js";
import {el, fmt, scoreBar} from "./dom.js";
import {attempt, say} from "./status.js";

export function render(root, params) {
  const question = el("input", {id: "ask-question", type: "text", required: true,
                                maxlength: 1000, placeholder: "e.g. where is my parcel?"});
  const topK = el("input", {id: "ask-topk", type: "number", min: 1, max: 50, value: 5});
  const result = el("section", {id: "ask-result", class: "result", "aria-live": "polite"});
  const form = el("form", {class: "ask", onsubmit: (e) => { e.preventDefault(); ask(); }},
    el("label", {for: "ask-question"}, "Question"),
    el("div", {class: "row"}, question,
      el("span", {class: "group"}, el("label", {for: "ask-topk", class: "inline"}, "show"), topK,
         el("span", {}, "matches")),
      el("button", {type: "submit", id: "ask-button"}, "Ask")));
  root.append(el("h2", {}, "Try a question"),
    el("p", {class: "help"}, "Asks /ask exactly as a user would (it is logged: a declined " +
       "question shows up on the Unanswered page)."), form, result);

  async function ask() {
    const text = question.value.trim();
    if (!text) return;
    const answer = await attempt(() => api("POST", "/ask", {question: text, top_k: Number(topK.value) || 5}));
    if (answer) showAnswer(result, text, answer);
  }
  const preset = params.get("q");
  if (preset) { question.value = preset; ask(); }
  question.focus();
}

function showAnswer(result, asked, data) {
  const verdict = data.answered
    ? el("div", {class: "answer", id: "answer-text"}, data.answer)
    : el("div", {class: "answer none", id: "answer-text"},
         "No answer: the best match is below the threshold, so Samesay declines.");
  const scoreLine = el("div", {class: "score-line"},
    scoreBar(data.score, data.threshold, "best score against the threshold"),
    el("span", {id: "answer-score"}, `best score ${fmt(data.score)} · threshold ${fmt(data.threshold)} (the black line)`),
    data.answered ? el("span", {class: "badge pass"}, `FAQ #${data.faq_id}`)
                  : el("span", {class: "badge fail"}, "declined"));
  const matches = el("ol", {class: "matches", id: "matches"},
    data.matches.map((m) => el("li", {class: "match"},
      el("div", {class: "match-head"},
        el("span", {class: "faq-id"}, `#${m.faq_id}`),
        el("span", {class: "matched"}, m.question),
        el("span", {class: "num"}, fmt(m.score))),
      scoreBar(m.score, data.threshold, `score of FAQ ${m.faq_id}`),
      el("div", {class: "snippet"}, m.answer))));
  const better = el("select", {id: "better-faq", "aria-label": "the FAQ that would have been right"},
    el("option", {value: ""}, "no FAQ fits"),
    data.matches.map((m) => el("option", {value: m.faq_id}, `#${m.faq_id} ${m.question}`)));
  const feedback = el("div", {class: "feedback"},
    el("span", {}, "Was this right?"),
    el("button", {type: "button", id: "mark-right",
                  onclick: () => send(true, null)}, "Right"),
    el("button", {type: "button", id: "mark-wrong",
                  onclick: () => send(false, better.value ? Number(better.value) : null)}, "Wrong"),
    el("label", {for: "better-faq", class: "inline"}, "better FAQ:"), better);
  result.replaceChildren(
    el("h3", {}, "Answer to ", el("q", {}, asked)), verdict, scoreLine, feedback,
    el("h3", {}, `Top ${data.matches.length} matches (the phrasing that matched)`), matches,
    el("p", {class: "help"}, `model ${data.model_version} · revision ${data.revision}`));

  async function send(correct, faqId) {
    const body = {ask_id: data.ask_id, correct};
    if (faqId !== null) body.faq_id = faqId;
    const stored = await attempt(() => api("POST", "/feedback", body));
    if (stored) {
      say(`Feedback #${stored.id} saved: marked ${correct ? "right" : "wrong"}` +
          (faqId ? `, FAQ #${faqId} would have been right` : "") + ".");
    }
  }
}
