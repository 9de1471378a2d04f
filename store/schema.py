"""SQLAlchemy Core tables the store queries (migrations create them; a test checks they agree)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid; BIGINT elsewhere (int64 ids).
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

# One row (id = 1). `revision` is bumped first thing in every FAQ write transaction: the row
# lock serialises writers, so revisions commit in order and a reader never skips one.
store_state = Table(
    "store_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("revision", BigInteger, nullable=False),
    Column("settings_version", BigInteger, nullable=False),
    # Lets an index sidecar tell "another database" from "the same database, behind".
    Column("store_id", String(32), nullable=False),
)

faq_entries = Table(
    "faq_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("alternates", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Revision of the last write to this row: changes_since() selects upserts with it.
    Column("revision", BigInteger, nullable=False),
    Index("ix_faq_entries_revision", "revision"),
    # AUTOINCREMENT: SQLite would otherwise reuse the id of a deleted last row.
    sqlite_autoincrement=True,
)

# Denormalised copy of each entry's tags, for filtering pages by tag.
faq_tags = Table(
    "faq_tags",
    metadata,
    Column("faq_id", Id, ForeignKey("faq_entries.id", ondelete="CASCADE"), nullable=False),
    Column("tag", String(50), nullable=False),
    PrimaryKeyConstraint("faq_id", "tag"),
    Index("ix_faq_tags_tag", "tag"),
)

# The revision log: one row per entry touched per revision; op is "upsert" or "delete".
faq_changes = Table(
    "faq_changes",
    metadata,
    Column("revision", BigInteger, nullable=False),
    Column("faq_id", BigInteger, nullable=False),
    Column("op", String(6), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("revision", "faq_id"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),  # JSON-encoded
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

asks = Table(
    "asks",
    metadata,
    Column("ask_id", String(64), primary_key=True),
    Column("question", Text, nullable=False),
    # NFKC + casefold + whitespace folding: what unanswered() groups by.
    Column("question_key", Text, nullable=False),
    Column("answered", Boolean, nullable=False),
    Column("faq_id", BigInteger, nullable=True),  # no FK: the log outlives deleted entries
    Column("score", Float, nullable=True),
    Column("threshold", Float, nullable=True),  # the one applied (the caller's, if given)
    # The service's own threshold at the time (NULL: logged before migration 0002): an ask
    # it would have answered was declined only by the caller's stricter threshold.
    Column("service_threshold", Float, nullable=True),
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Index("ix_asks_answered_asked_at", "answered", "asked_at"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ask_id", String(64), ForeignKey("asks.ask_id", ondelete="CASCADE"), nullable=False),
    Column("correct", Boolean, nullable=False),
    Column("faq_id", BigInteger, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_feedback_ask_id", "ask_id"),
    sqlite_autoincrement=True,
)
