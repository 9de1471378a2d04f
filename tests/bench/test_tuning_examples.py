"""The README's tuning example: labels map demo phrasings to the server's FAQ ids."""

from __future__ import annotations

import httpx

from app.demo import load_faqs, load_unanswerable
from bench.tuning_examples import server_question_ids, tuning_body
from store.entries import FaqDraft


def _stored(question: str) -> str:
    return FaqDraft(question, "a").question


def test_body_labels_heldout_with_server_ids_and_unanswerable_with_null() -> None:
    en = load_faqs("en")
    ids = {_stored(f.question): 1000 + i for i, f in enumerate(en)}  # zh not on the server
    body = tuning_body(ids, "precision", 0.9, apply=True)
    assert body["objective"] == "precision" and body["target"] == 0.9 and body["apply"] is True
    examples = body["examples"]
    expected = {h: 1000 + i for i, f in enumerate(en) for h in f.heldout}
    labelled = {e["question"]: e["faq_id"] for e in examples if e["faq_id"] is not None}
    assert labelled == expected
    assert sum(e["faq_id"] is None for e in examples) == len(load_unanswerable("en"))


def test_server_ids_are_read_page_by_page() -> None:
    items = [{"id": i, "question": f"q{i}"} for i in range(1, 251)]

    def handler(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params.get("after_id", 0))
        page = [item for item in items if item["id"] > after][:100]
        last = page[-1]["id"] if page and page[-1]["id"] < 250 else None
        return httpx.Response(200, json={"items": page, "total": 250, "next_after_id": last})

    with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x") as client:
        ids = server_question_ids(client)
    assert ids == {f"q{i}": i for i in range(1, 251)}
