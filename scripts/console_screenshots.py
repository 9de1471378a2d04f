"""Regenerate docs/console/*.png: every console page at 1280x800 and on a 390x844 phone.

    PYTHONPATH=. .venv/bin/python scripts/console_screenshots.py [--out docs/console] [--fast]

Runs the demo's first start in a temporary data directory (the real one, fine-tuning the
shipped base, ~1 min; `--fast`: the browser tests' small recipe, for checking a layout),
serves it, leaves some traffic for the queue and feedback for the before/after figure, then
drives Debian's chromium like tests/console do, retraining once from the Model page. PNGs are
reduced to a 128-colour palette so that each stays a few tens of KB.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

from app.bootstrap import BootstrapConfig, ensure_ready
from app.main import create_app
from tests.console.conftest import (
    API_KEY,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    FAST_FIRST_START,
    PHONE,
    LiveServer,
    console_settings,
)
from tests.fixtures.model_fixtures import tiny_train_config

DECLINED = ["play some music", "play some music", "play some music", "What is 17 times 23?",
            "What is 17 times 23?", "How tall is Mount Everest?",
            "Translate good morning into French"]
TRY_QUESTION = "wheres my parcel"


def _traffic(server: LiveServer) -> None:
    """Declined questions for the queue; feedback for the tuning and before/after figures."""
    for question in DECLINED:
        server.api("POST", "/ask", json={"question": question})
    # (question, should it be answered): feedback says whether what happened was right.
    for question, answerable in [("where is my parcel", True), ("i forgot my password", True),
                                 ("can i pay with paypal", True), ("send stuff back", True),
                                 ("is it going to rain today", False),
                                 ("Book me a flight to Paris", False)]:
        asked = server.api("POST", "/ask", json={"question": question}).json()
        server.api("POST", "/feedback", json={"ask_id": asked["ask_id"],
                                              "correct": asked["answered"] == answerable})


def _save(page: Page, path: Path) -> None:
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    image.quantize(colors=128, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)
    print(f"{path} {path.stat().st_size // 1024} KB")


def _pages(page: Page, url: str, out: Path, size: str, retrain: bool) -> None:
    page.goto(f"{url}/console#try")
    page.fill("#key-input", API_KEY)
    page.click("#key-save")
    page.fill("#ask-question", TRY_QUESTION)
    page.click("#ask-button")
    page.wait_for_selector("#matches li")
    _save(page, out / f"try-{size}.png")
    page.click("nav a[data-page=faqs]")
    page.wait_for_selector("#faq-list li")
    _save(page, out / f"faqs-{size}.png")
    page.click("nav a[data-page=unanswered]")
    page.wait_for_selector(".queue-item")
    _save(page, out / f"unanswered-{size}.png")
    page.click("nav a[data-page=threshold]")
    page.wait_for_selector("#threshold-chart")
    _save(page, out / f"threshold-{size}.png")
    page.click("nav a[data-page=model]")
    if retrain:
        page.click("#retrain-button")
        page.locator("#retrain-message", has_text="succeeded").wait_for(timeout=180_000)
    page.wait_for_selector("#compare-figure, #no-feedback")
    _save(page, out / f"model-{size}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/console"))
    parser.add_argument("--fast", action="store_true", help="small recipe (layout checks)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        settings = console_settings(Path(scratch) / "data")
        ensure_ready(settings, FAST_FIRST_START if args.fast else BootstrapConfig(),
                     progress=False, echo=print)
        retrain = tiny_train_config(epochs=3) if args.fast else None  # None: the real recipe
        server = LiveServer(create_app(settings, train_config=retrain), settings).start()
        try:
            _traffic(server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                desktop = browser.new_context(viewport=DESKTOP).new_page()
                _pages(desktop, server.url, args.out, "desktop", retrain=True)
                before = desktop.evaluate("() => sessionStorage.getItem('samesay.retrainBefore')")
                phone = browser.new_context(viewport=PHONE, device_scale_factor=1).new_page()
                phone.goto(f"{server.url}/console")
                phone.evaluate("(v) => sessionStorage.setItem('samesay.retrainBefore', v)", before)
                _pages(phone, server.url, args.out, "phone", retrain=False)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
