"""Shared fixtures live in tests/fixtures/, one module per package that provides them."""

import os

from hypothesis import settings

pytest_plugins = [
    "tests.fixtures.model_fixtures",
    "tests.fixtures.store_fixtures",
]

# Where the checkout is read-only (the image's /app), Hypothesis cannot keep its example
# database there and warns on every use: ~90 warnings that pushed the one failing test's
# message out of CI's excerpt. No database is what it falls back to anyway.
if not os.access(os.getcwd(), os.W_OK):
    settings.register_profile("read_only_checkout", database=None)
    settings.load_profile("read_only_checkout")
