"""Background retraining: store entries → train → load → swap the searcher's encoder.

One run at a time across the workers sharing the store, which records the latest run and
its progress for all of them (app.retrain_record). The old encoder and index keep serving
until the searcher swaps in the new ones; the new model is then recorded as the store's
active model so other workers load it too (see app.model_files). Training runs in a
spawned child process (app.train_child) with Settings.torch_threads threads: the worker
never imports torch and keeps the GIL for /ask; it still shares the CPU with the child
while it runs.

A new model scores on its own scale, so a threshold nobody chose (none stored, or the one
the service learned itself: app.last_tuning) is learned again for it and applied with the
swap: on the demo's held-out questions while the store holds the demo (as at the first
start), else by a rehearsal on the store's own FAQs in the child (training.rehearsal). A
tuned or hand-set threshold is kept (retune it yourself).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from app.config import Settings
from app.demo_labels import demo_tuning_examples
from app.last_tuning import (
    DEMO_SOURCE,
    REHEARSAL_SOURCE,
    floor_note,
    mark_learned,
    save_last_tuning,
    threshold_may_be_relearned,
)
from app.model_files import checkpoint_dir, model_version, models_dir, prune_checkpoints
from app.retrain_record import HEARTBEAT_S, RetrainState, claim, latest, publish
from app.train_child import CANCELLED, TrainingCancelled, TrainingFailed, train_in_child
from index.searcher import FaqSearcher
from model.numpy_encoder import load_numpy_encoder
from store.faq_store import FaqStore
from training.threshold import ThresholdChoice, storable, tune_threshold

if TYPE_CHECKING:
    from training.trainer import TrainConfig

logger = logging.getLogger("samesay.retrain")

# How long a stopping service waits for a run to end: a training child is killed within a
# poll (app.train_child), re-indexing is not cut short.
_STOP_WAIT_S = 10.0
# Shares of the progress bar: training dominates; re-embedding the index is the rest.
_TRAIN_SHARE = 0.8


class RetrainConflict(Exception):
    """A retrain cannot start now (one is running, or the store is too small); says why."""


class Retrainer:
    def __init__(
        self,
        settings: Settings,
        store: FaqStore,
        searcher: FaqSearcher,
        train_config: TrainConfig | None,
        on_new_model: Callable[[str], None],
        on_new_threshold: Callable[[float], None],
    ) -> None:
        self._settings = settings
        self._store = store
        self._searcher = searcher
        self._train_config = train_config
        self._on_new_model = on_new_model
        self._on_new_threshold = on_new_threshold
        self._lock = threading.Lock()
        self._state = RetrainState()
        self._thread: threading.Thread | None = None
        self._finished = threading.Event()
        self._cancel = threading.Event()
        self._publishing = threading.Lock()

    @property
    def status(self) -> RetrainState:
        """The latest retrain on the store, whichever worker ran it; this worker's own run
        from memory, which is fresher than its last heartbeat."""
        local = self._state
        if local.state == "running":
            return local
        shared = latest(self._store)
        if shared is None or shared.run_id == local.run_id:
            return local
        return shared

    @property
    def running(self) -> bool:
        """Whether this worker runs a retrain (another worker's run is not counted)."""
        return self._state.state == "running"

    def start(self) -> RetrainState:
        """Start a run in the background; RetrainConflict if one runs or there is too little
        data."""
        with self._lock:
            if self.running:
                raise RetrainConflict(
                    "a retrain is already running; see GET /admin/retrain for its progress"
                )
            entries = self._store.count()
            if entries < 2:
                raise RetrainConflict(
                    f"retraining needs at least 2 FAQ entries (each is one group of "
                    f"paraphrases), the store has {entries}"
                )
            state = RetrainState(
                "running", 0.0, "starting", started_at=datetime.now(UTC), run_id=uuid.uuid4().hex
            )
            other = claim(self._store, state)
            if other is not None:
                raise RetrainConflict(
                    "a retrain is already running in another worker (started "
                    f"{_when(other.started_at)}); see GET /admin/retrain for its progress"
                )
            self._state = state
            self._finished.clear()
            self._cancel.clear()
            self._thread = threading.Thread(target=self._run, name="samesay-retrain", daemon=True)
            self._thread.start()
            beat = threading.Thread(target=self._beat, name="samesay-retrain-beat", daemon=True)
            beat.start()
            return self._state

    def stop(self) -> None:
        """The service is stopping: end a run still going (its training child is killed, not
        left to outlive the worker) and record it as interrupted, rather than leave the other
        workers to wait for its heartbeat to go stale."""
        if self._state.state != "running":
            return
        self._cancel.set()
        self.join(_STOP_WAIT_S)  # training notices within one poll of its child
        if self._state.state == "running":  # re-indexing, which cannot be cut short
            self._settle(replace(self._state, **_interrupted()))

    def _beat(self) -> None:
        # Until the run ends: its progress for the other workers, and proof it is alive.
        while not self._finished.wait(HEARTBEAT_S):
            self._publish()

    def _publish(self) -> None:
        # One at a time, the state read under the lock: a beat that read "running" must not
        # write it after the run's last word ("succeeded") and make it look alive again.
        with self._publishing:
            self._record(self._state)

    def _record(self, state: RetrainState) -> None:
        try:
            publish(self._store, state)
        except Exception:  # the store is down: the run goes on; the next beat tries again
            logger.warning("could not record the retrain's progress in the store", exc_info=True)

    def _settle(self, final: RetrainState) -> None:
        """The run's last word: in the store first, then in this worker's memory (which its
        status reads), so no worker says the run ended while the others still read it as
        running (CI caught one that did)."""
        with self._publishing:
            self._record(final)
            self._state = final
        self._finished.set()

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _progress(self, fraction: float, message: str) -> None:
        # Never backwards within a run: the child's first reports (after its start-up) can
        # be below the share already shown.
        fraction = min(max(fraction, self._state.progress, 0.0), 1.0)
        self._state = replace(self._state, progress=round(fraction, 4), message=message)

    def _run(self) -> None:
        scratch = models_dir(self._settings) / f".training-{uuid.uuid4().hex}"
        ended: dict[str, object] = {}  # how the run ended, made known by _settle
        try:
            entries = list(self._store.iter_entries())
            groups = [list(entry.phrasings) for entry in entries]
            self._progress(0.01, f"training on {len(groups)} FAQ entries")
            # Labelled questions beat a rehearsal: with the demo in the store, its held-out
            # questions tune the new model's threshold after the swap instead.
            rehearse = threshold_may_be_relearned(self._store, self._settings) and not (
                demo_tuning_examples(entries)
            )
            result = train_in_child(
                groups,
                scratch,
                self._train_config,  # None: the first-start recipe, chosen in the child
                self._settings.torch_threads,
                on_progress=lambda f, m: self._progress(_TRAIN_SHARE * f, f"training: {m}"),
                keep_base_max_phrasings=self._settings.keep_base_max_phrasings,
                members=self._settings.faq_members,
                rehearse=rehearse,
                cancel=self._cancel,
            )
            trained = result.checkpoint
            encoder = load_numpy_encoder(trained)  # served as at start: no torch network
            final = checkpoint_dir(self._settings, encoder.content_hash)
            if not final.exists():
                os.replace(trained, final)  # same directory tree: an atomic rename
            self._progress(_TRAIN_SHARE, "re-embedding the FAQ entries with the new model")
            swap = self._searcher.swap_encoder(
                encoder,
                on_progress=lambda f, m: self._progress(
                    _TRAIN_SHARE + (1 - _TRAIN_SHARE) * 0.99 * f, f"re-indexing: {m}"
                ),
            )
            swap.result()
            learned = ""
            # Asked again: someone may have tuned or set a threshold while this ran.
            if threshold_may_be_relearned(self._store, self._settings):
                learned = self._relearn_threshold(result.rehearsal, result.raised_from)
            replaced = self._store.get_active_model()
            self._store.set_active_model(encoder.content_hash)
            # The one it replaced stays: a worker that has not yet switched may restart.
            prune_checkpoints(self._settings, {encoder.content_hash, replaced or ""})
            version = model_version(encoder)
            self._on_new_model(version)
            ended = dict(
                state="succeeded",
                progress=1.0,
                message=f"serving the new model {version}{learned}",
                finished_at=datetime.now(UTC),
                new_model_version=version,
            )
            logger.info("retrain finished: serving model %s", version)
        except Exception as error:
            if isinstance(error, TrainingCancelled):
                logger.info("retrain interrupted: the service is stopping")
                ended = _interrupted()
                return
            logger.exception("retrain failed; the previous model keeps serving")
            ended = dict(
                state="failed",
                message="retrain failed; the previous model keeps serving",
                finished_at=datetime.now(UTC),
                # The child's own `Type: message` when training failed there.
                error=str(error)
                if isinstance(error, TrainingFailed)
                else f"{type(error).__name__}: {error}",
            )
        finally:
            self._settle(replace(self._state, **ended))  # type: ignore[arg-type]
            shutil.rmtree(scratch, ignore_errors=True)

    def _relearn_threshold(
        self, rehearsal: ThresholdChoice | None, raised_from: float | None
    ) -> str:
        """Apply the threshold learned for the model just swapped in; what the status message
        says. The demo's questions are asked through the searcher, as /ask would be."""
        examples = demo_tuning_examples(list(self._store.iter_entries()))
        if examples:
            scores, predicted = self._searcher.best_matches([q for q, _, _ in examples])
            choice = tune_threshold(scores, predicted, [faq_id for _, faq_id, _ in examples])
            source, how = DEMO_SOURCE, "tuned for it on the demo's held-out questions"
        elif rehearsal is not None:
            choice, source = rehearsal, REHEARSAL_SOURCE
            how = f"learned for it by a rehearsal{floor_note(raised_from)}"
        else:
            return ""  # the rehearsal found too few questions: the threshold stays
        threshold = storable(choice.threshold)
        self._on_new_threshold(threshold)
        mark_learned(self._store, threshold)
        save_last_tuning(self._store, choice, threshold, source)
        logger.info("retrain: threshold %.4f %s", threshold, how)
        return f"; threshold {threshold:.3f} {how}"


def _interrupted() -> dict[str, object]:
    return {
        "state": "failed",
        "message": "retrain interrupted: the service stopped while it ran; "
        "the previous model keeps serving",
        "finished_at": datetime.now(UTC),
        "error": CANCELLED,
    }


def _when(moment: datetime | None) -> str:
    return "at an unknown time" if moment is None else moment.isoformat(timespec="seconds")
