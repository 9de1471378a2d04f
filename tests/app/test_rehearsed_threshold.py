"""Whether a rehearsal may replace the threshold in force (app.last_tuning): only one that
nobody chose; a tuning that is only looked at does not count as a choice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.last_tuning import (
    REHEARSAL_SOURCE,
    mark_rehearsed,
    rehearsal_may_set_threshold,
    save_last_tuning,
)
from store.faq_store import FaqStore
from training.threshold import tune_threshold


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FaqStore]:
    opened = FaqStore(f"sqlite:///{tmp_path / 'faq.db'}")
    yield opened
    opened.close()


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, _env_file=None, **values)  # type: ignore[arg-type]


def test_none_stored_and_none_configured_may_be_learned(store: FaqStore, tmp_path: Path) -> None:
    assert rehearsal_may_set_threshold(store, _settings(tmp_path))


def test_a_configured_default_is_a_choice(store: FaqStore, tmp_path: Path) -> None:
    assert not rehearsal_may_set_threshold(store, _settings(tmp_path, default_threshold=0.75))


def test_the_rehearsals_own_threshold_may_be_relearned_until_someone_sets_another(
    store: FaqStore, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    store.set_threshold(0.41)
    mark_rehearsed(store, 0.41)
    assert rehearsal_may_set_threshold(store, settings)

    # A tuning only looked at (apply=false) is kept as the last tuning, the threshold stays.
    looked_at = tune_threshold([0.9, 0.2], [1, 1], [1, None])
    save_last_tuning(store, looked_at, looked_at.threshold, "labelled questions")
    assert rehearsal_may_set_threshold(store, settings)

    store.set_threshold(0.55)  # PUT /admin/threshold, or a tuning applied
    assert not rehearsal_may_set_threshold(store, settings)
    save_last_tuning(store, looked_at, 0.55, REHEARSAL_SOURCE)  # a record alone: no marker
    assert not rehearsal_may_set_threshold(store, settings)


def test_a_stored_threshold_no_rehearsal_marked_is_a_choice(
    store: FaqStore, tmp_path: Path
) -> None:
    store.set_threshold(0.41)
    assert not rehearsal_may_set_threshold(store, _settings(tmp_path))
