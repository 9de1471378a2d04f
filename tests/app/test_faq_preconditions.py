"""Conditional FAQ writes: an entry's ETag is its revision, and PUT / PATCH / DELETE with
If-Match write only if nobody has changed the entry since (no lost updates between two
editors)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api.preconditions import parse_if_match
from tests.app.conftest import AUTH


@pytest.mark.parametrize(
    ("header", "revisions"),
    [
        (None, None),
        ("*", None),
        (" * ", None),
        ('"7"', {7}),
        ('"7", "9"', {7, 9}),
        ('"7",W/"9"', {7}),
        ("7", {7}),  # the quotes forgotten: still plainly revision 7
        ('W/"7"', set()),  # If-Match compares strongly: a weak tag matches nothing
        ('"abc"', set()),  # well-formed, but no entry has it
        ('"a,b", "3"', {3}),  # a comma inside a tag does not split it
        ('"99999999999999999999999"', set()),
        ("", set()),
        ("null", set()),
        ('"7', set()),  # garbled: matches nothing, so the write fails safe
        ("revision 7", set()),
        ('"7" "8"', set()),
        ("٧", set()),  # a digit, but not an ASCII revision
    ],
)
def test_if_match_is_read_as_the_revisions_it_accepts(header, revisions) -> None:
    expected = None if revisions is None else frozenset(revisions)
    assert parse_if_match(header) == expected


def _create(client: TestClient) -> tuple[int, str]:
    body = {"question": "How do I reset my password?", "answer": "Use the link."}
    created = client.post("/faq", json=body, headers=AUTH)
    assert created.status_code == 201, created.text
    faq_id = created.json()["ids"][0]
    read = client.get(f"/faq/{faq_id}")
    assert read.status_code == 200
    assert read.headers["etag"] == f'"{read.json()["revision"]}"'
    assert read.json()["revision"] == created.json()["revision"]
    return faq_id, read.headers["etag"]


def test_the_second_of_two_editors_gets_412_instead_of_overwriting(client) -> None:
    faq_id, etag = _create(client)
    first = client.patch(
        f"/faq/{faq_id}", json={"answer": "Click 'Forgot password'."},
        headers={**AUTH, "If-Match": etag},
    )
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == f'"{first.json()["revision"]}"' != etag
    second = client.patch(
        f"/faq/{faq_id}", json={"alternates": ["forgot my password"]},
        headers={**AUTH, "If-Match": etag},
    )
    assert second.status_code == 412
    error = second.json()["error"]
    assert error["code"] == "precondition_failed"
    assert f"FAQ entry {faq_id} has changed since you read it" in error["message"]
    assert second.headers["etag"] == first.headers["etag"]  # what to read it again at
    stored = client.get(f"/faq/{faq_id}").json()
    assert (stored["answer"], stored["alternates"]) == ("Click 'Forgot password'.", [])
    retried = client.patch(
        f"/faq/{faq_id}", json={"alternates": ["forgot my password"]},
        headers={**AUTH, "If-Match": second.headers["etag"]},
    )
    assert retried.status_code == 200
    assert retried.json()["answer"] == "Click 'Forgot password'."


def test_put_and_delete_honour_if_match_too(client) -> None:
    faq_id, etag = _create(client)
    moved = client.patch(f"/faq/{faq_id}", json={"tags": ["account"]}, headers=AUTH)
    assert moved.status_code == 200  # no If-Match: unconditional, as before
    body = {"question": "How do I reset my password?", "answer": "Replaced."}
    stale_put = client.put(f"/faq/{faq_id}", json=body, headers={**AUTH, "If-Match": etag})
    stale_delete = client.delete(f"/faq/{faq_id}", headers={**AUTH, "If-Match": etag})
    assert (stale_put.status_code, stale_delete.status_code) == (412, 412)
    assert client.get(f"/faq/{faq_id}").json()["tags"] == ["account"]
    current = moved.headers["etag"]
    put = client.put(f"/faq/{faq_id}", json=body, headers={**AUTH, "If-Match": f'"1", {current}'})
    assert put.status_code == 200 and put.json()["answer"] == "Replaced."
    deleted = client.delete(f"/faq/{faq_id}", headers={**AUTH, "If-Match": put.headers["etag"]})
    assert deleted.status_code == 200
    assert client.get(f"/faq/{faq_id}").status_code == 404


def test_a_write_that_changes_nothing_still_checks_the_revision(client) -> None:
    faq_id, etag = _create(client)
    assert client.patch(f"/faq/{faq_id}", json={"answer": "New."}, headers=AUTH).status_code == 200
    same = client.patch(
        f"/faq/{faq_id}", json={"answer": "New."}, headers={**AUTH, "If-Match": etag}
    )
    assert same.status_code == 412


@pytest.mark.parametrize("header", ["*", '"1"', "garbled"])
def test_if_match_on_a_missing_entry_is_still_a_404(client, header) -> None:
    headers = {**AUTH, "If-Match": header}
    response = client.patch("/faq/999999", json={"answer": "x"}, headers=headers)
    assert response.status_code == 404


def test_a_garbled_if_match_fails_safe(client) -> None:
    faq_id, etag = _create(client)
    for header in ('"' + etag, "revision " + etag.strip('"')):
        headers = {**AUTH, "If-Match": header}
        patched = client.patch(f"/faq/{faq_id}", json={"answer": "x"}, headers=headers)
        deleted = client.delete(f"/faq/{faq_id}", headers=headers)
        assert (patched.status_code, deleted.status_code) == (412, 412)
    assert client.get(f"/faq/{faq_id}").headers["etag"] == etag
    unquoted = {**AUTH, "If-Match": etag.strip('"')}
    assert client.patch(f"/faq/{faq_id}", json={"answer": "x"}, headers=unquoted).status_code == 200


def test_if_match_and_412_are_in_the_openapi_contract(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for method in ("put", "patch", "delete"):
        operation = paths["/faq/{faq_id}"][method]
        assert "412" in operation["responses"], method
        [header] = [p for p in operation["parameters"] if p["in"] == "header"]
        assert header["name"] == "if-match", method
        assert header["schema"]["type"] == "string", method  # not nullable: absent or text
