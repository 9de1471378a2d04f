"""The bundled demo files: schema, counts, and no phrasing shared between FAQs or test sets."""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib import resources

import pytest

from app.demo import LANGUAGES, load_faqs, load_unanswerable
from model.text import normalize

MIN_FAQS = 40
MIN_ALTERNATES = 6
MIN_HELDOUT = 3
MIN_UNANSWERABLE = 40
# The store's validation limits (issue 2): demo entries must import without rejections.
MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 20_000
MAX_ALTERNATES = 100

_TRAILING_PUNCTUATION = re.compile(r"[\s?!.。？！,，]+$")


def _key(text: str) -> str:
    # "Reset password?" and "reset password" are the same phrasing for a duplicate check.
    return _TRAILING_PUNCTUATION.sub("", normalize(text))


def _raw_rows(name: str) -> list[dict[str, object]]:
    text = resources.files("app.demo").joinpath(name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("language", LANGUAGES)
def test_faq_rows_have_exactly_the_documented_fields(language: str) -> None:
    rows = _raw_rows(f"faqs_{language}.jsonl")
    assert len(rows) >= MIN_FAQS
    for row in rows:
        assert set(row) == {"question", "answer", "alternates", "tags", "heldout"}, row
        assert isinstance(row["question"], str) and row["question"].strip()
        assert isinstance(row["answer"], str) and len(row["answer"].strip()) >= 40, row
        for field in ("alternates", "tags", "heldout"):
            values = row[field]
            assert isinstance(values, list) and values, (field, row["question"])
            assert all(isinstance(v, str) and v.strip() for v in values), (field, row)


@pytest.mark.parametrize("language", LANGUAGES)
def test_faqs_meet_the_counts_and_store_limits(language: str) -> None:
    for faq in load_faqs(language):
        assert len(faq.alternates) >= MIN_ALTERNATES, faq.question
        assert len(faq.alternates) <= MAX_ALTERNATES, faq.question
        assert len(faq.heldout) >= MIN_HELDOUT, faq.question
        assert all(len(p) <= MAX_QUESTION_CHARS for p in (*faq.phrasings, *faq.heldout))
        assert len(faq.answer) <= MAX_ANSWER_CHARS


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_phrasing_appears_twice_anywhere(language: str) -> None:
    # Indexed phrasings, held-out phrasings and unanswerable questions are disjoint, so the
    # tuning set measures unseen wording and no two FAQs compete for the same question.
    faqs = load_faqs(language)
    texts = [p for faq in faqs for p in (*faq.phrasings, *faq.heldout)]
    texts += [u.question for u in load_unanswerable(language)]
    duplicates = [text for text, n in Counter(_key(t) for t in texts).items() if n > 1]
    assert duplicates == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_faq_questions_are_distinct_from_each_other(language: str) -> None:
    faqs = load_faqs(language)
    assert len({_key(f.question) for f in faqs}) == len(faqs)
    assert len({f.answer for f in faqs}) == len(faqs)


@pytest.mark.parametrize("language", LANGUAGES)
def test_unanswerable_list_has_both_kinds(language: str) -> None:
    rows = _raw_rows(f"unanswerable_{language}.jsonl")
    assert all(set(row) == {"question", "kind"} for row in rows)
    questions = load_unanswerable(language)
    assert len(questions) >= MIN_UNANSWERABLE
    kinds = Counter(q.kind for q in questions)
    assert set(kinds) == {"near_miss", "off_topic"}
    # Near misses are what makes the threshold hard; keep a real share of them.
    assert kinds["near_miss"] >= 15


def test_chinese_files_are_chinese_and_english_files_are_not() -> None:
    def han_share(texts: list[str]) -> float:
        chars = "".join(texts)
        return sum("\u4e00" <= c <= "\u9fff" for c in chars) / max(len(chars), 1)

    zh = [p for f in load_faqs("zh") for p in f.phrasings]
    en = [p for f in load_faqs("en") for p in f.phrasings]
    assert han_share(zh) > 0.7
    assert han_share(en) == 0.0
