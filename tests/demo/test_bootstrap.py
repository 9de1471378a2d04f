"""First start end-to-end: demo import, a really trained model, a tuned threshold; idempotent."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.bootstrap import (
    CURVE_FILE,
    REHEARSAL_SOURCE,
    TUNING_FILE,
    BootstrapConfig,
    BootstrapError,
    ensure_ready,
    settings_bootstrap_config,
)
from app.config import Settings
from app.demo import load_faqs, load_unanswerable
from app.demo_labels import demo_tuning_examples
from app.last_tuning import load_last_tuning, threshold_may_be_relearned
from app.train_child import ChildJob
from model.checkpoint import load_encoder
from model.lexical import sparse_dot
from store.entries import FaqDraft
from store.faq_store import FaqStore
from training.augment import AugmentConfig
from training.recipes import FaqRecipe, scratch_train_config
from training.rehearsal import rehearsal_splits
from training.threshold import best_matches

# The from-scratch recipe with fewer, smaller, faster passes: a first start takes ~7 s of one
# core (tests/demo/test_base_start.py covers the fine-tune from the shipped base).
REDUCED = BootstrapConfig(
    recipe=FaqRecipe(
        train=replace(
            scratch_train_config(),
            encoder=replace(scratch_train_config().encoder, embedding_dim=48, hidden_size=48),
            epochs=4,
            min_steps=0,  # exactly 4 epochs (the trainer adds epochs for small data)
            learning_rate=0.01,
            device="cpu",
            num_threads=1,
        ),
        augment=AugmentConfig(copies=1),
    ),
    # The rehearsal in this process, before the training, where tests replace parts of it;
    # the tests of "beside" below run it in its own process.
    rehearse_beside=False,
)
BESIDE = replace(REDUCED, rehearse_beside=True)
N_DEMO = len(load_faqs("en")) + len(load_faqs("zh"))


def _settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, _env_file=None)


def test_first_start_prepares_everything_and_the_second_start_does_nothing(
    tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path, database_url)
    messages: list[str] = []
    report = ensure_ready(settings, REDUCED, progress=False, echo=messages.append)

    assert report.imported_faqs == N_DEMO
    assert report.trained and report.threshold_tuned
    store = FaqStore(database_url)
    try:
        entries = list(store.iter_entries())
        assert len(entries) == N_DEMO
        stored = {p for e in entries for p in e.phrasings}
        heldout = {
            FaqDraft(h, "a").question
            for lang in ("en", "zh")
            for f in load_faqs(lang)
            for h in f.heldout
        }
        assert stored.isdisjoint(heldout)  # held-out phrasings never reach the store
        assert {"account", "订单"} <= {t for e in entries for t in e.tags}

        encoder = load_encoder(settings.resolved_model_path)
        vector = encoder.encode_one("where is my parcel")
        assert vector.shape == (encoder.dim,)
        assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-4)

        assert store.get_threshold() == pytest.approx(report.threshold)
        # The service's own threshold, not a person's: a retrain tunes it again.
        assert threshold_may_be_relearned(store, settings)
        assert (settings.data_dir / CURVE_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (settings.data_dir / TUNING_FILE).is_file()
        assert set(report.tuning_metrics) == {"all", "en", "zh"}
        # The trained model beats "answer nothing" (which gets exactly the unanswerable share).
        n_unanswerable = len(load_unanswerable("en")) + len(load_unanswerable("zh"))
        n_examples = n_unanswerable + sum(
            len(f.heldout) for lang in ("en", "zh") for f in load_faqs(lang)
        )
        assert report.tuning_metrics["all"]["accuracy"] > n_unanswerable / n_examples
        assert any("imported" in m for m in messages)
        assert any("threshold tuned" in m for m in messages)

        revision, versions = store.revision(), store.versions()
        model_hash = encoder.content_hash
    finally:
        store.close()

    again = ensure_ready(settings, REDUCED, progress=False, echo=messages.append)
    assert not again.did_work
    assert again.messages == []
    store = FaqStore(database_url)
    try:
        assert store.revision() == revision
        assert store.versions() == versions  # no setting was rewritten either
    finally:
        store.close()
    assert load_encoder(settings.resolved_model_path).content_hash == model_hash


def test_own_faqs_are_trained_on_but_never_mixed_with_the_demo(tmp_path: Path) -> None:
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'own.db'}")
    settings.data_dir.mkdir()
    store = FaqStore(settings.resolved_database_url)
    try:
        store.add(
            [
                FaqDraft("When do you open?", "9 to 5.", ("opening hours", "are you open now")),
                FaqDraft("Where are you?", "Main Street 1.", ("address", "location")),
            ]
        )
    finally:
        store.close()
    messages: list[str] = []
    report = ensure_ready(settings, REDUCED, progress=False, echo=messages.append)

    assert report.imported_faqs == 0
    assert report.trained and not report.threshold_tuned
    store = FaqStore(settings.resolved_database_url)
    try:
        assert store.count() == 2
        assert store.get_threshold() is None  # the app's default applies until tuned
    finally:
        store.close()
    assert any("threshold left at the default" in m for m in messages)


def test_a_given_model_and_an_empty_store_are_left_alone(
    tmp_path: Path, tiny_encoder_path: Path
) -> None:
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    shutil.copytree(tiny_encoder_path, settings.resolved_model_path)
    report = ensure_ready(settings, REDUCED, progress=False, echo=lambda _: None)
    assert report.imported_faqs == 0 and not report.trained and not report.threshold_tuned


def test_one_entry_and_no_model_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.bootstrap.shipped_base_path", lambda: None)  # a build without it
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'one.db'}")
    settings.data_dir.mkdir()
    store = FaqStore(settings.resolved_database_url)
    store.add([FaqDraft("Only question?", "Only answer.")])
    store.close()
    with pytest.raises(BootstrapError, match="at least 2"):
        ensure_ready(settings, REDUCED, progress=False, echo=lambda _: None)


def test_a_crash_while_training_leaves_no_half_model_and_the_next_start_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'crash.db'}")

    def crash(groups, out_dir: Path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        out_dir.mkdir(parents=True)
        (out_dir / "weights.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt  # what Ctrl-C during the progress bar raises

    monkeypatch.setattr("app.bootstrap.train_encoder", crash)
    with pytest.raises(KeyboardInterrupt):
        ensure_ready(settings, REDUCED, progress=False, echo=lambda _: None)
    assert not settings.resolved_model_path.exists()
    assert list(settings.data_dir.glob(".model.training-*")) == []
    monkeypatch.undo()

    report = ensure_ready(settings, REDUCED, progress=False, echo=lambda _: None)
    assert report.imported_faqs == 0  # imported by the first attempt, not twice
    assert report.trained and report.threshold_tuned
    store = FaqStore(settings.resolved_database_url)
    try:
        assert store.count() == N_DEMO
    finally:
        store.close()


def test_tuning_examples_point_at_the_right_stored_faq(tmp_path: Path) -> None:
    store = FaqStore(f"sqlite:///{tmp_path / 'labels.db'}")
    try:
        from app.bootstrap import demo_drafts

        entries = store.add(demo_drafts(("en",)))
        examples = demo_tuning_examples(entries)
    finally:
        store.close()
    faqs = load_faqs("en")
    by_text = {question: faq_id for question, faq_id, _ in examples}
    for faq, entry in zip(faqs, entries, strict=True):
        assert all(by_text[h] == entry.id for h in faq.heldout)
    assert sum(faq_id is None for _, faq_id, _ in examples) == len(load_unanswerable("en"))
    assert {language for _, _, language in examples} == {"en"}  # zh was not imported


def test_best_matches_returns_the_best_phrasing_per_question(tiny_encoder_path: Path) -> None:
    from datetime import UTC, datetime

    from store.entries import FaqEntry

    encoder = load_encoder(tiny_encoder_path)
    now = datetime.now(UTC)
    entries = [
        FaqEntry(7, "how do I reset my password", "a", ("forgot password",), (), now, now),
        FaqEntry(9, "what time do you open", "b", ("opening hours",), (), now, now),
    ]
    questions = ["forgot password", "opening hours", "something else"]
    scores, ids = best_matches(encoder, entries, questions)
    # Independent reference: the fused score (cosine and TF-IDF cosine, weighted by the
    # question's script) of each question with each phrasing, max per question.
    phrasings = [
        "how do I reset my password",
        "forgot password",
        "what time do you open",
        "opening hours",
    ]
    owners = [7, 7, 9, 9]
    cosines = encoder.encode(questions) @ encoder.encode(phrasings).T
    lexical = encoder.lexical
    assert lexical is not None
    tfidf = np.array(
        [[sparse_dot(lexical.vector(q), lexical.vector(p)) for p in phrasings] for q in questions]
    )
    weights = np.array([lexical.weight(q) for q in questions])[:, None]
    fused = (1 - weights) * cosines + weights * tfidf
    assert ids.tolist()[:2] == [7, 9]
    for row in range(3):
        assert scores[row] == pytest.approx(float(fused[row].max()), abs=1e-5)
        assert ids[row] == owners[int(fused[row].argmax())]


def _store_own_demo_like_faqs(settings: Settings, count: int = 12) -> None:
    """Part of the English demo as a user's own FAQs: not every demo FAQ is there, so the
    store has no demo labels and the threshold must come from a rehearsal."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = FaqStore(settings.resolved_database_url)
    try:
        store.add([FaqDraft(f.question, f.answer, f.alternates) for f in load_faqs("en")[:count]])
    finally:
        store.close()


def test_own_faqs_learn_their_threshold_from_a_rehearsal(tmp_path: Path) -> None:
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'rehearse.db'}")
    _store_own_demo_like_faqs(settings)
    messages: list[str] = []
    report = ensure_ready(settings, REDUCED, progress=False, echo=messages.append)

    assert report.imported_faqs == 0 and report.trained
    assert report.threshold_tuned and report.threshold_source == REHEARSAL_SOURCE
    assert any("learned from 2 rehearsals, each trained on 10 of your FAQs" in m for m in messages)
    tuning = json.loads((settings.data_dir / TUNING_FILE).read_text(encoding="utf-8"))
    assert tuning["source"] == REHEARSAL_SOURCE
    store = FaqStore(settings.resolved_database_url)
    try:
        # Kept FAQs are asked about half their phrasings; the 2 put aside, all of theirs.
        splits = rehearsal_splits([entry.phrasings for entry in store.iter_entries()])
        assert [split.aside_faqs for split in splits] == [2, 2]
        answerable = sum(split.answerable for split in splits)
        no_answer = sum(split.no_answer for split in splits)
        assert (tuning["in_scope"], tuning["out_of_scope"]) == (answerable, no_answer)
        assert answerable > 120 and no_answer > 50
        assert store.get_threshold() == pytest.approx(report.threshold)
        last = load_last_tuning(store, settings.data_dir)
        assert last is not None and last["source"] == REHEARSAL_SOURCE
        assert last["threshold"] == pytest.approx(report.threshold)
    finally:
        store.close()

    again = ensure_ready(settings, REDUCED, progress=False, echo=messages.append)
    assert not again.did_work


def test_a_rehearsed_threshold_below_the_bases_prior_is_stored_at_the_prior(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reduced recipe starts from no base with a prior: the lookup alone is replaced.
    monkeypatch.setattr("training.rehearsal.threshold_floor", lambda init_from: 0.97)
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'floor.db'}")
    _store_own_demo_like_faqs(settings)
    messages: list[str] = []
    report = ensure_ready(settings, REDUCED, progress=False, echo=messages.append)

    assert report.threshold_tuned and report.threshold == pytest.approx(0.97)
    (said,) = [m for m in messages if "learned from 2 rehearsals" in m]
    assert ": 0.970 (the rehearsal alone chose 0." in said and "base model's prior" in said
    tuning = json.loads((settings.data_dir / TUNING_FILE).read_text(encoding="utf-8"))
    assert tuning["threshold"] == pytest.approx(0.97)
    store = FaqStore(settings.resolved_database_url)
    try:
        assert store.get_threshold() == pytest.approx(0.97)
        assert threshold_may_be_relearned(store, settings)  # still the service's own
    finally:
        store.close()


# Before the training, a rehearsal is stored before anything can crash; beside it, a
# training that fails waits for the rehearsal and stores it (an interrupted one does not).
@pytest.mark.parametrize(
    ("config", "crash"),
    [(REDUCED, KeyboardInterrupt()), (BESIDE, RuntimeError("out of memory"))],
    ids=["before", "beside"],
)
def test_a_crash_while_training_keeps_the_rehearsed_threshold_for_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: BootstrapConfig, crash: BaseException
) -> None:
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'rehearse-crash.db'}")
    _store_own_demo_like_faqs(settings)

    def crashing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise crash

    monkeypatch.setattr("app.bootstrap.train_encoder", crashing)  # the real model only
    with pytest.raises(type(crash)):
        ensure_ready(settings, config, progress=False, echo=lambda _: None)
    monkeypatch.undo()
    store = FaqStore(settings.resolved_database_url)
    try:
        learned = store.get_threshold()
    finally:
        store.close()
    assert learned is not None

    messages: list[str] = []
    report = ensure_ready(settings, config, progress=False, echo=messages.append)
    assert report.trained and not report.threshold_tuned  # not rehearsed twice
    assert not any("rehearsal" in m for m in messages)


def test_the_rehearsal_beside_the_training_learns_the_threshold_one_before_it_does(
    tmp_path: Path,
) -> None:
    """Same FAQs, same seeds: a rehearsal in its own process is the same rehearsal."""
    learned = {}
    for name, config in (("before", REDUCED), ("beside", BESIDE)):
        settings = _settings(tmp_path / name, f"sqlite:///{tmp_path / name}.db")
        _store_own_demo_like_faqs(settings)
        messages: list[str] = []
        report = ensure_ready(settings, config, progress=False, echo=messages.append)
        assert report.trained and report.threshold_source == REHEARSAL_SOURCE
        assert report.rehearsal_seconds is not None and report.rehearsal_seconds > 0
        beside = [m for m in messages if "in a second process, beside the training" in m]
        assert len(beside) == (name == "beside")
        tuning = json.loads((settings.data_dir / TUNING_FILE).read_text(encoding="utf-8"))
        learned[name] = (report.threshold, tuning["in_scope"], tuning["out_of_scope"])
        assert not ensure_ready(settings, config, progress=False, echo=messages.append).did_work
    assert learned["beside"] == learned["before"]


def _rehearsal_child_dies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rehearsal's child exits at once without a word, as one killed for its memory
    would."""
    monkeypatch.setattr(
        "app.bootstrap.start_rehearsal",
        lambda job: ChildJob(print, ("rehearsal stand-in",), "samesay-rehearsal"),
    )


def test_a_rehearsal_child_that_dies_is_rehearsed_here_after_the_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rehearsal_child_dies(monkeypatch)
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'died.db'}")
    _store_own_demo_like_faqs(settings)
    messages: list[str] = []
    report = ensure_ready(settings, BESIDE, progress=False, echo=messages.append)

    assert report.trained and report.threshold_source == REHEARSAL_SOURCE
    (failed,) = [m for m in messages if "the rehearsal beside the training failed" in m]
    assert "exited (code 0) before finishing" in failed
    assert sum("learned from 2 rehearsals" in m for m in messages) == 1
    reference = _settings(tmp_path / "reference", f"sqlite:///{tmp_path / 'reference.db'}")
    _store_own_demo_like_faqs(reference)
    assert report.threshold == ensure_ready(reference, REDUCED, progress=False).threshold


def test_a_training_that_fails_beside_a_dead_rehearsal_child_fails_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No rehearsal in this process after a failed training: it would likely fail alike."""
    _rehearsal_child_dies(monkeypatch)

    def crash(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("out of memory")

    monkeypatch.setattr("app.bootstrap.train_encoder", crash)
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'both-fail.db'}")
    _store_own_demo_like_faqs(settings)
    messages: list[str] = []
    with pytest.raises(RuntimeError, match="out of memory"):
        ensure_ready(settings, BESIDE, progress=False, echo=messages.append)
    assert not any("rehearsing here" in m or "learned from" in m for m in messages)
    store = FaqStore(settings.resolved_database_url)
    try:
        assert store.get_threshold() is None
    finally:
        store.close()


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("false", False), ("true", True)])
def test_the_operators_settings_reach_the_first_start(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool | None
) -> None:
    monkeypatch.setenv("SAMESAY_KEEP_BASE_MAX_PHRASINGS", "0")
    monkeypatch.setenv("SAMESAY_FAQ_MEMBERS", "3")
    if value is not None:
        monkeypatch.setenv("SAMESAY_REHEARSE_BESIDE", value)
    config = settings_bootstrap_config(Settings(_env_file=None))
    assert config.rehearse_beside is expected
    assert (config.recipe.keep_base_max_phrasings, config.recipe.members) == (0, 3)
