"""FAQ writes from the console that must not change more than the user asked: a save sends
only the fields edited (a stored value the form cannot show is kept, or flagged when edited),
and a file of several batches is validated whole before any batch is stored."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from tests.console.test_faqs import _revision
from tests.console.test_loop import enter_key

pytestmark = pytest.mark.slow

# Stored values the form cannot show as they are: the tag field splits at commas, the
# alternates box at line breaks.
ODD = {
    "question": "Which size should I order?",
    "answer": "See the size chart.",
    "alternates": ["sizes line one\nline two of the same alternate", "size guide"],
    "tags": ["size,fit", "apparel"],
}


def test_saving_sends_only_the_fields_edited(demo_data, serve, open_page) -> None:
    server = serve(demo_data)
    faq_id = server.api("POST", "/faq", json=ODD).json()["ids"][0]
    stored = server.api("GET", f"/faq/{faq_id}").json()
    page = open_page()
    page.goto(f"{server.url}/console#faqs")
    enter_key(page)
    page.fill("#faq-tags", "apparel")
    page.press("#faq-tags", "Enter")
    page.wait_for_selector("#faq-count:has-text('1 FAQs')")

    def open_editor() -> None:
        page.locator(f"#faq-list .faq[data-id='{faq_id}'] button").click()
        page.wait_for_selector("#edit-save")

    # Saved untouched: nothing is sent, the entry stays as it was (updated_at included).
    open_editor()
    said = _said(page, lambda: page.click("#edit-save"))
    assert server.api("GET", f"/faq/{faq_id}").json() == stored
    assert said.startswith("Nothing changed")
    # The two fields that cannot show their stored values say so.
    open_editor()
    assert page.locator("#edit-tags-note").is_visible()
    assert page.locator("#edit-alternates-note").is_visible()
    assert page.locator("#edit-question-note, #edit-answer-note").count() == 0

    # An edit to the answer changes the answer only.
    open_editor()
    page.fill("#edit-answer", "See the size chart on each product page.")
    page.click("#edit-save")
    _revision(page, "Saved FAQ")
    answered = server.api("GET", f"/faq/{faq_id}").json()
    assert answered["answer"] == "See the size chart on each product page."
    assert (answered["alternates"], answered["tags"]) == (ODD["alternates"], ODD["tags"])

    # An edit to the tag field itself is flagged first; saved as the field reads on confirm.
    open_editor()
    page.fill("#edit-tags", page.input_value("#edit-tags") + ", sale")
    page.click("#edit-save")
    page.locator("#status.error", has_text="a stored tag holds a comma").wait_for()
    assert server.api("GET", f"/faq/{faq_id}").json() == answered
    page.click("#edit-save:has-text('Save anyway')")
    _revision(page, "Saved FAQ")
    tagged = server.api("GET", f"/faq/{faq_id}").json()
    assert tagged["tags"] == ["size", "fit", "apparel", "sale"]
    assert tagged["alternates"] == ODD["alternates"]
    assert page.errors == []


def _said(page, action: Callable[[], None]) -> str:
    """The status line that `action` leads to (the previous one is cleared first)."""
    page.evaluate("document.getElementById('status').textContent = ''")
    action()
    status = page.locator("#status", has_text=re.compile("."))
    status.wait_for()
    return status.text_content()


def _jsonl(rows: list[dict], blank_after: int) -> bytes:
    """JSONL with a blank line after row `blank_after`, so row n sits on line n + 1 beyond."""
    lines = [json.dumps(row) for row in rows]
    lines.insert(blank_after, "")
    return ("\n".join(lines) + "\n").encode()


def _import(page, name: str, content: bytes) -> str:
    page.set_input_files(
        "#import-file", files=[{"name": name, "mimeType": "application/json", "buffer": content}]
    )
    return _said(page, lambda: page.click("#import-button"))


def test_import_of_several_batches_is_all_or_nothing_and_names_the_line(
    demo_data, serve, open_page
) -> None:
    server = serve(demo_data)

    def total() -> int:
        return server.api("GET", "/faq").json()["total"]

    rows = [{"question": f"Bulk question {i}?", "answer": f"Bulk answer {i}."} for i in range(1000)]
    page = open_page()
    page.goto(f"{server.url}/console#faqs")
    enter_key(page)
    page.click("#transfer summary")

    # Row 1,001 (line 1,002: a blank line comes first) is bad: the first batch of 1,000 is
    # valid on its own, yet nothing is stored, and the error names the file's line.
    said = _import(page, "bulk.jsonl", _jsonl([*rows, {"question": "", "answer": "a"}], 500))
    assert total() == 90
    assert said.startswith("Import refused, nothing stored: line 1002, question: ")
    assert "items[" not in said and "FaqCreate" not in said

    fixed = [*rows, {"question": "The last bulk question?", "answer": "a"}]
    _import(page, "bulk.jsonl", _jsonl(fixed, 500))
    _revision(page, "Imported 1001 FAQs")
    assert total() == 90 + 1001

    # A batch that fails when stored, after every batch validated: what was stored is said.
    creates = []

    def fail_second_create(route) -> None:
        request = route.request
        if request.method == "POST" and "dry_run" not in request.url:
            creates.append(request.url)
            if len(creates) == 2:
                body = {"error": {"code": "not_ready", "message": "the store is unreachable"}}
                route.fulfill(status=503, content_type="application/json", body=json.dumps(body))
                return
        route.continue_()

    page.route(lambda url: urlsplit(url).path == "/faq", fail_second_create)
    said = _import(page, "more.jsonl", _jsonl([{**row, "answer": "b"} for row in fixed], 500))
    assert said.startswith("Import stopped: the store is unreachable (the rows at lines 1002–1002)")
    assert "The first 1000 FAQs (to line 1001) were stored" in said
    assert "the rows from line 1002 on were not" in said
    assert total() == 90 + 1001 + 1000
    assert page.errors == []
