"""Every mutating or admin route refuses a missing, wrong or non-ASCII key (401, never 500)."""

from __future__ import annotations

import pytest

from app.security import ApiKeyChecker
from tests.app.conftest import API_KEY, AUTH, make_settings

PROTECTED = [
    ("POST", "/faq", {"question": "q", "answer": "a"}),
    ("PUT", "/faq/1", {"question": "q", "answer": "a"}),
    ("PATCH", "/faq/1", {"answer": "a"}),
    ("DELETE", "/faq/1", None),
    ("POST", "/feedback", {"ask_id": "abc", "correct": True}),
    ("GET", "/admin/threshold", None),
    ("PUT", "/admin/threshold", {"threshold": 0.5}),
    ("POST", "/admin/threshold/tune", {"examples": [{"question": "q", "faq_id": None}]}),
    ("GET", "/admin/unanswered", None),
    ("GET", "/admin/feedback", None),
    ("POST", "/admin/retrain", None),
    ("GET", "/admin/retrain", None),
]

BAD_AUTHORIZATION: list[dict[str, str | bytes]] = [
    {},
    {"Authorization": "Bearer wrong-key"},
    {"Authorization": f"Bearer {API_KEY}x"},
    {"Authorization": f"Bearer {API_KEY[:-1]}"},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer"},
    {"Authorization": f"Basic {API_KEY}"},
    {"Authorization": API_KEY},
    {"Authorization": "Bearer ключ".encode()},  # UTF-8 bytes on the wire
    {"Authorization": "Bearer clé".encode("latin-1")},
    {"Authorization": f"Bearer {API_KEY}\u00e9".encode()},
    {"Authorization": "Bearer " + "k" * 10_000},
]


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
def test_protected_routes_refuse_bad_keys(client, method, path, body) -> None:
    for headers in BAD_AUTHORIZATION:
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith("Bearer")
    good = client.request(method, path, json=body, headers=AUTH)
    assert good.status_code not in (401, 403, 500), good.text


def test_public_routes_need_no_key(client) -> None:
    assert client.post("/ask", json={"question": "hello"}).status_code == 200
    assert client.get("/faq").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_without_configured_keys_writes_are_refused_with_a_hint(
    tmp_path, database_url, tiny_encoder_path, make_client
) -> None:
    client = make_client(
        make_settings(tmp_path / "nokeys", database_url, tiny_encoder_path, api_keys=[])
    )
    for method, path, body in PROTECTED:
        response = client.request(method, path, json=body, headers=AUTH)
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "writes_disabled" and "SAMESAY_API_KEYS" in error["message"]
    assert client.post("/ask", json={"question": "hello"}).status_code == 200


def test_ask_requires_key_when_configured(tmp_path, database_url, tiny_encoder_path,
                                          make_client) -> None:
    client = make_client(make_settings(
        tmp_path / "private", database_url, tiny_encoder_path, ask_requires_key=True
    ))
    for headers in BAD_AUTHORIZATION:
        assert client.post("/ask", json={"question": "q"}, headers=headers).status_code == 401
        assert client.get("/faq", headers=headers).status_code == 401
    assert client.post("/ask", json={"question": "q"}, headers=AUTH).status_code == 200


def test_key_checker_compares_bytes_of_every_key() -> None:
    checker = ApiKeyChecker(["first", "second", ""])
    assert checker.configured
    assert checker.matches(b"second") and checker.matches(b"first")
    assert not checker.matches(b"secon") and not checker.matches(b"") and not checker.matches(
        "clé".encode()
    )
    assert not ApiKeyChecker([]).configured


def test_feedback_needs_no_key_when_configured_so(tmp_path, database_url, tiny_encoder_path,
                                                  make_client) -> None:
    """A public "was this right?" widget: the ask's id is all it needs; the other writes
    still need the key."""
    client = make_client(make_settings(
        tmp_path / "widget", database_url, tiny_encoder_path, feedback_requires_key=False
    ))
    asked = client.post("/ask", json={"question": "hello"}).json()
    stored = client.post("/feedback", json={"ask_id": asked["ask_id"], "correct": True})
    assert stored.status_code == 201, stored.text
    unknown = client.post("/feedback", json={"ask_id": "0" * 32, "correct": True})
    assert unknown.status_code == 404
    assert client.post("/faq", json={"question": "q", "answer": "a"}).status_code == 401
    assert client.get("/admin/feedback").status_code == 401
