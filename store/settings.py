"""SettingsStore: the `settings` table (JSON values by key), threshold and active model.

Every write bumps `store_state.settings_version` in the same transaction, so pollers notice
a change with the one cheap query of `FaqStore.versions()`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

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
        encoded = _encoded(key, value)
        with self._transactions.write() as connection:
            version = bump_counter(connection, t.store_state.c.settings_version)
            _upsert(connection, key, encoded)
            return version

    def change_setting(self, key: str, change: Callable[[Any], Any], *, notify: bool) -> Any:
        """Read, decide and write one setting as one step: `change` gets the stored value
        (None when unset) and returns the value to store, or KEEP to leave it. Returns the
        value stored afterwards.

        Every caller of this method for the key queues on the store_state row's lock, so two
        workers cannot both see "free" and both take it. `notify` bumps settings_version (as
        set_setting does); without it, pollers are not woken for a value only its readers
        need (progress every few seconds).
        """
        if not valid_key(key, 100):
            raise StoreValidationError("key", "must be 1..100 characters, no NUL/surrogates")
        with self._transactions.write() as connection:
            # SQLite's IMMEDIATE write transactions are serialised already; SQLAlchemy leaves
            # FOR UPDATE out there.
            connection.execute(
                select(t.store_state.c.id).where(t.store_state.c.id == 1).with_for_update()
            )
            stored = connection.execute(
                select(t.settings.c.value).where(t.settings.c.key == key)
            ).scalar_one_or_none()
            current = None if stored is None else json.loads(stored)
            value = change(current)
            if value is KEEP:
                return current
            if notify:
                bump_counter(connection, t.store_state.c.settings_version)
            _upsert(connection, key, _encoded(key, value))
            return value

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


# What a `change_setting` callback returns to leave the stored value as it is.
KEEP: Any = object()


def _encoded(key: str, value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise StoreValidationError(key, f"not storable as JSON: {error}") from None


def _upsert(connection: Connection, key: str, encoded: str) -> None:
    values = {"key": key, "value": encoded, "updated_at": utc_now()}
    upsert = insert_for(connection)(t.settings).values(values)
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=["key"], set_={"value": encoded, "updated_at": values["updated_at"]}
        )
    )
