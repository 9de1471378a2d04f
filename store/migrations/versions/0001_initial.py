"""Initial schema: FAQ entries, tags, revision log, settings, ask log and feedback.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copy of the column types at this revision (never import store.schema here: it moves on).
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    state = op.create_table(
        "store_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("settings_version", sa.BigInteger, nullable=False),
        sa.Column("store_id", sa.String(32), nullable=False),
    )
    op.bulk_insert(
        state, [{"id": 1, "revision": 0, "settings_version": 0, "store_id": uuid.uuid4().hex}]
    )
    op.create_table(
        "faq_entries",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("alternates", sa.JSON, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_faq_entries_revision", "faq_entries", ["revision"])
    op.create_table(
        "faq_tags",
        sa.Column(
            "faq_id", Id, sa.ForeignKey("faq_entries.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("tag", sa.String(50), nullable=False),
        sa.PrimaryKeyConstraint("faq_id", "tag"),
    )
    op.create_index("ix_faq_tags_tag", "faq_tags", ["tag"])
    op.create_table(
        "faq_changes",
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("faq_id", sa.BigInteger, nullable=False),
        sa.Column("op", sa.String(6), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("revision", "faq_id"),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "asks",
        sa.Column("ask_id", sa.String(64), primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("question_key", sa.Text, nullable=False),
        sa.Column("answered", sa.Boolean, nullable=False),
        sa.Column("faq_id", sa.BigInteger, nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("threshold", sa.Float, nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_asks_answered_asked_at", "asks", ["answered", "asked_at"])
    op.create_table(
        "feedback",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "ask_id", sa.String(64), sa.ForeignKey("asks.ask_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("correct", sa.Boolean, nullable=False),
        sa.Column("faq_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_feedback_ask_id", "feedback", ["ask_id"])


def downgrade() -> None:
    for table in ("feedback", "asks", "settings", "faq_changes", "faq_tags", "faq_entries",
                  "store_state"):
        op.drop_table(table)
