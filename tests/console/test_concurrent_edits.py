"""Two people editing one FAQ from the console: a save or delete over a change made since
the editor opened is refused and keeps that change (If-Match), and "add as alternate" reads
the entry again instead of dropping an alternate added in between."""

from __future__ import annotations

import re

import pytest

from tests.console.test_loop import DECLINED, enter_key

pytestmark = pytest.mark.slow


def test_a_save_over_another_editors_change_is_refused(demo_data, serve, open_page) -> None:
    server = serve(demo_data)
    body = {"question": "Do you ship to Iceland?", "answer": "Yes.", "tags": ["race"]}
    faq_id = server.api("POST", "/faq", json=body).json()["ids"][0]
    page = open_page()
    page.goto(f"{server.url}/console#faqs")
    enter_key(page)
    page.fill("#faq-tags", "race")
    page.press("#faq-tags", "Enter")
    page.wait_for_selector("#faq-count:has-text('1 FAQs')")
    page.locator(f"#faq-list .faq[data-id='{faq_id}'] button").click()
    page.wait_for_selector("#edit-save")

    # Someone else saves while this editor is open.
    other = server.api("PATCH", f"/faq/{faq_id}", json={"answer": "Yes, in 5 days."})
    assert other.status_code == 200
    page.fill("#edit-answer", "Yes, within a week.")
    page.click("#edit-save")
    status = page.locator("#status.error", has_text="has changed since you read it")
    status.wait_for()
    assert f"FAQ entry {faq_id}" in status.text_content()
    assert page.locator("#edit-save").is_visible()  # the form and its text are kept
    assert server.api("GET", f"/faq/{faq_id}").json()["answer"] == "Yes, in 5 days."

    page.click("#edit-delete")
    page.click("#edit-delete")  # armed, then confirmed
    page.locator("#status.error", has_text="has changed since you read it").wait_for()
    assert server.api("GET", f"/faq/{faq_id}").status_code == 200
    assert page.errors == []


def test_add_as_alternate_keeps_an_alternate_added_in_between(demo_data, serve, open_page) -> None:
    server = serve(demo_data)
    assert server.api("POST", "/ask", json={"question": DECLINED}).json()["answer"] is None
    page = open_page()
    page.goto(f"{server.url}/console#unanswered")
    enter_key(page)
    item = page.locator(".queue-item", has_text=DECLINED)
    item.wait_for()
    button = item.locator(".add-alternate").first
    faq_id = int(button.get_attribute("data-faq"))

    # Between the console's read and its write, another editor adds an alternate.
    patches: list[str] = []

    def edit_first(route) -> None:
        if route.request.method == "PATCH" and "PATCH" not in patches:
            stored = server.api("GET", f"/faq/{faq_id}").json()
            alternates = [*stored["alternates"], "music please"]
            server.api("PATCH", f"/faq/{faq_id}", json={"alternates": alternates})
        patches.append(route.request.method)
        route.continue_()

    page.route(re.compile(rf"/faq/{faq_id}$"), edit_first)
    button.click()
    page.locator("#status.ok", has_text="as an alternate").wait_for()
    alternates = server.api("GET", f"/faq/{faq_id}").json()["alternates"]
    assert alternates[-2:] == ["music please", DECLINED]
    assert patches.count("PATCH") == 2  # refused once (412), then read again and written
    assert page.errors == []
