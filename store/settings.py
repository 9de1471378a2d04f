"""SettingsStore: the `settings` table (JSON values by key), threshold and active model.

Every write bumps `store_state.settings_version` in the same transaction, so pollers notice
a change with the one cheap query of `FaqStore.versions()`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import select

from store import schema as t
from store.checks import utc_now, valid_key
from store.errors import StoreValidationError
from store.transactions import Transactions, bump_counter, insert_for

THRESHOLD_KEY = "threshold"
ACTIVE_MODEL_KEY = "active_model"


class SettingsStore:
    """Settings shared by every worker; thread-safe (FaqStore builds one over its engine)."""

    def __init__(self, transactions: Transactions) -> None:
        self._transactions = transactions

    def get_setting(self, key: str, default: Any = None) -> Any:
        if not valid_key(key, 100):
            return default
        with self._transactions.read() as connection:
            value = connection.execute(
                select(t.settings.c.value).where(t.settings.c.key == key)
            ).scalar_one_or_none()
        return default if value is None else json.loads(value)

    def set_setting(self, key: str, value: Any) -> int:
        """Store a JSON-serialisable value; bumps settings_version (returned) for pollers."""
        if not valid_key(key, 100):
            raise StoreValidationError("key", "must be 1..100 characters, no NUL/surrogates")
        try:
            encoded = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise StoreValidationError(key, f"not storable as JSON: {error}") from None
        with self._transactions.write() as connection:
            version = bump_counter(connection, t.store_state.c.settings_version)
            values = {"key": key, "value": encoded, "updated_at": utc_now()}
            upsert = insert_for(connection)(t.settings).values(values)
            connection.execute(
                upsert.on_conflict_do_update(
                    index_elements=["key"],
                    set_={"value": encoded, "updated_at": values["updated_at"]},
                )
            )
            return version

    def get_threshold(self) -> float | None:
        """The global answer threshold, or None if never set (the app then uses its default)."""
        value = self.get_setting(THRESHOLD_KEY)
        return None if value is None else float(value)

    def set_threshold(self, threshold: float) -> int:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise StoreValidationError("threshold", "must be a number")
        if not math.isfinite(threshold) or not -1.0 <= threshold <= 1.0:
            raise StoreValidationError("threshold", "must be a finite number in [-1, 1]")
        return self.set_setting(THRESHOLD_KEY, float(threshold))

    def get_active_model(self) -> str | None:
        """Content hash of the encoder checkpoint the service should serve (None: not set)."""
        return self.get_setting(ACTIVE_MODEL_KEY)

    def set_active_model(self, content_hash: str) -> int:
        if not isinstance(content_hash, str) or not 1 <= len(content_hash) <= 128:
            raise StoreValidationError("active_model", "must be a 1..128 character hash")
        return self.set_setting(ACTIVE_MODEL_KEY, content_hash)
