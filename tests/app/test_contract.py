"""The published OpenAPI contract matches the code: 405 Allow headers, query types, text and
integer constraints, checked directly (test_fuzz.py checks the same by generation)."""

from __future__ import annotations

import re

import pytest
from pydantic import TypeAdapter, ValidationError

from app.config import Settings
from app.main import create_app
from app.schemas import DATE_TIME_MESSAGE, MAX_QUESTION_CHARS, QuestionText
from store.entries import LIMITS, MAX_FAQ_ID
from tests.app.conftest import AUTH


@pytest.fixture(scope="module")
def schema() -> dict:
    return create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]


def _property(schema: dict, model: str, name: str) -> dict:
    prop = schema["components"]["schemas"][model]["properties"][name]
    # `X | None` fields: the non-null branch carries the constraints.
    return next((s for s in prop.get("anyOf", []) if s.get("type") != "null"), prop)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/faq", {"GET", "POST"}),
        ("OPTIONS", "/faq/1", {"GET", "PUT", "PATCH", "DELETE"}),
        ("POST", "/admin/threshold", {"GET", "PUT"}),
        ("DELETE", "/admin/retrain", {"GET", "POST"}),
        ("GET", "/ask", {"POST"}),
    ],
)
def test_405_allow_lists_every_method_of_the_path(client, method, path, allow) -> None:
    response = client.request(method, path, headers=AUTH)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["allow"].split(", ")) == allow


def test_allow_matches_the_schema_for_every_path(client, schema) -> None:
    for path, operations in schema["paths"].items():
        documented = {method.upper() for method in operations}
        unsupported = next(m for m in ("TRACE", "OPTIONS", "PATCH", "PUT") if m not in documented)
        url = path.replace("{faq_id}", "1")
        response = client.request(unsupported, url, headers=AUTH)
        assert response.status_code == 405, (unsupported, path)
        assert set(response.headers["allow"].split(", ")) == documented, path


def test_415_is_documented_and_answered_where_a_json_body_is_taken(client, schema) -> None:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            takes_body = "requestBody" in operation
            assert ("415" in operation["responses"]) == takes_body, (method, path)
            if takes_body:
                response = client.request(
                    method, path.replace("{faq_id}", "1"), content=b"question=q",
                    headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
                )
                assert response.status_code == 415, (method, path, response.text)


@pytest.mark.parametrize("since", ["0.5", "1700000000", "1e3", "-1"])
def test_since_must_be_a_date_time(client, since) -> None:
    response = client.get("/admin/unanswered", params={"since": since}, headers=AUTH)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == "the request is invalid"
    assert error["details"][0]["field"] == "since"
    assert DATE_TIME_MESSAGE in error["details"][0]["message"]


def test_since_date_times_are_accepted(client) -> None:
    for since in ("2026-01-31T12:00:00Z", "2026-01-31T12:00:00+02:00"):
        response = client.get("/admin/unanswered", params={"since": since}, headers=AUTH)
        assert response.status_code == 200, (since, response.text)


@pytest.mark.parametrize(
    ("path", "param"),
    [("/faq", "limit"), ("/faq", "after_id"), ("/faq", "offset"),
     ("/admin/unanswered", "limit"), ("/admin/feedback", "limit"),
     ("/admin/feedback", "after_id")],
)
def test_integer_query_parameters_refuse_fractions(client, path, param) -> None:
    response = client.get(path, params={param: "0.5"}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == param


@pytest.mark.parametrize(
    ("model", "field", "max_chars"),
    [
        ("AskRequest", "question", MAX_QUESTION_CHARS),
        ("FaqCreate", "question", LIMITS.question_chars),
        ("FaqCreate", "answer", LIMITS.answer_chars),
        ("TuneExample", "question", MAX_QUESTION_CHARS),
    ],
)
def test_text_fields_state_what_validation_enforces(schema, model, field, max_chars) -> None:
    text = _property(schema, model, field)
    assert text["minLength"] == 1 and text["maxLength"] == max_chars
    pattern = re.compile(text["pattern"])
    for good in ("q", "  where is my order ", "a\nb", "订单在哪", "a\u200bb", "\ufeffq"):
        assert pattern.search(good), good
    for bad in ("", " ", "\t\n\u3000\x1c\x85", "a\x00b", "\u200b\u200b", "\ufeff", " \u2060 ",
                "\u00ad", "\ufe0f", "\u3164", "\uffa0\u115f"):
        assert not pattern.search(bad), bad


def test_text_pattern_agrees_with_validation_on_every_bmp_character(schema) -> None:
    # One character, and the same after a space: the pattern (published, not run) must
    # accept exactly what validation accepts. Astral invisible characters are the one
    # documented gap (no portable ECMA syntax for them); surrogates are not characters.
    pattern = re.compile(_property(schema, "AskRequest", "question")["pattern"])
    question = TypeAdapter(QuestionText)
    disagree = []
    for code in [c for c in range(1, 0x10000) if not 0xD800 <= c <= 0xDFFF]:
        for text in (chr(code), " " + chr(code)):
            try:
                accepted = bool(question.validate_python(text))
            except ValidationError:
                accepted = False
            if accepted != bool(pattern.search(text)):
                disagree.append(hex(code))
    assert disagree == []


def test_integer_bounds_are_published_exactly(schema) -> None:
    # Floats would publish 2**56 - 1 as 2**56.
    assert _property(schema, "FeedbackCreate", "faq_id") == {
        "type": "integer", "minimum": 1, "maximum": MAX_FAQ_ID
    }
    assert _property(schema, "TuneExample", "faq_id")["maximum"] == MAX_FAQ_ID
    top_k = _property(schema, "AskRequest", "top_k")
    assert (top_k["minimum"], top_k["maximum"]) == (1, 50)
    assert isinstance(top_k["maximum"], int)
    assert _property(schema, "AskRequest", "min_revision")["maximum"] == 1 << 62


def test_values_the_schema_allows_are_accepted(client) -> None:
    # The largest text, padded with spaces inside the limit; integers written as 5.0.
    question = " " + "x" * (MAX_QUESTION_CHARS - 2) + " "
    body = {"question": question, "top_k": 50.0, "min_revision": 0.0, "threshold": 1}
    assert client.post("/ask", json=body).status_code == 200
    assert client.post("/ask", json={"question": "q", "top_k": 1}).status_code == 200
    feedback = {"ask_id": "nope", "correct": False, "faq_id": float(2**40)}
    assert client.post("/feedback", json=feedback, headers=AUTH).status_code == 404
    tag = "t" * LIMITS.tag_chars
    assert client.get("/faq", params={"tag": tag}).status_code == 200


def test_values_beyond_the_schema_are_refused(client) -> None:
    for body in (
        {"question": "x" * (MAX_QUESTION_CHARS + 1)},
        {"question": "q", "top_k": 5.5},
        {"question": "q", "top_k": "5"},
        {"question": "q", "top_k": True},
        {"question": "q", "top_k": 51.0},
    ):
        response = client.post("/ask", json=body)
        assert response.status_code == 422, body
    feedback = {"ask_id": "a", "correct": False, "faq_id": MAX_FAQ_ID + 1}
    assert client.post("/feedback", json=feedback, headers=AUTH).status_code == 422
