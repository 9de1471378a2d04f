"""Typed errors raised by the store; the app maps each to one stable HTTP response.

    StoreError                    base of everything below
    ├── StoreValidationError      bad input (field, message)          -> 422
    │   └── FaqValidationError    bad FAQ draft/patch field           -> 422
    ├── FaqNotFound               no FAQ with that id (faq_id)        -> 404
    ├── FaqChanged                FAQ not at the revision the writer read -> 412
    ├── AskNotFound               no logged ask with that id (ask_id) -> 404
    ├── SchemaVersionError        database schema this code cannot use (start-up)
    ├── StoreUnavailable          database unreachable, or locked past the busy timeout -> 503
    ├── ImportFormatError         bulk file unreadable (format, encoding, CSV header)
    └── ImportRejected            strict bulk import refused: see .report
"""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class StoreValidationError(StoreError):
    """An input value is invalid; `field` names it (e.g. "alternates[3]", "limit")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class FaqValidationError(StoreValidationError):
    """A field of an FAQ draft or patch is invalid."""


class FaqNotFound(StoreError):
    def __init__(self, faq_id: int) -> None:
        super().__init__(f"no FAQ entry with id {faq_id}")
        self.faq_id = faq_id


class FaqChanged(StoreError):
    """A conditional write found the entry at another revision than the writer expected:
    someone changed it after the writer read it. Nothing was written."""

    def __init__(self, faq_id: int, revision: int) -> None:
        super().__init__(
            f"FAQ entry {faq_id} has changed since you read it: it is now at revision {revision}; "
            "read it again and redo your change"
        )
        self.faq_id = faq_id
        self.revision = revision


class AskNotFound(StoreError):
    def __init__(self, ask_id: str) -> None:
        super().__init__(f"no logged ask with id {ask_id!r}")
        self.ask_id = ask_id


class SchemaVersionError(StoreError):
    """The database schema is newer than this code, foreign, or must not be upgraded here."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (or stayed locked too long); retrying may succeed."""


class ImportFormatError(StoreError):
    """The file as a whole cannot be read (unknown format, not UTF-8, bad CSV header)."""


class ImportRejected(StoreError):
    """A strict import found rejected rows and stored nothing; `report` lists them."""

    def __init__(self, report: Any) -> None:
        rejected = getattr(report, "rejected", [])
        super().__init__(f"import refused: {len(rejected)} rejected row(s), nothing stored")
        self.report = report
