"""The console's whole loop in a real browser, on the demo: a declined question is found on
the Unanswered page, becomes an alternate in one click and is answered at once; a retrain
from the Model page runs to the end; the Threshold page draws the curve."""

from __future__ import annotations

import re

import pytest

from tests.console.conftest import API_KEY

# Off-topic for a shop's help centre: declined by the fast first start (score 0.43 against a
# tuned threshold of 0.62; seeded training, so the same on every run).
DECLINED = "play some music"

pytestmark = pytest.mark.slow


def enter_key(page) -> None:
    page.fill("#key-input", API_KEY)
    page.click("#key-save")
    page.wait_for_selector("#key-forget:visible")


def ask(page, question: str) -> None:
    """Ask through the form and wait for *this* question's answer: waiting for
    #answer-text alone raced, since the previous answer's element is still there."""
    page.click("nav a[data-page=try]")
    page.evaluate("document.querySelector('#ask-result')?.replaceChildren()")
    page.fill("#ask-question", question)
    page.click("#ask-button")
    page.wait_for_function(
        "asked => document.querySelector('#ask-result h3 q')?.textContent === asked",
        arg=question.strip(),
    )


def test_declined_question_becomes_an_alternate_then_retrain_and_curve(
    demo_data, serve, open_page
) -> None:
    server = serve(demo_data)
    page = open_page()
    page.goto(f"{server.url}/console")
    enter_key(page)

    # 1. Declined.
    ask(page, DECLINED)
    assert page.text_content("#answer-text").startswith("No answer")
    assert page.locator("#matches li").count() == 5

    # 2. On the Unanswered page, with suggestions; one click adds it as an alternate.
    page.click("nav a[data-page=unanswered]")
    item = page.locator(".queue-item", has_text=DECLINED)
    item.wait_for()
    assert "asked 1×" in item.text_content()
    button = item.locator(".add-alternate").first
    faq_id = int(button.get_attribute("data-faq"))
    button.click()
    page.locator("#status.ok", has_text="as an alternate").wait_for()
    assert re.search(rf"alternate of FAQ #{faq_id}: revision \d+", page.text_content("#status"))
    assert page.locator(".queue-item", has_text=DECLINED).count() == 0
    assert DECLINED in server.api("GET", f"/faq/{faq_id}").json()["alternates"]

    # Handled questions stay out of the queue on a fresh load too.
    page.reload()
    page.wait_for_selector("#queue, #queue-empty")
    assert page.locator(".queue-item", has_text=DECLINED).count() == 0

    # 3. Answered now, by that FAQ, with no retrain.
    ask(page, DECLINED)
    assert not page.text_content("#answer-text").startswith("No answer")
    assert page.text_content(".badge") == f"FAQ #{faq_id}"
    assert page.text_content("#matches li .matched") == DECLINED

    # 4. Retrain from the Model page; the progress bar runs to the end.
    page.click("nav a[data-page=model]")
    page.wait_for_selector("#retrain-message:has-text('idle')")
    version_before = page.text_content("#model-version")
    # Every state the bar shows, as the page shows it (polls may be faster than a test).
    page.evaluate("""() => {
      window.seen = [];
      const bar = document.getElementById("retrain-progress");
      new MutationObserver(() => window.seen.push(bar.value)).observe(
        document.getElementById("retrain-message"), {childList: true, characterData: true,
                                                    subtree: true});
    }""")
    page.click("#retrain-button")
    # (Not wait_for_function: the console's CSP refuses string eval, even Playwright's.)
    page.locator("#retrain-message", has_text=re.compile("^succeeded")).wait_for(timeout=120_000)
    seen = page.evaluate("window.seen")
    assert seen[0] < 1 and seen[-1] == 1 and seen == sorted(seen), seen
    assert page.text_content("#model-version") != version_before
    page.wait_for_selector("#before-after > *")  # before/after (or why there is none)

    # The new model still answers it (it is a stored phrasing now).
    ask(page, DECLINED)
    assert page.text_content(".badge") == f"FAQ #{faq_id}"

    # 5. The Threshold page draws the first start's tuning curve with the current value.
    page.click("nav a[data-page=threshold]")
    page.wait_for_selector("#threshold-chart")
    lines = page.locator("#threshold-chart polyline")
    assert lines.count() == 3
    points = lines.first.get_attribute("points").split()
    assert len(points) > 20
    current = server.api("GET", "/admin/threshold").json()["threshold"]
    assert f"current {current:.3f}" in page.text_content(".legend-row")
    assert page.errors == [] and page.dialogs == []
