"""The console in a real browser, as an attacker's FAQ text and a visitor without a key see
it: markup shows as text, writes are refused with the API's own message, the key stays in
the tab's sessionStorage, and SAMESAY_ASK_REQUIRES_KEY=true is honoured."""

from __future__ import annotations

import pytest

from tests.console.conftest import API_KEY
from tests.console.test_loop import ask, enter_key

pytestmark = pytest.mark.slow

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"
MISSING_KEY = "Refused: missing API key: send 'Authorization: Bearer <key>'"
DEMO_QUESTION = "How do I reset my password?"


def test_faq_markup_renders_as_text_and_never_runs(demo_data, serve, open_page) -> None:
    server = serve(demo_data)
    created = server.api("POST", "/faq", json={"items": [
        {"question": "markup answer number one", "answer": SCRIPT, "alternates": [IMAGE],
         "tags": ["<b>bold</b>"]},
        {"question": "markup answer number two", "answer": IMAGE},
    ]})
    assert created.status_code == 201, created.text
    page = open_page()
    page.goto(f"{server.url}/console")
    enter_key(page)

    ask(page, "markup answer number one")
    assert page.text_content("#answer-text") == SCRIPT
    ask(page, IMAGE)  # matches the alternate, which is itself markup
    assert page.text_content("#matches li .matched") == IMAGE
    assert page.text_content("#matches li .snippet") == SCRIPT
    ask(page, "markup answer number two")
    assert page.text_content("#answer-text") == IMAGE

    page.click("nav a[data-page=faqs]")
    page.fill("#faq-filter", "markup answer number")
    page.press("#faq-filter", "Enter")
    page.wait_for_selector("#faq-count:has-text('2 FAQs')")
    answers = page.locator("#faq-list .faq-answer").all_text_contents()
    assert answers == [SCRIPT, IMAGE]
    assert "tags: <b>bold</b>" in page.text_content("#faq-list")
    page.locator("#faq-list .faq").first.locator("button").click()
    assert page.input_value("#edit-answer") == SCRIPT
    assert page.input_value("#edit-alternates") == IMAGE

    # Nothing was parsed as markup: no element from the data, no alert.
    assert page.locator("main img, main script, main b").count() == 0
    assert page.dialogs == [] and page.errors == []


def test_writes_without_a_key_are_refused_with_the_api_message(
    demo_data, serve, open_page
) -> None:
    server = serve(demo_data)
    total = server.api("GET", "/faq?limit=1").json()["total"]
    page = open_page()
    page.goto(f"{server.url}/console")
    assert page.text_content("#key-state") == "read-only (no key)"

    ask(page, DEMO_QUESTION)  # /ask is public: reading works
    assert page.locator("#matches li").count() == 5
    page.click("#mark-right")
    page.wait_for_selector("#status.error")
    assert page.text_content("#status").startswith(MISSING_KEY)

    page.click("nav a[data-page=faqs]")
    page.click("#faq-new")
    page.fill("#edit-question", "a FAQ written without a key")
    page.fill("#edit-answer", "should never be stored")
    page.click("#edit-save")
    page.wait_for_selector("#status.error")
    assert page.text_content("#status").startswith(MISSING_KEY)
    assert server.api("GET", "/faq?limit=1").json()["total"] == total

    page.locator("#faq-list .faq").first.locator("button").click()
    page.click("#edit-delete")
    page.click("#edit-delete")  # the second click confirms
    page.wait_for_selector("#status.error")
    assert page.text_content("#status").startswith(MISSING_KEY)
    assert server.api("GET", "/faq?limit=1").json()["total"] == total

    page.click("nav a[data-page=unanswered]")
    page.wait_for_selector("#needs-key")

    # A wrong key is refused the same way, with the API's message for it.
    page.fill("#key-input", "not-the-key")
    page.click("#key-save")
    page.click("nav a[data-page=faqs]")
    page.click("#faq-new")
    page.fill("#edit-question", "a FAQ written with a wrong key")
    page.fill("#edit-answer", "should never be stored")
    page.click("#edit-save")
    page.wait_for_selector("#status.error")
    assert page.text_content("#status").startswith("Refused: invalid API key")
    assert server.api("GET", "/faq?limit=1").json()["total"] == total
    assert page.dialogs == []


def test_the_key_stays_in_session_storage_and_works_when_ask_needs_it(
    demo_data, serve, open_page
) -> None:
    server = serve(demo_data, ask_requires_key=True)
    page = open_page()
    page.goto(f"{server.url}/console")
    ask_without = page.locator("#ask-question")
    ask_without.fill(DEMO_QUESTION)
    page.click("#ask-button")
    page.wait_for_selector("#status.error")
    assert page.text_content("#status").startswith(MISSING_KEY)

    enter_key(page)
    ask(page, DEMO_QUESTION)
    assert page.text_content(".badge").startswith("FAQ #")
    page.click("nav a[data-page=faqs]")
    page.wait_for_selector("#faq-count:has-text('90 FAQs')")

    # Kept for the tab only: not in the URL, not in a cookie, not in localStorage.
    assert API_KEY not in page.url
    assert page.context.cookies() == []
    assert page.evaluate("() => sessionStorage.getItem('samesay.apiKey')") == API_KEY
    assert page.evaluate("() => localStorage.length") == 0
    # A new tab (context) starts without it.
    other = open_page()
    other.goto(f"{server.url}/console")
    assert other.text_content("#key-state") == "read-only (no key)"
    page.click("#key-forget")
    assert page.evaluate("() => sessionStorage.getItem('samesay.apiKey')") is None
