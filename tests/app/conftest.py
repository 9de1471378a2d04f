"""Fixtures for the service: a real app (lifespan runs) over a real store and tiny model.

`client` runs once per backend (SQLite and PostgreSQL, via `database_url`); the FAQ set is
ten of the fixture paraphrase groups: the first three sentences of a group become the entry
(question + 2 alternates), the other three are held back as paraphrases to ask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.fixtures.model_fixtures import tiny_train_config

API_KEY = "test-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
# Measured on the tiny fixture model: held-back paraphrases of indexed groups score >= ~0.5,
# sentences of other groups <= ~0.35.
THRESHOLD = 0.45
FAQ_GROUPS = 10
UNRELATED_GROUPS = 10


def make_settings(data_dir: Path, database_url: str, model_path: Path, **overrides) -> Settings:
    values = dict(
        data_dir=data_dir,
        database_url=database_url,
        model_path=model_path,
        api_keys=[API_KEY],
        default_threshold=THRESHOLD,
        sync_interval_s=0.1,
        ask_log_flush_s=0.1,
        max_body_bytes=64_000,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, tiny_encoder_path: Path) -> Settings:
    return make_settings(tmp_path / "data", database_url, tiny_encoder_path)


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    """Open more clients (apps) on demand; all are closed (lifespan ends) after the test."""
    opened: list[TestClient] = []

    def open_client(settings: Settings, **app_kwargs) -> TestClient:
        app_kwargs.setdefault("train_config", tiny_train_config(epochs=3))
        client = TestClient(create_app(settings, **app_kwargs), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield open_client
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(settings: Settings, make_client) -> TestClient:
    return make_client(settings)


@pytest.fixture(scope="session")
def faq_groups(fixture_groups) -> dict[str, list[str]]:
    names = sorted(fixture_groups)[:FAQ_GROUPS]
    return {name: fixture_groups[name] for name in names}


@pytest.fixture(scope="session")
def unrelated_questions(fixture_groups, faq_groups) -> list[str]:
    others = [name for name in sorted(fixture_groups) if name not in faq_groups]
    return [fixture_groups[name][0] for name in others[:UNRELATED_GROUPS]]


def faq_body(name: str, sentences: list[str], tags: list[str] | None = None) -> dict:
    return {
        "question": sentences[0],
        "answer": f"The answer about {name}.",
        "alternates": sentences[1:3],
        "tags": tags or [],
    }


@pytest.fixture
def loaded(client: TestClient, faq_groups) -> dict[str, int]:
    """The FAQ groups added in one batch; returns group name -> FAQ id."""
    items = [faq_body(name, sentences) for name, sentences in faq_groups.items()]
    response = client.post("/faq", json={"items": items}, headers=AUTH)
    assert response.status_code == 201, response.text
    return dict(zip(faq_groups, response.json()["ids"], strict=True))
