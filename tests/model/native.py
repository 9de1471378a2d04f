"""The optional C extensions (setup.py) as tests need them: built, or a skip that CI fails."""

import os
from types import ModuleType

import pytest


def built(module: ModuleType | None, name: str) -> ModuleType:
    """`module` (an extension import that may have failed); where it is None the test is
    skipped, except under CI, whose install has a C compiler and must have built it."""
    if module is None:
        message = f"model.{name} is not built (no C compiler when the package was installed)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return module
