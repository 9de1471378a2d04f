"""Whether a retrain may replace the threshold in force (app.last_tuning): only one that
nobody chose, i.e. none, or the one the service learned itself (the first start's demo
tuning or a rehearsal); a tuning that is only looked at does not count as a choice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.last_tuning import (
    FIRST_START_FILE,
    REHEARSAL_SOURCE,
    mark_learned,
    save_last_tuning,
    threshold_may_be_relearned,
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
    assert threshold_may_be_relearned(store, _settings(tmp_path))


def test_a_configured_default_is_a_choice(store: FaqStore, tmp_path: Path) -> None:
    assert not threshold_may_be_relearned(store, _settings(tmp_path, default_threshold=0.75))


def test_the_services_own_threshold_may_be_relearned_until_someone_sets_another(
    store: FaqStore, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    store.set_threshold(0.41)
    mark_learned(store, 0.41)
    assert threshold_may_be_relearned(store, settings)

    # A tuning only looked at (apply=false) is kept as the last tuning, the threshold stays.
    looked_at = tune_threshold([0.9, 0.2], [1, 1], [1, None])
    save_last_tuning(store, looked_at, looked_at.threshold, "labelled questions")
    assert threshold_may_be_relearned(store, settings)

    store.set_threshold(0.55)  # PUT /admin/threshold, or a tuning applied
    assert not threshold_may_be_relearned(store, settings)
    save_last_tuning(store, looked_at, 0.55, REHEARSAL_SOURCE)  # a record alone: no marker
    assert not threshold_may_be_relearned(store, settings)


def test_a_stored_threshold_not_marked_learned_is_a_choice(store: FaqStore, tmp_path: Path) -> None:
    store.set_threshold(0.41)
    assert not threshold_may_be_relearned(store, _settings(tmp_path))


def test_the_marker_of_the_version_that_only_rehearsed_still_counts(
    store: FaqStore, tmp_path: Path
) -> None:
    store.set_threshold(0.41)
    store.set_setting("rehearsed_threshold", 0.41)
    assert threshold_may_be_relearned(store, _settings(tmp_path))


def test_a_data_directory_started_before_the_marker_is_known_by_its_first_start_file(
    store: FaqStore, tmp_path: Path
) -> None:
    """Its first start tuned on the demo and wrote threshold_tuning.json, but marked nothing."""
    store.set_threshold(0.436)
    (tmp_path / FIRST_START_FILE).write_text('{"threshold": 0.436}', encoding="utf-8")
    assert threshold_may_be_relearned(store, _settings(tmp_path))
    store.set_threshold(0.5)  # changed since: a choice
    assert not threshold_may_be_relearned(store, _settings(tmp_path))
    (tmp_path / FIRST_START_FILE).write_text("not json", encoding="utf-8")
    store.set_threshold(0.436)
    assert not threshold_may_be_relearned(store, _settings(tmp_path))
