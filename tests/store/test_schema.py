"""Start-up schema check: create, upgrade or refuse; never silent drift."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from store.errors import SchemaVersionError
from store.faq_store import FaqStore
from store.migrate import alembic_config, current_revision, head_revision
from store.schema import metadata


def test_fresh_database_is_created_at_head(database_url: str) -> None:
    store = FaqStore(database_url)
    try:
        assert store.schema_revision == head_revision()
        assert current_revision(store._engine) == head_revision()
        assert store.revision() == 0 and store.versions().settings_version == 0
        assert len(store.store_id()) == 32
    finally:
        store.close()


def test_migrations_match_the_tables_the_code_queries(database_url: str) -> None:
    FaqStore(database_url).close()
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert diff == []


def test_newer_unknown_revision_is_refused(database_url: str) -> None:
    FaqStore(database_url).close()
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="newer"):
        FaqStore(database_url)


def test_older_schema_is_upgraded_or_refused_when_asked_to(database_url: str) -> None:
    FaqStore(database_url).close()
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="samesay db upgrade"):
        FaqStore(database_url, upgrade=False)
    store = FaqStore(database_url)  # default: upgrade in place
    try:
        assert current_revision(store._engine) == head_revision()
        assert store.count() == 0
    finally:
        store.close()


def test_unversioned_tables_are_refused(database_url: str) -> None:
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE faq_entries (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="no schema version"):
        FaqStore(database_url)


def test_concurrent_start_ups_migrate_once(database_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: FaqStore(database_url), range(4)))
    try:
        assert {s.store_id() for s in stores} == {stores[0].store_id()}
    finally:
        for store in stores:
            store.close()


def test_unreachable_databases_raise_store_unavailable(tmp_path) -> None:
    from store.errors import StoreUnavailable

    (tmp_path / "a_directory.db").mkdir()
    for url in (
        f"sqlite:///{tmp_path / 'a_directory.db'}",
        "postgresql+psycopg://postgres@127.0.0.1:1/nothing_listens_here",
    ):
        with pytest.raises(StoreUnavailable, match="database unavailable"):
            FaqStore(url)
