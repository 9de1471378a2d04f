"""Each migration upgrades a database holding rows, and downgrades it again, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, Table, func, inspect, select

from store.engine import SQLITE_BEGIN, create_store_engine
from store.faq_store import FaqStore
from store.migrate import alembic_config, current_revision, head_revision
from store.records import AskRecord

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _migrate(url: str, target: str, *, down: bool = False) -> None:
    """Move the schema to `target` as start-up does: the store's own engine (SQLite foreign
    keys on) and one immediate transaction."""
    engine = create_store_engine(url)
    try:
        with engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}).begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, target)
    finally:
        engine.dispose()


def _seed_at_0001(url: str) -> None:
    """Two declined asks and feedback on one, written to the tables as revision 0001 has them."""
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            tables = MetaData()
            asks = Table("asks", tables, autoload_with=connection)
            feedback = Table("feedback", tables, autoload_with=connection)
            connection.execute(
                asks.insert(), [_declined("old-gap", 0.3, 0.5), _declined("old-strict", 0.8, 0.9)]
            )
            feedback_row = {"ask_id": "old-strict", "correct": True, "faq_id": None}
            connection.execute(feedback.insert(), {**feedback_row, "created_at": T0})
    finally:
        engine.dispose()


def _declined(ask_id: str, score: float, threshold: float) -> dict[str, object]:
    question = f"{ask_id}?"
    return {
        "ask_id": ask_id,
        "question": question,
        "question_key": question,
        "answered": False,
        "faq_id": None,
        "score": score,
        "threshold": threshold,
        "asked_at": T0,
    }


def _asks_columns_and_counts(url: str) -> tuple[set[str], int, int]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("asks")}
            tables = MetaData()
            counts = [
                connection.execute(
                    select(func.count()).select_from(Table(name, tables, autoload_with=connection))
                ).scalar_one()
                for name in ("asks", "feedback")
            ]
    finally:
        engine.dispose()
    return columns, counts[0], counts[1]


def test_0002_adds_the_service_threshold_to_logged_asks_and_drops_it_again(
    database_url: str,
) -> None:
    _migrate(database_url, "0001")
    _seed_at_0001(database_url)

    store = FaqStore(database_url)  # start-up upgrades in place
    try:
        assert current_revision(store._engine) == head_revision()
        old = store.get_ask("old-strict")
        assert (old.score, old.threshold, old.service_threshold) == (0.8, 0.9, None)
        # Old rows do not say what the service's threshold was: counted, as before 0002.
        assert {q.ask_id for q in store.unanswered()} == {"old-gap", "old-strict"}
        store.record_asks([AskRecord("new", "New?", False, None, 0.8, 0.9, T0, 0.5)])
        assert store.get_ask("new").service_threshold == 0.5
        assert {q.ask_id for q in store.unanswered()} == {"old-gap", "old-strict"}
    finally:
        store.close()

    _migrate(database_url, "0001", down=True)
    columns, n_asks, n_feedback = _asks_columns_and_counts(database_url)
    assert "service_threshold" not in columns and "threshold" in columns
    # Nothing lost on the way down, feedback included (a SQLite table copy would have
    # cascaded the DROP TABLE asks to it).
    assert (n_asks, n_feedback) == (3, 1)

    _migrate(database_url, "head")
    store = FaqStore(database_url, upgrade=False)
    try:
        assert store.get_ask("new").service_threshold is None
        assert [f.ask_id for f in store.list_feedback()] == ["old-strict"]
    finally:
        store.close()
