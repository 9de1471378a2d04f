"""Browser tests never pass silently in CI: a missing chromium fails them there, skips them
elsewhere."""

from __future__ import annotations

import pytest

from tests.console.conftest import chromium_or_skip


def test_missing_browser_fails_under_ci(tmp_path) -> None:
    with pytest.raises(pytest.fail.Exception, match="must run in CI"):
        chromium_or_skip(str(tmp_path / "no-chromium"), ci=True)


def test_missing_browser_skips_elsewhere(tmp_path) -> None:
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        chromium_or_skip(str(tmp_path / "no-chromium"), ci=False)


def test_a_present_browser_is_returned(tmp_path) -> None:
    pytest.importorskip("playwright")
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    assert chromium_or_skip(str(browser), ci=True) == str(browser)
