"""Fixtures for the console's browser tests: Debian's chromium driven by Playwright, and the
real service served by uvicorn on a free port.

Nothing is downloaded: Playwright launches /usr/bin/chromium (`make test` installs it with
scripts/ensure-chromium.sh). Without it the browser tests skip locally and fail under CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app.bootstrap import BootstrapConfig, ensure_ready
from app.config import Settings
from app.main import create_app
from tests.fixtures.ci import skip_unless_ci
from tests.fixtures.model_fixtures import tiny_train_config
from training.augment import AugmentConfig
from training.recipes import FaqRecipe, scratch_train_config

API_KEY = "console-test-key-0123456789"
CHROMIUM = os.environ.get("SAMESAY_CHROMIUM", "/usr/bin/chromium")
# Headless and quiet: no GPU, no sandbox (CI runs as root), no background network traffic.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The demo's first start, trained from scratch small and fast (~7 s of one core instead of
# the ~45 s fine-tune of the shipped base), as tests/demo/test_bootstrap.py does.
FAST_FIRST_START = BootstrapConfig(
    recipe=FaqRecipe(
        train=replace(
            scratch_train_config(),
            encoder=replace(scratch_train_config().encoder, embedding_dim=48, hidden_size=48),
            epochs=4, min_steps=0, learning_rate=0.01, device="cpu", num_threads=1,
        ),
        augment=AugmentConfig(copies=1),
    )
)


def chromium_or_skip(path: str = CHROMIUM, ci: bool | None = None) -> str:
    """The browser to launch; without it (or Playwright) skip, except under CI (env CI set,
    as .ci/run does): fail."""
    found = shutil.which(path) or (path if os.path.isfile(path) else None)
    try:
        import playwright  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        skip_unless_ci(
            f"no chromium at {path} or no playwright (run scripts/ensure-chromium.sh)", ci
        )
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., object]]:
    """open_page(viewport=DESKTOP) -> a fresh page (own sessionStorage); every page records
    the dialogs it opened in `page.dialogs` (dismissing them), and in `page.errors` its
    script errors and any console file it failed to load. (API refusals are not errors
    here: tests assert on how the page shows them.)"""
    contexts = []

    def opener(viewport: dict[str, int] = DESKTOP) -> object:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.errors = []

        def on_dialog(dialog) -> None:
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        def on_response(response) -> None:
            path = urlsplit(response.url).path
            if response.status >= 400 and (path.startswith("/console") or path == "/favicon.ico"):
                page.errors.append(f"{response.status} {path}")

        page.on("response", on_response)
        page.on("requestfailed", lambda r: page.errors.append(f"failed {r.url}"))
        page.set_default_timeout(15_000)
        return page

    yield opener
    for context in contexts:
        context.close()


@dataclass
class LiveServer:
    """The app under uvicorn in a thread (the real HTTP stack, lifespan included)."""

    app: FastAPI
    settings: Settings
    url: str = ""
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def start(self) -> LiveServer:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning",
                                lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the service did not become ready within 60 s")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)


def console_settings(data_dir: Path, **overrides) -> Settings:
    values = dict(data_dir=data_dir, api_keys=[API_KEY], sync_interval_s=0.2,
                  ask_log_flush_s=0.1, torch_threads=1)
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    """A data directory after the demo's (fast) first start: 90 FAQs, a model, a tuned
    threshold and its curve. Copied per server so tests never see each other's writes."""
    data_dir = tmp_path_factory.mktemp("console-demo") / "data"
    ensure_ready(console_settings(data_dir), FAST_FIRST_START, progress=False, echo=lambda _: None)
    return data_dir


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """serve(data_dir, **settings) -> a started LiveServer over a copy of data_dir; retrain
    uses a tiny recipe (a few seconds) so the Model page's progress bar finishes quickly."""
    started: list[LiveServer] = []

    def start(source: Path, **overrides) -> LiveServer:
        data_dir = tmp_path / f"data-{len(started)}"
        shutil.copytree(source, data_dir)
        settings = console_settings(data_dir, **overrides)
        app = create_app(settings, train_config=tiny_train_config(epochs=3))
        server = LiveServer(app, settings).start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()
