"""Why a threshold tuning request cannot be served (raised by app.tuning, mapped to HTTP by
app.errors; a module of their own so that app.errors need not import the service)."""

from __future__ import annotations

from typing import Any


class UnknownFaqIds(Exception):
    """Examples name FAQ ids the store does not hold; `details` has one item per example."""

    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(details)} example(s) name FAQ ids that are not in the store")
        self.details = details


class NothingToTune(Exception):
    """Nothing to tune against (an empty store, no usable feedback), or too little to apply."""
