"""Argument checks every table family applies before a value reaches the driver, and the
rule that stored timestamps are UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from store.errors import StoreValidationError

INT64_MAX = 2**63 - 1


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def valid_id(faq_id: object) -> bool:
    # Out-of-range ints would reach the driver and fail as a database error, not "not found".
    return isinstance(faq_id, int) and not isinstance(faq_id, bool) and 1 <= faq_id <= INT64_MAX


def bounded(value: int | None, field_name: str) -> int | None:
    """A cursor/revision argument: None, or an int in [0, INT64_MAX]."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
        raise StoreValidationError(field_name, f"must be an integer in [0, {INT64_MAX}]")
    return value


def check_limit(limit: object, maximum: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise StoreValidationError("limit", f"must be an integer between 1 and {maximum}")


def valid_key(value: object, max_chars: int) -> bool:
    if not isinstance(value, str) or not 1 <= len(value) <= max_chars or "\x00" in value:
        return False
    # ASCII (every id the app makes) has no surrogates: skip the per-character scan.
    return value.isascii() or not any("\ud800" <= char <= "\udfff" for char in value)
