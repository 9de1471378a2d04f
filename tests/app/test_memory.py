"""glibc malloc settings (app.memory): applied where the C library is glibc."""

import logging
import platform

import pytest

from app.memory import tune_malloc

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")


@glibc
def test_the_defaults_are_accepted(caplog):
    with caplog.at_level(logging.WARNING, logger="samesay.app"):
        assert tune_malloc(2, 128 * 1024)
        assert tune_malloc(0, 0)  # 0: leave glibc's default
    assert caplog.records == []

