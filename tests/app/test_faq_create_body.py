"""POST /faq's body is one entry or a batch `{"items": [...]}`: a refusal names only the
errors of the shape the body is meant to be, and `dry_run` validates exactly as a create
does while storing nothing (the console checks every batch of a file with it first)."""

from __future__ import annotations

import pytest

from app.schemas import ErrorBody
from tests.app.conftest import AUTH


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        # A batch: only the batch's error, not the single entry's "question missing" too.
        (
            {"items": [{"question": "ok", "answer": "a"}, {"question": "", "answer": "b"}]},
            ["items[1].question"],
        ),
        ({"items": [{"question": "q", "answer": "a", "extra": 1}]}, ["items[0].extra"]),
        ({"items": []}, ["items"]),
        ({"items": "x"}, ["items"]),
        ({"items": [{"question": "q", "answer": "a"}], "question": "q"}, ["question"]),
        # One entry: only its own errors, not "items: Field required" too.
        ({"question": "q"}, ["answer"]),
        ({"question": "q", "answer": "a", "tags": [""]}, ["tags[0]"]),
        ({}, ["question", "answer"]),
        ([{"question": "q", "answer": "a"}], ["body"]),
    ],
)
def test_faq_create_reports_only_the_shape_the_body_is_meant_to_be(client, body, fields) -> None:
    response = client.post("/faq", json=body, headers=AUTH)
    assert response.status_code == 422
    assert ErrorBody.model_validate(response.json()).error.code == "validation_error"
    assert [d["field"] for d in response.json()["error"]["details"]] == fields
    assert client.get("/faq", headers=AUTH).json()["total"] == 0


def test_faq_dry_run_validates_like_a_create_and_stores_nothing(client) -> None:
    before = client.get("/faq", headers=AUTH).json()
    body = {
        "items": [
            {"question": " Gift\ufb03 ", "answer": "a", "alternates": ["Gift\ufb03", "b", "b"]},
            {"question": "q2", "answer": "a2", "tags": ["t", "t"]},
        ]
    }
    checked = client.post("/faq", params={"dry_run": "true"}, json=body, headers=AUTH)
    assert checked.status_code == 200, checked.text
    assert checked.json() == {
        "dry_run": True,
        "items": [
            {"question": "Giftffi", "answer": "a", "alternates": ["b"], "tags": []},
            {"question": "q2", "answer": "a2", "alternates": [], "tags": ["t"]},
        ],
    }
    one = client.post("/faq?dry_run=true", json={"question": "q", "answer": "a"}, headers=AUTH)
    assert one.status_code == 200 and len(one.json()["items"]) == 1
    assert client.get("/faq", headers=AUTH).json() == before

    # Refusals are a create's own: the schema's and the store's (NFKC length), same body.
    for bad, field in [
        (
            {"items": [{"question": "q", "answer": "a"}, {"question": "", "answer": "b"}]},
            "items[1].question",
        ),
        ({"items": [{"question": "q", "answer": "a", "tags": ["\ufdfa" * 3]}]}, "items[0].tags[0]"),
    ]:
        dry = client.post("/faq", params={"dry_run": "true"}, json=bad, headers=AUTH)
        real = client.post("/faq", json=bad, headers=AUTH)
        assert dry.status_code == real.status_code == 422
        assert dry.json()["error"]["details"] == real.json()["error"]["details"]
        assert dry.json()["error"]["details"][0]["field"] == field
    assert client.post("/faq?dry_run=true", json=body).status_code == 401  # a write's key
    assert client.get("/faq", headers=AUTH).json() == before
