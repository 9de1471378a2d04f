"""Shared fixtures live in tests/fixtures/, one module per package that provides them."""

pytest_plugins = [
    "tests.fixtures.model_fixtures",
    "tests.fixtures.store_fixtures",
]
