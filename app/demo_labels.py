"""The demo's labelled questions for the FAQs a store holds: what tunes a threshold for a
store that still has the demo in it (first start, and every retrain after it).

Kept apart from app.bootstrap, which imports the trainer (torch): the retrain runs in the
serving worker, which never loads torch.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.demo import LANGUAGES, DemoLanguage, load_faqs, load_unanswerable
from store.entries import FaqDraft, FaqEntry


def demo_tuning_examples(
    entries: Sequence[FaqEntry], languages: tuple[DemoLanguage, ...] = LANGUAGES
) -> list[tuple[str, int | None, DemoLanguage]]:
    """(question, expected FAQ id or None, language) for every demo language whose FAQs are
    all in the store: held-out phrasings expect their FAQ, unanswerable questions None."""
    by_question = {entry.question: entry.id for entry in entries}
    examples: list[tuple[str, int | None, DemoLanguage]] = []
    for language in languages:
        faqs = load_faqs(language)
        # Compare as the store normalises (NFKC, trimmed), so ids map back exactly.
        ids = [by_question.get(FaqDraft(f.question, f.answer).question) for f in faqs]
        if any(faq_id is None for faq_id in ids):
            continue  # this language's demo was not imported (or was edited): no labels
        for faq, faq_id in zip(faqs, ids, strict=True):
            examples += [(text, faq_id, language) for text in faq.heldout]
        examples += [(q.question, None, language) for q in load_unanswerable(language)]
    return examples
