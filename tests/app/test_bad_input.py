"""A bad-input matrix over every route: always a 4xx with the stable error body, never >= 500."""

from __future__ import annotations

import json

import pytest

from app.errors import NOT_JSON_MESSAGE, TOO_DEEP_MESSAGE
from app.schemas import ErrorBody
from store.visible import INVISIBLE_ONLY
from tests.app.conftest import AUTH

JSON = {"Content-Type": "application/json", **AUTH}

# Route -> a valid body; "{id}" is replaced by an existing FAQ id.
BODY_ROUTES: list[tuple[str, str, dict]] = [
    ("POST", "/ask", {"question": "where is my order", "top_k": 3, "threshold": 0.5,
                      "tags": ["a"], "min_revision": 0}),
    ("POST", "/faq", {"question": "q", "answer": "a", "alternates": ["b"], "tags": ["t"]}),
    ("PUT", "/faq/{id}", {"question": "q", "answer": "a", "alternates": ["b"], "tags": ["t"]}),
    ("PATCH", "/faq/{id}", {"answer": "changed", "alternates": ["c"]}),
    ("POST", "/feedback", {"ask_id": "abc", "correct": True, "faq_id": 1}),
    ("PUT", "/admin/threshold", {"threshold": 0.5}),
    ("POST", "/admin/threshold/tune", {"examples": [{"question": "q", "faq_id": None}],
                                        "objective": "precision", "target": 0.9}),
]
NO_BODY_ROUTES = [
    ("GET", "/faq"), ("GET", "/faq/{id}"), ("DELETE", "/faq/{id}"), ("GET", "/admin/threshold"),
    ("GET", "/admin/unanswered"), ("GET", "/admin/feedback"), ("GET", "/admin/retrain"),
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
]

# Raw JSON fragments substituted for one field at a time. Some are valid for some fields
# (e.g. 0 for a threshold): the sweep only demands "no 5xx, and a stable body on 4xx".
BAD_VALUES = [
    "null", "true", "0", "-1", "1.5", "1e309", "-1e309", "NaN", "Infinity", "-Infinity",
    "100000000000000000000000000000", '"5"', '""', '"   "', '"\\ud800"', '"a\\u0000b"',
    '"\\udfff\\ud800"', "[]", "{}", '["\\ud800"]', '[null]', "[1, 2]", '{"x": 1}',
    json.dumps("x" * 30_000),
]

# Whole bodies that are never valid JSON for any route.
BAD_BODIES = [
    b"", b"{", b"}", b"\xff\xfe\xfa", b"nul", b"[" * 50_000, b'{"a":' * 10_000,
    b"null", b"[]", b"123", b'"text"', b"NaN", b'{"question": "\xed\xa0\x80"}',
]


def _error_shape(response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    error = ErrorBody.model_validate(response.json()).error  # the documented shape
    assert error.request_id == response.headers["x-request-id"]
    assert "Traceback" not in response.text


def _substituted(body: dict, field: str, raw: str) -> bytes:
    marker = "__BAD_VALUE__"
    return json.dumps({**body, field: marker}).replace(f'"{marker}"', raw).encode()


@pytest.fixture
def faq_id(client) -> int:
    response = client.post("/faq", json={"question": "a q", "answer": "an a"}, headers=AUTH)
    return response.json()["ids"][0]


def test_every_field_of_every_body_route(client, faq_id) -> None:
    statuses = []
    for method, path, body in BODY_ROUTES:
        url = path.replace("{id}", str(faq_id))
        for field in [*body, "unknown_field"]:
            for raw in BAD_VALUES:
                response = client.request(method, url, content=_substituted(body, field, raw),
                                          headers=JSON)
                statuses.append(response.status_code)
                assert response.status_code < 500, (method, path, field, raw, response.text)
                if response.status_code >= 400:
                    _error_shape(response)
                if field == "unknown_field":
                    assert response.status_code == 422, (method, path, raw)
        for raw_body in BAD_BODIES:
            response = client.request(method, url, content=raw_body, headers=JSON)
            _error_shape(response)
    assert max(statuses) < 500


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "question"),
        ({"question": "x" * 1001}, "question"),
        ({"question": "a\u0000b"}, "question"),
        ({"question": "q", "top_k": 0}, "top_k"),
        ({"question": "q", "top_k": 51}, "top_k"),
        ({"question": "q", "top_k": "5"}, "top_k"),
        ({"question": "q", "top_k": True}, "top_k"),
        ({"question": "q", "threshold": 1.01}, "threshold"),
        ({"question": "q", "extra": 1}, "extra"),
        ({"question": 42}, "question"),
        ({"question": "q", "tags": ["t"] * 21}, "tags"),
    ],
)
def test_ask_rejections_name_the_field(client, body, field) -> None:
    response = client.post("/ask", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert field in [d["field"] for d in response.json()["error"]["details"]]


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e309", "-1e309"])
def test_non_finite_thresholds(client, raw) -> None:
    ask = client.post("/ask", content=f'{{"question": "q", "threshold": {raw}}}', headers=JSON)
    put = client.put("/admin/threshold", content=f'{{"threshold": {raw}}}', headers=JSON)
    for response in (ask, put):
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "threshold"


def test_lone_surrogates_and_invalid_utf8(client) -> None:
    surrogate = client.post("/ask", content=b'{"question": "\\ud800"}', headers=JSON)
    assert surrogate.status_code == 422
    assert surrogate.json()["error"]["details"][0]["field"] == "question"
    invalid = client.post("/ask", content=b'{"question": "\xed\xa0\x80"}', headers=JSON)
    # FastAPI decodes the body leniently; the string then fails validation like a surrogate.
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "validation_error"


def test_deep_nesting_is_a_400(client) -> None:
    response = client.post("/faq", content=b"[" * 100_000 + b"]" * 100_000, headers=JSON)
    assert response.status_code in (400, 413)
    nested = client.post("/ask", content=b'{"question": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
                         headers=JSON)
    assert nested.status_code == 400 and nested.json()["error"]["code"] == "invalid_json"
    assert nested.json()["error"]["message"] == TOO_DEEP_MESSAGE


def test_malformed_json_says_where(client) -> None:
    response = client.post("/ask", content=b'{"question": "hi",}', headers=JSON)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "the request body is not valid JSON"
    assert error["details"] == [{
        "field": "body", "type": "json_invalid",
        "message": "Expecting property name enclosed in double quotes at character 18",
    }]


def test_body_cap_by_length_and_by_stream(client, settings) -> None:
    big = b'{"question": "' + b"x" * settings.max_body_bytes + b'"}'
    declared = client.post("/ask", content=big, headers=JSON)
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"

    def chunks():
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    streamed = client.post("/faq", content=chunks(), headers=JSON)  # chunked: no length
    assert streamed.status_code == 413
    lying = client.post("/faq", content=big, headers={**JSON, "Content-Length": "10"})
    assert lying.status_code < 500


def test_path_and_query_parameters(client, faq_id) -> None:
    for path in ["/faq/0", "/faq/-1", "/faq/abc", "/faq/1.5", "/faq/" + "9" * 40,
                 "/faq/%00", "/faq/72057594037927936"]:
        for method in ("GET", "PUT", "PATCH", "DELETE"):
            response = client.request(method, path, json={"answer": "x"}, headers=AUTH)
            _error_shape(response)
    assert client.get("/faq/999999").json()["error"]["code"] == "faq_not_found"
    bad_queries = [
        ("/faq", {"limit": "abc"}), ("/faq", {"limit": 0}), ("/faq", {"limit": 101}),
        ("/faq", {"after_id": -1}), ("/faq", {"after_id": "1e99"}), ("/faq", {"offset": -5}),
        ("/faq", {"tag": "a\x00b"}), ("/faq", {"tag": "x" * 500}),
        ("/faq", {"after_id": 1, "offset": 1}),
        ("/admin/unanswered", {"limit": 0}), ("/admin/unanswered", {"since": "yesterday"}),
        ("/admin/unanswered", {"since": "9999-12-31T23:59:59-23:59"}),
        ("/admin/unanswered", {"since": "0001-01-01T00:00:00+23:59"}),
        ("/admin/feedback", {"after_id": -1}), ("/admin/feedback", {"limit": 100_000}),
    ]
    for path, params in bad_queries:
        response = client.get(path, params=params, headers=AUTH)
        assert response.status_code < 500, (path, params, response.text)
        if response.status_code >= 400:
            _error_shape(response)


def test_unknown_routes_methods_and_media_types(client) -> None:
    _error_shape(client.get("/nope"))
    wrong_method = client.delete("/ask")
    _error_shape(wrong_method)
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    text = client.post("/ask", content=b'{"question": "q"}',
                       headers={"Content-Type": "text/plain"})
    _error_shape(text)
    form = client.post("/faq", data={"question": "q", "answer": "a"}, headers=AUTH)
    _error_shape(form)


def test_every_no_body_route_survives_junk(client, faq_id) -> None:
    for method, path in NO_BODY_ROUTES:
        url = path.replace("{id}", str(faq_id))
        response = client.request(
            method, url, params={"junk": "\x00\ud7ff"}, content=b"{" * 10,
            headers={**JSON, "X-Request-ID": "bad id with spaces\x7f"},
        )
        assert response.status_code < 500, (method, path, response.text)
        assert response.headers["x-request-id"] != "bad id with spaces\x7f"


def test_text_over_its_limit_once_normalised_is_a_422_and_stores_nothing(client) -> None:
    # "\ufdfa" is one character as sent and 18 once NFKC-normalised (how text is stored).
    before = client.get("/faq", headers=AUTH).json()
    cases = [
        ("/faq", {"question": "\ufdfa" * 500, "answer": "a"}, "question"),
        ("/faq", {"items": [{"question": "q", "answer": "a", "tags": ["\ufdfa" * 3]}]},
         "items[0].tags[0]"),
    ]
    for path, body, field in cases:
        response = client.post(path, json=body, headers=AUTH)
        _error_shape(response)
        detail = response.json()["error"]["details"][0]
        assert response.status_code == 422 and detail["field"] == field
        assert "characters once NFKC-normalised" in detail["message"]
    listed = client.get("/faq", params={"tag": "\ufdfa" * 3}, headers=AUTH)
    assert listed.status_code == 422
    assert client.get("/faq", headers=AUTH).json() == before


# Text that shows nothing: zero-width spaces, BOM, word joiner, soft hyphen, variation
# selector, Hangul filler, an astral tag character; refused wherever blank text is.
INVISIBLE_TEXTS = ["\u200b\u200b", "\ufeff", " \u2060 ", "\u00ad", "\ufe0f", "\u3164",
                   "\U000e0041"]


def test_invisible_only_text_is_refused_like_blank_text(client, faq_id) -> None:
    before = client.get("/faq", headers=AUTH).json()
    for text in INVISIBLE_TEXTS:
        cases = [
            ("POST", "/faq", {"question": text, "answer": "a"}, "question"),
            ("POST", "/faq", {"question": "q", "answer": text}, "answer"),
            ("POST", "/faq", {"question": "q", "answer": "a", "alternates": [text]},
             "alternates[0]"),
            ("POST", "/faq", {"question": "q", "answer": "a", "tags": [text]}, "tags[0]"),
            ("POST", "/faq", {"items": [{"question": text, "answer": "a"}]},
             "items[0].question"),
            ("PUT", f"/faq/{faq_id}", {"question": text, "answer": "a"}, "question"),
            ("PATCH", f"/faq/{faq_id}", {"answer": text}, "answer"),
            ("POST", "/ask", {"question": text}, "question"),  # the fast lane's model too
            ("POST", "/ask", {"question": "q", "tags": [text]}, "tags[0]"),
            ("POST", "/admin/threshold/tune", {"examples": [{"question": text}]},
             "examples[0].question"),
        ]
        for method, path, body, field in cases:
            response = client.request(method, path, json=body, headers=AUTH)
            _error_shape(response)
            assert response.status_code == 422, (text, path, body)
            detail = response.json()["error"]["details"][0]
            assert detail["field"] == field and detail["message"].endswith(INVISIBLE_ONLY)
        assert client.get("/faq", params={"tag": text}, headers=AUTH).status_code == 422
    assert client.get("/faq", headers=AUTH).json() == before
    # Invisible characters inside visible text are content, kept as sent.
    kept = client.post("/faq", json={"question": "zero\u200bwidth?", "answer": "\ufeffa"},
                       headers=AUTH)
    assert kept.status_code == 201, kept.text
    stored = client.get(f"/faq/{kept.json()['ids'][0]}", headers=AUTH).json()
    assert (stored["question"], stored["answer"]) == ("zero\u200bwidth?", "\ufeffa")


NOT_JSON = ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x", "text/json", "application/jsonx"]


def test_a_body_not_typed_as_json_is_a_415(client, faq_id) -> None:
    routes = [*BODY_ROUTES, ("POST", "/admin/threshold/tune/feedback", {})]
    for method, path, body in routes:
        url = path.replace("{id}", str(faq_id))
        for content_type in NOT_JSON:
            for content in (json.dumps(body).encode(), b""):
                response = client.request(method, url, content=content,
                                          headers={**AUTH, "Content-Type": content_type})
                _error_shape(response)
                assert response.status_code == 415, (method, path, content_type, content)
                assert response.json()["error"] == {
                    "code": "unsupported_media_type", "message": NOT_JSON_MESSAGE,
                    "request_id": response.headers["x-request-id"],
                }
    # What `curl -d 'question=q'` sends (the fast lane passes it on to the route).
    form = client.post("/ask", data={"question": "where is my order"})
    assert form.status_code == 415 and form.json()["error"]["code"] == "unsupported_media_type"


def test_json_media_types_pass_an_untyped_body_is_refused_bodiless_routes_ignore_types(
    client, faq_id
) -> None:
    body = json.dumps({"question": "where is my order"}).encode()
    for content_type in ("application/json; charset=utf-8", "Application/JSON",
                         "application/x-ask+json"):
        response = client.post("/ask", content=body, headers={"Content-Type": content_type})
        assert response.status_code == 200, (content_type, response.text)
    # No Content-Type: FastAPI (strict_content_type, its default) does not read the body as
    # JSON, so it is refused as untyped; with no body at all, the body is missing (422).
    untyped = client.post("/ask", content=body)
    assert untyped.status_code == 415
    assert untyped.json()["error"]["message"] == NOT_JSON_MESSAGE
    empty = client.post("/ask", content=b"")
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "validation_error"
    # A route that takes no body ignores its type.
    deleted = client.request("DELETE", f"/faq/{faq_id}", content=b"x",
                             headers={**AUTH, "Content-Type": "text/plain"})
    assert deleted.status_code == 200, deleted.text
