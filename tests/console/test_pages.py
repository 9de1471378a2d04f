"""The Try it, Unanswered and Threshold pages beyond the loop: feedback naming a better FAQ
reaches the queue, a queued question starts a new FAQ, a threshold picked on the chart is
applied, and tuning from feedback redraws the curve."""

from __future__ import annotations

import pytest

from tests.console.test_loop import DECLINED, ask, enter_key

pytestmark = pytest.mark.slow

ANSWERED = "How do I reset my password?"  # a demo FAQ's own question
HELD_OUT = "I need a new password"  # one of its held-out phrasings: not stored
# Not a stored phrasing (one would count as handled and never be queued).
ASKED = "help, i forgot my password"
OFF_TOPIC = "Do you sell wine or beer?"  # declined by the fast first start (0.45 < 0.62)


def test_wrong_answer_naming_a_better_faq_is_queued_and_a_new_faq_clears_a_question(
    demo_data, serve, open_page
) -> None:
    server = serve(demo_data)
    page = open_page()
    page.goto(f"{server.url}/console")
    enter_key(page)

    ask(page, ASKED)
    better = int(page.locator("#better-faq option").nth(2).get_attribute("value"))
    page.select_option("#better-faq", str(better))
    page.click("#mark-wrong")
    page.locator("#status.ok", has_text="Feedback #").wait_for()
    assert f"marked wrong, FAQ #{better} would have been right" in page.text_content("#status")
    ask(page, DECLINED)
    ask(page, OFF_TOPIC)
    assert page.text_content("#answer-text").startswith("No answer")

    page.click("nav a[data-page=unanswered]")
    wrong = page.locator(".queue-item", has_text=ASKED)
    wrong.wait_for()
    assert f"FAQ #{better} named as right" in wrong.text_content()
    wrong.locator(f".add-alternate[data-faq='{better}']").click()
    page.locator("#status.ok", has_text="as an alternate").wait_for()
    assert ASKED in server.api("GET", f"/faq/{better}").json()["alternates"]

    off_topic = page.locator(".queue-item", has_text=OFF_TOPIC)
    off_topic.locator("button.decline").click()
    page.locator("#status.ok", has_text="rightly declined").wait_for()
    assert page.locator(".queue-item", has_text=OFF_TOPIC).count() == 0
    [stored] = server.api("GET", "/admin/feedback").json()[-1:]
    assert (stored["question"], stored["correct"], stored["answered_faq_id"]) == (
        OFF_TOPIC, True, None)

    page.locator(".queue-item", has_text=DECLINED).locator("a.button").click()
    page.wait_for_selector("#edit-question")
    assert page.input_value("#edit-question") == DECLINED
    page.fill("#edit-answer", "We sell speakers; we cannot play music for you.")
    page.click("#edit-save")
    page.locator("#status.ok", has_text="Created FAQ").wait_for()
    page.click("nav a[data-page=unanswered]")
    page.wait_for_selector("#queue, #queue-empty")
    assert page.locator(".queue-item", has_text=DECLINED).count() == 0
    assert page.locator(".queue-item", has_text=ASKED).count() == 0


def test_threshold_picked_on_the_chart_is_applied_and_feedback_retunes(
    demo_data, serve, open_page
) -> None:
    server = serve(demo_data)
    page = open_page()
    page.goto(f"{server.url}/console#threshold")
    enter_key(page)
    page.wait_for_selector("#threshold-chart")
    current = server.api("GET", "/admin/threshold").json()["threshold"]

    page.click("#tune-feedback")  # no feedback yet: the API's reason is shown
    page.wait_for_selector("#status.error")
    assert "no stored feedback can be used" in page.text_content("#status")

    box = page.locator("#threshold-chart").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.85, box["y"] + box["height"] / 2)
    picked = float(page.input_value("#threshold-input"))
    assert picked > current + 0.05
    assert page.text_content("#chart-readout").startswith(f"at {picked:.3f}, of 372 questions:")
    assert page.get_attribute("#threshold-chart line.chosen", "visibility") == "visible"
    page.click("#threshold-apply")
    page.locator("#status.ok", has_text="Threshold set").wait_for()
    assert server.api("GET", "/admin/threshold").json()["threshold"] == pytest.approx(picked)
    assert f"current {picked:.3f}" in page.text_content(".legend-row")

    # Feedback from the Try page: a right answer, a rightly declined question, and a stored
    # question (it scores 1 whatever the model: left out of the tuning, and said so).
    for question in (HELD_OUT, DECLINED, ANSWERED):
        ask(page, question)
        page.click("#mark-right")
        page.locator("#status.ok", has_text="Feedback #").wait_for()
    page.click("nav a[data-page=threshold]")
    page.click("#tune-feedback")
    warned = page.locator("#status.error", has_text="Tuned on 2 feedback questions")
    warned.wait_for()
    assert "but only 2 questions with feedback" in warned.text_content()
    page.locator("#curve-source", has_text="questions with feedback").wait_for()
    assert "Tuned on 2 questions with feedback (1 left out: now stored phrasings)" in (
        page.text_content("#curve-source")
    )
    assert page.dialogs == [] and page.errors == []


def test_a_pick_past_the_curves_end_is_the_apis_limit(demo_data, serve, open_page) -> None:
    """A curve tuned on a stored phrasing (score 1) ends past 1, its "answer nothing" point,
    which PUT /admin/threshold refuses: a pick there is 1."""
    server = serve(demo_data)
    stored = server.api("POST", "/ask", json={"question": ANSWERED}).json()
    examples = [{"question": ANSWERED, "faq_id": stored["faq_id"]},
                {"question": DECLINED, "faq_id": None}]
    tuned = server.api("POST", "/admin/threshold/tune", json={"examples": examples}).json()
    assert tuned["curve"][-1]["threshold"] > 1
    page = open_page()
    page.goto(f"{server.url}/console#threshold")
    enter_key(page)
    page.wait_for_selector("#threshold-chart")
    assert float(page.get_attribute("#threshold-slider", "max")) == 1
    page.focus("#threshold-slider")
    page.keyboard.press("End")  # the slider's far end
    assert float(page.input_value("#threshold-input")) == 1
    page.click("#threshold-apply")
    page.locator("#status.ok", has_text="Threshold set").wait_for()
    assert server.api("GET", "/admin/threshold").json()["threshold"] == 1
