"""FAQs on topics the demo never covers, added to a served store after its last fine-tune:
does the model still know general language? (Ten FAQs, EN + ZH, two paraphrases each.)

The FAQs go into the store as a user would add them (no retrain); each paraphrase is then
ranked against every stored FAQ, best phrasing per FAQ, as /ask does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.sentence_encoder import SentenceEncoder
from store.entries import FaqDraft
from store.faq_store import FaqStore
from training.threshold import best_matches

NEW_TOPICS_FILE = Path(__file__).with_name("new_topics.jsonl")


@dataclass(frozen=True)
class NewTopic:
    language: str
    question: str
    alternates: tuple[str, ...]
    asked: tuple[str, ...]


def load_new_topics() -> list[NewTopic]:
    rows = [json.loads(line) for line in NEW_TOPICS_FILE.read_text(encoding="utf-8").splitlines()]
    return [
        NewTopic(r["language"], r["question"], tuple(r["alternates"]), tuple(r["asked"]))
        for r in rows
    ]


def new_topic_hits(store: FaqStore, encoder: SentenceEncoder) -> dict[str, dict[str, int]]:
    """Add the new-topic FAQs to `store`, then count, per language, the paraphrases whose
    best-scoring FAQ is the right one: {"en": {"right": r, "asked": n}, ...}."""
    topics = load_new_topics()
    added = store.add([FaqDraft(t.question, "(new topic)", t.alternates) for t in topics])
    ids = [entry.id for entry in added]
    entries = list(store.iter_entries())
    asked = [
        (q, faq_id, t.language) for t, faq_id in zip(topics, ids, strict=True) for q in t.asked
    ]
    _, predicted = best_matches(encoder, entries, [q for q, _, _ in asked])
    out: dict[str, dict[str, int]] = {}
    for language in sorted({t.language for t in topics}):
        rows = [i for i, (_, _, lang) in enumerate(asked) if lang == language]
        right = int(np.sum([predicted[i] == asked[i][1] for i in rows]))
        out[language] = {"right": right, "asked": len(rows)}
    return out
