"""The FAQ set `bench service` loads: shared group TSVs mixed round-robin, else templates."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.config import GROUP_SETS, BenchConfig


@dataclass(frozen=True)
class FaqCorpus:
    items: list[dict]  # POST /faq items: question, answer, alternates, tags
    questions: list[str]  # what clients ask: held-out paraphrases, else stored questions
    source: str


def build_corpus(config: BenchConfig) -> FaqCorpus:
    """FAQ entries from the shared group TSVs when present, else from templates."""
    chunks = list(_dataset_chunks(config))
    source = "shared group TSVs: " + ", ".join(
        name for name in GROUP_SETS if (config.data_root / name / "groups.tsv").is_file()
    )
    if len(chunks) < config.entries:
        chunks += list(_template_chunks(config, exclude={c[0] for c in chunks}))
        source += " + templates" if chunks else "templates"
    rng = random.Random(config.seed)
    items: list[dict] = []
    questions: list[str] = []
    for number, (tag, phrasings, held_out) in enumerate(chunks[: config.entries], start=1):
        items.append(
            {
                "question": phrasings[0],
                "answer": f"Help article {number}: the steps for this question, with links "
                f"to the forms and the support team's opening hours.",
                "alternates": list(phrasings[1:]),
                "tags": [tag],
            }
        )
        questions.append(held_out or rng.choice(phrasings))
    rng.shuffle(questions)
    return FaqCorpus(items, questions[: config.questions], source)


def _dataset_chunks(config: BenchConfig) -> Iterator[tuple[str, list[str], str | None]]:
    """Round-robin over datasets; each group cut into entries of 1 + alternates phrasings
    plus one held-out phrasing to ask with."""
    per_entry = 1 + config.alternates + 1
    seen: set[str] = set()
    streams = []
    for name in GROUP_SETS:
        path = config.data_root / name / "groups.tsv"
        if path.is_file():
            streams.append(_group_chunks(name, path, per_entry, seen))
    while streams:
        for stream in list(streams):
            chunk = next(stream, None)
            if chunk is None:
                streams.remove(stream)
            else:
                yield chunk


def _group_chunks(
    name: str, path: Path, per_entry: int, seen: set[str]
) -> Iterator[tuple[str, list[str], str | None]]:
    groups: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) < 2:
                continue
            text = " ".join(row[1].split())
            # Short real questions only; the same text twice would make two FAQs ambiguous.
            if 2 <= len(text) <= 200 and text.casefold() not in seen:
                seen.add(text.casefold())
                groups.setdefault(row[0], []).append(text)
    for sentences in groups.values():
        for start in range(0, len(sentences), per_entry):
            chunk = sentences[start : start + per_entry]
            if len(chunk) == per_entry:
                yield name, chunk[:-1], chunk[-1]
            else:
                yield name, chunk, None


_ACTIONS = (
    "cancel",
    "change",
    "track",
    "return",
    "pay for",
    "update",
    "reset",
    "renew",
    "find",
    "delete",
    "share",
    "download",
    "upgrade",
    "transfer",
    "verify",
    "refund",
    "report",
    "recover",
    "activate",
    "pause",
)
_OBJECTS = (
    "order",
    "subscription",
    "password",
    "invoice",
    "delivery address",
    "account",
    "gift card",
    "payment method",
    "parcel",
    "membership",
    "wishlist",
    "email address",
    "phone number",
    "loyalty points",
    "warranty",
    "receipt",
    "booking",
    "voucher",
    "profile photo",
    "two-factor code",
    "shipping label",
    "basket",
    "review",
    "coupon",
    "store credit",
    "pre-order",
    "bank card",
    "return label",
    "newsletter",
    "device",
)
_PLACES = ("", " in the app", " on the website", " from abroad", " after 30 days", " today")
_FORMS = (
    "how do i {a} my {o}{p}?",
    "{a} {o}{p}",
    "can you help me {a} the {o}{p}",
    "is it possible to {a} a {o}{p}?",
    "where can i {a} my {o}{p}",
)


def _template_chunks(
    config: BenchConfig, exclude: set[str]
) -> Iterator[tuple[str, list[str], str | None]]:
    """Help-centre questions from templates: action x object x place, five phrasings each."""
    for place in _PLACES:
        for obj in _OBJECTS:
            for action in _ACTIONS:
                forms = [f.format(a=action, o=obj, p=place) for f in _FORMS]
                if forms[0] not in exclude:
                    keep = forms[: 1 + config.alternates]
                    yield "templates", keep, forms[len(keep)] if len(keep) < len(forms) else None


