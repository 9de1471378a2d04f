"""Asks keep the service's threshold beside the one applied.

An ask declined only because the caller passed a stricter threshold is no gap in the FAQs;
the unanswered queue leaves it out. Rows logged before this revision get NULL and are
counted as before.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both backends, no batch mode: SQLite adds and (since 3.35) drops a
# column with no index or constraint in place, whereas a batch copy would DROP TABLE asks,
# and with foreign keys on that cascades to every feedback row.
def upgrade() -> None:
    op.add_column("asks", sa.Column("service_threshold", sa.Float, nullable=True))


def downgrade() -> None:
    op.drop_column("asks", "service_threshold")
