"""The bundled demo help centre (Lumen Market, English and Chinese), read as package data.

Files (one JSON object a line, written by hand for Samesay — not taken from any dataset):
- `faqs_<lang>.jsonl`: `{question, answer, alternates, tags, heldout}`. `heldout` phrasings are
  never imported or trained on; with the unanswerable list they make a threshold-tuning set.
- `unanswerable_<lang>.jsonl`: `{question, kind}`, kind `near_miss` (same domain, no FAQ
  covers it) or `off_topic`: questions the help centre should not answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Literal

DemoLanguage = Literal["en", "zh"]
LANGUAGES: tuple[DemoLanguage, ...] = ("en", "zh")


@dataclass(frozen=True)
class DemoFaq:
    question: str
    answer: str
    alternates: tuple[str, ...]
    tags: tuple[str, ...]
    # Phrasings kept out of the store and the training data: they test unseen wording.
    heldout: tuple[str, ...]

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.alternates)


@dataclass(frozen=True)
class UnanswerableQuestion:
    question: str
    kind: Literal["near_miss", "off_topic"]


def _read_jsonl(name: str) -> list[dict[str, object]]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_faqs(language: DemoLanguage) -> list[DemoFaq]:
    """The demo FAQs of one language, in file order."""
    return [
        DemoFaq(
            question=str(row["question"]),
            answer=str(row["answer"]),
            alternates=tuple(row["alternates"]),  # type: ignore[arg-type]
            tags=tuple(row["tags"]),  # type: ignore[arg-type]
            heldout=tuple(row["heldout"]),  # type: ignore[arg-type]
        )
        for row in _read_jsonl(f"faqs_{language}.jsonl")
    ]


def load_unanswerable(language: DemoLanguage) -> list[UnanswerableQuestion]:
    """Questions of one language that the demo help centre should not answer."""
    return [
        UnanswerableQuestion(question=str(row["question"]), kind=row["kind"])  # type: ignore[arg-type]
        for row in _read_jsonl(f"unanswerable_{language}.jsonl")
    ]
