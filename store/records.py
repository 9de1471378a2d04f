"""Value types returned by the store besides FaqEntry: pages, change sets, asks, feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.entries import FaqEntry


@dataclass(frozen=True)
class Page:
    entries: list[FaqEntry]
    total: int  # entries matching the filter, all pages together
    next_after_id: int | None  # pass as after_id for the next page; None on the last page


@dataclass(frozen=True)
class ChangeSet:
    """Everything that changed after a revision, as of `revision` (one consistent snapshot).

    `upserted` holds entries at their current state; `deleted` ids that no longer exist.
    Applying it twice is harmless (idempotent).
    """

    revision: int
    upserted: list[FaqEntry]
    deleted: list[int]


@dataclass(frozen=True)
class SyncResult:
    """What `FaqStore.sync` did, all under one revision (None when nothing changed)."""

    added: list[FaqEntry]
    updated: list[int]  # ids replaced with different content
    unchanged: list[int]  # ids named for replacement whose content was already as stored
    deleted: list[int]
    revision: int | None


@dataclass(frozen=True)
class StoreVersions:
    """What a poller compares: FAQ revision and settings version, read in one query."""

    revision: int
    settings_version: int


@dataclass(frozen=True)
class AskRecord:
    """One answered-or-not question, as the app logs it (ask_id: app.ask_ids, 32 hex digits)."""

    ask_id: str
    question: str
    answered: bool
    faq_id: int | None
    score: float | None
    threshold: float | None  # the one applied: the caller's, else the service's
    asked_at: datetime
    # The service's threshold in force at the time; None for asks logged before it was kept.
    service_threshold: float | None = None


@dataclass(frozen=True)
class Feedback:
    id: int
    ask_id: str
    question: str  # the asked question, so feedback can become tuning examples / alternates
    correct: bool
    faq_id: int | None  # the right FAQ according to the user (None: none / not given)
    answered_faq_id: int | None  # what the service answered
    created_at: datetime


@dataclass(frozen=True)
class UnansweredQuestion:
    question: str  # the most recent raw wording of this normalised question
    count: int
    last_asked_at: datetime
    ask_id: str  # the most recent ask of it: what feedback on the question refers to
