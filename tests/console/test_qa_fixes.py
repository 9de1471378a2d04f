"""Console fixes from a QA pass, each as the user met it: a threshold typed and entered is the
one applied, entering the key keeps the page's work, the Model page outlives a service that
stops answering mid-retrain, an editor whose FAQ was deleted or changed elsewhere says so
and offers the way on, and long text, long questions and the keyboard are handled."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.console.test_loop import DECLINED, ask, enter_key

pytestmark = pytest.mark.slow

DEMO_QUESTION = "How do I reset my password?"
# A retrain as GET /admin/retrain reports it mid-run, then after the service restarted.
RETRAIN = {"started_at": "2025-01-01T10:00:00Z", "finished_at": None, "model_version": "m-old",
           "new_model_version": None, "error": None}
RUNNING = {**RETRAIN, "state": "running", "progress": 0.5, "message": "training: epoch 2/4"}
INTERRUPTED = {
    **RETRAIN, "state": "failed", "progress": 0.5, "finished_at": "2025-01-01T10:01:00Z",
    "message": "retrain interrupted: the service stopped while it ran; "
    "the previous model keeps serving",
    "error": "interrupted: the service stopped",
}
# One word too long for any line (no space to break at), declined, and too long to store.
LONG_WORD = "qwzxv" * 120


def _script_errors(page) -> list[str]:
    """page.errors less the requests a test aborted on purpose (the service "down")."""
    return [error for error in page.errors if not error.startswith("failed ")]


def _open_faqs(page, server, tag: str, count: int) -> None:
    page.goto(f"{server.url}/console#faqs")
    enter_key(page)
    page.fill("#faq-tags", tag)
    page.press("#faq-tags", "Enter")
    page.wait_for_selector(f"#faq-count:has-text('{count} FAQs')")


def _open_editor(page, faq_id: int) -> None:
    page.locator(f"#faq-list .faq[data-id='{faq_id}'] button").click()
    page.wait_for_selector("#edit-save")


def test_a_threshold_typed_then_entered_is_applied_as_typed(demo_data, serve, open_page) -> None:
    server = serve(demo_data)
    page = open_page()
    page.goto(f"{server.url}/console#threshold")
    enter_key(page)
    page.wait_for_selector("#threshold-chart")

    # Past the curve's end, below its start, finer than the slider's step: as typed.
    for typed, said in (("0.95", "0.950"), ("-0.5", "-0.500"), ("0.3605", "0.3605")):
        page.fill("#threshold-input", typed)
        page.press("#threshold-input", "Enter")
        page.locator("#status.ok", has_text=f"Threshold set to {said}:").wait_for()
        stored = server.api("GET", "/admin/threshold").json()["threshold"]
        assert stored == pytest.approx(float(typed), abs=1e-9), typed
        expect(page.locator("#threshold-input")).to_have_value(said)  # redrawn, exact

    # The slider follows what is typed (clamped to its range); the field keeps it as typed.
    page.fill("#threshold-input", "0.999")
    top = float(page.get_attribute("#threshold-slider", "max"))
    assert float(page.input_value("#threshold-slider")) == pytest.approx(min(0.999, top), abs=1e-3)
    page.locator("#threshold-input").press("Tab")
    assert page.input_value("#threshold-input") == "0.999"

    # Empty, or not a number (the field then reads ""): nothing is applied, and that is said.
    for keys in ("", "-"):
        page.evaluate("document.getElementById('status').textContent = ''")
        page.fill("#threshold-input", "")
        page.locator("#threshold-input").press_sequentially(keys)
        page.press("#threshold-input", "Enter")
        page.locator("#status.error", has_text="nothing applied").wait_for()
        assert server.api("GET", "/admin/threshold").json()["threshold"] == pytest.approx(0.3605)
    assert _script_errors(page) == []


def test_entering_the_key_keeps_the_answer_and_the_editors_draft(
    demo_data, serve, open_page
) -> None:
    server = serve(demo_data)
    page = open_page()
    page.goto(f"{server.url}/console")
    ask(page, DEMO_QUESTION)  # /ask is public
    enter_key(page)
    assert page.text_content("#ask-result h3 q") == DEMO_QUESTION
    assert page.locator("#answer-text").count() == 1
    page.click("#key-forget")
    page.wait_for_selector("#key-input:visible")
    assert page.text_content("#ask-result h3 q") == DEMO_QUESTION

    # A draft typed without a key survives entering it, and the save uses it.
    page.click("nav a[data-page=faqs]")
    page.click("#faq-new")
    page.fill("#edit-question", "Do you sell gift wrap?")
    page.fill("#edit-answer", "Yes, at checkout.")
    enter_key(page)
    assert page.input_value("#edit-question") == "Do you sell gift wrap?"
    assert page.input_value("#edit-answer") == "Yes, at checkout."
    page.click("#edit-save")
    page.locator("#status.ok", has_text="Created FAQ").wait_for()
    faq_id = int(re.search(r"FAQ #(\d+)", page.text_content("#status")).group(1))
    assert server.api("GET", f"/faq/{faq_id}").json()["answer"] == "Yes, at checkout."

    # A page that was only "enter the key" is drawn with it.
    page.click("#key-forget")
    page.click("nav a[data-page=unanswered]")
    page.wait_for_selector("#needs-key")
    enter_key(page)
    page.wait_for_selector("#queue, #queue-empty")
    assert _script_errors(page) == []


def test_the_model_page_keeps_asking_while_the_service_does_not_answer(
    demo_data, serve, open_page
) -> None:
    server = serve(demo_data)
    page = open_page()
    state = {"now": "running"}
    asked: list[str] = []

    def retrain(route) -> None:
        if route.request.method != "GET":
            route.continue_()
            return
        asked.append(state["now"])
        if state["now"] == "down":
            route.abort("connectionrefused")
        else:
            route.fulfill(json=RUNNING if state["now"] == "running" else INTERRUPTED)

    page.route(re.compile(r"/admin/retrain$"), retrain)
    page.goto(f"{server.url}/console#model")
    enter_key(page)
    page.locator("#retrain-message", has_text="running: training: epoch 2/4").wait_for()
    assert page.is_disabled("#retrain-button")

    state["now"] = "down"  # the service stops mid-run
    page.locator("#retrain-message", has_text="the service is not answering").wait_for()
    status = page.text_content("#status")
    assert "did not answer" in status and "Refused" not in status
    deadline = time.monotonic() + 20
    while asked.count("down") < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert asked.count("down") >= 3  # still asking, less often

    state["now"] = "back"  # restarted: the run reads as interrupted
    page.locator("#retrain-message", has_text=re.compile("^failed: retrain interrupted")).wait_for()
    assert page.is_enabled("#retrain-button")
    assert page.text_content("#status").startswith("Retrain failed: interrupted")
    assert _script_errors(page) == []


def test_an_faq_deleted_elsewhere_closes_its_editor(demo_data, serve, open_page) -> None:
    server = serve(demo_data)
    body = {"items": [{"question": f"Do you ship to Faroe island {n}?", "answer": "Yes.",
                       "tags": ["gone"]} for n in (1, 2)]}
    saved_id, deleted_id = server.api("POST", "/faq", json=body).json()["ids"]
    page = open_page()
    _open_faqs(page, server, "gone", 2)

    # Save over an entry deleted since the editor opened.
    _open_editor(page, saved_id)
    assert server.api("DELETE", f"/faq/{saved_id}").status_code == 200
    page.fill("#edit-answer", "Yes, in a week.")
    page.click("#edit-save")
    page.locator("#status.error", has_text=f"FAQ #{saved_id} was deleted elsewhere").wait_for()
    page.wait_for_selector("#faq-count:has-text('1 FAQs')")
    assert page.locator("#faq-editor form").count() == 0
    assert page.locator(f"#faq-list .faq[data-id='{saved_id}']").count() == 0

    # Delete, likewise.
    _open_editor(page, deleted_id)
    assert server.api("DELETE", f"/faq/{deleted_id}").status_code == 200
    page.click("#edit-delete")
    page.click("#edit-delete")
    page.locator("#status.error", has_text=f"FAQ #{deleted_id} was deleted elsewhere").wait_for()
    page.wait_for_selector("#faq-count:has-text('0 FAQs')")
    assert page.locator("#faq-editor form").count() == 0
    assert page.evaluate("document.activeElement.id") == "faq-new"
    assert page.errors == []


def test_an_faq_changed_elsewhere_keeps_the_form_and_can_be_reloaded(
    demo_data, serve, open_page
) -> None:
    server = serve(demo_data)
    body = {"question": "Do you ship to Greenland?", "answer": "Yes.", "tags": ["race"]}
    faq_id = server.api("POST", "/faq", json=body).json()["ids"][0]
    page = open_page()
    _open_faqs(page, server, "race", 1)
    _open_editor(page, faq_id)
    assert page.locator("#edit-reload").is_hidden()

    server.api("PATCH", f"/faq/{faq_id}", json={"answer": "Yes, in 5 days."})
    page.fill("#edit-answer", "Yes, within a week.")
    page.click("#edit-save")
    page.locator("#status.error", has_text="has changed since you read it").wait_for()
    assert "Reload this FAQ" in page.text_content("#status")
    assert page.input_value("#edit-answer") == "Yes, within a week."  # kept until asked

    page.click("#edit-reload")
    page.locator("#status.ok", has_text=f"Reloaded FAQ #{faq_id}").wait_for()
    assert page.input_value("#edit-answer") == "Yes, in 5 days."
    page.fill("#edit-answer", "Yes, in 5 days or 2 by express.")
    page.click("#edit-save")
    page.locator("#status.ok", has_text=f"Saved FAQ #{faq_id}").wait_for()
    assert server.api("GET", f"/faq/{faq_id}").json()["answer"] == "Yes, in 5 days or 2 by express."
    assert page.errors == []


def test_a_long_question_wraps_and_cannot_become_an_alternate(
    demo_data, serve, open_page
) -> None:
    server = serve(demo_data)
    server.api("POST", "/faq", json={"question": LONG_WORD[:500], "answer": LONG_WORD,
                                     "alternates": [LONG_WORD[:500]], "tags": ["t" * 50]})
    page = open_page()
    page.goto(f"{server.url}/console")
    enter_key(page)
    width = "document.documentElement.scrollWidth"
    ask(page, LONG_WORD + "x" * 100)
    assert page.evaluate(width) <= 1280
    page.click("nav a[data-page=faqs]")
    page.fill("#faq-tags", "t" * 50)
    page.press("#faq-tags", "Enter")
    page.wait_for_selector("#faq-count:has-text('1 FAQs')")
    assert page.evaluate(width) <= 1280

    # Too long to store as an alternate: said, and its alternate buttons are disabled.
    page.click("nav a[data-page=unanswered]")
    item = page.locator(".queue-item", has_text=LONG_WORD[:100])
    item.wait_for()
    assert page.evaluate(width) <= 1280
    assert "too long to store as written" in item.locator(".too-long").text_content()
    assert item.locator(".add-alternate:enabled, .add-other:enabled").count() == 0
    assert item.locator("button.decline").is_enabled()

    # Started as a new FAQ: offered once (a reload shows the list), and saved once shortened.
    item.locator("a.button").click()
    page.wait_for_selector("#edit-question")
    assert page.evaluate("location.hash") == "#faqs"
    page.reload()
    page.wait_for_selector("#faq-count")
    assert page.locator("#faq-editor form").count() == 0
    assert _script_errors(page) == []


def test_the_keyboard_closes_the_editor_and_adds_by_id(demo_data, serve, open_page) -> None:
    server = serve(demo_data)
    server.api("POST", "/ask", json={"question": DECLINED})
    page = open_page()
    page.goto(f"{server.url}/console#faqs")
    enter_key(page)
    page.wait_for_selector("#faq-count:has-text('90 FAQs')")
    page.click("#faq-new")
    page.fill("#edit-question", "unsaved")
    page.press("#edit-question", "Escape")
    assert page.locator("#faq-editor form").count() == 0
    assert page.evaluate("document.activeElement.id") == "faq-new"

    # Escape on an entry's editor: focus back on its Edit button.
    first = page.locator("#faq-list .faq").first
    first.locator("button").click()
    page.press("#edit-answer", "Escape")
    assert page.evaluate("document.activeElement.closest('.faq')?.dataset.id") == (
        first.get_attribute("data-id"))

    page.click("nav a[data-page=unanswered]")
    item = page.locator(".queue-item", has_text=DECLINED)
    item.locator(".faq-id-input").fill("3")
    item.locator(".faq-id-input").press("Enter")
    page.locator("#status.ok", has_text="as an alternate of FAQ #3").wait_for()
    assert DECLINED in server.api("GET", "/faq/3").json()["alternates"]


def test_a_refused_key_shows_the_key_box_and_no_answer_is_no_refusal(
    demo_data, serve, open_page
) -> None:
    server = serve(demo_data)
    page = open_page()
    page.goto(f"{server.url}/console")
    page.fill("#key-input", "not-the-key")
    page.click("#key-save")
    assert page.locator("#key-input").is_hidden()
    ask(page, DEMO_QUESTION)
    page.click("#mark-right")
    page.locator("#status.error", has_text="invalid API key").wait_for()
    assert page.locator("#key-input").is_visible()
    assert page.text_content("#key-state").startswith("key refused")
    enter_key(page)  # the right one, in the box shown again
    page.click("#mark-right")
    page.locator("#status.ok", has_text="Feedback #").wait_for()
    assert page.locator("#key-input").is_hidden()

    # No answer at all is not a refusal.
    page.route(re.compile(r"/feedback$"), lambda route: route.abort("connectionrefused"))
    page.click("#mark-right")
    page.locator("#status.error", has_text="The service did not answer (").wait_for()
    assert not page.text_content("#status").startswith("Refused")
