"""The running service: components loaded once at start, and the thread that follows the store.

`Service.open()` loads store, encoder and searcher; `start()`/`stop()` run the background
work (ask-log flusher, index poller, settings follower). Routes reach it via `app.api.deps`.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from app.ask_log import AskLogBuffer
from app.config import Settings
from app.gc_pause import freeze_long_lived
from app.metrics import ServiceMetrics
from app.model_files import (
    load_active_encoder,
    load_serving_encoder,
    model_version,
    models_dir,
)
from app.retrain import Retrainer
from app.security import ApiKeyChecker
from index.searcher import Encoder, FaqSearcher, SearcherConfig
from index.sync import IndexPoller
from model.extensions import missing_extensions
from store.failure_log import FailureLog
from store.faq_store import FaqStore

if TYPE_CHECKING:  # training imports torch, which serving never needs (app.retrain)
    from training.trainer import TrainConfig

logger = logging.getLogger("samesay.app")


def ask_retention(settings: Settings) -> timedelta | None:
    """How long logged asks are kept; None (setting 0) keeps them forever."""
    days = settings.ask_retention_days
    return timedelta(days=days) if days else None


@dataclass
class ThresholdState:
    value: float
    source: str  # "store" or "default"


@dataclass
class Service:
    settings: Settings
    store: FaqStore
    searcher: FaqSearcher
    metrics: ServiceMetrics
    ask_log: AskLogBuffer
    keys: ApiKeyChecker
    threshold: ThresholdState
    model_version: str
    poller: IndexPoller
    retrainer: Retrainer = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event)
    _follower: threading.Thread | None = None
    _settings_version: int = -1
    # The store's active model (content hash) when this worker cannot load it: its checkpoint
    # is not in this worker's data directory (a replica that does not share it). The worker
    # then serves another model beside a threshold the store keeps for the active one.
    missing_model: str | None = None

    @classmethod
    def open(
        cls,
        settings: Settings,
        metrics: ServiceMetrics,
        encoder: Encoder | None = None,
        train_config: TrainConfig | None = None,
    ) -> Service:
        limit_torch_threads(settings)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = FaqStore(settings.resolved_database_url)
        try:
            if encoder is None:
                encoder = load_serving_encoder(settings, store)
            searcher = FaqSearcher(
                store, encoder, settings.index_dir, SearcherConfig.from_settings(settings)
            )
            searcher.start()
        except BaseException:
            store.close()
            raise
        service = cls(
            settings=settings,
            store=store,
            searcher=searcher,
            metrics=metrics,
            ask_log=AskLogBuffer(
                store,
                settings.ask_log_flush_s,
                settings.ask_log_buffer,
                on_drop=metrics.ask_log_dropped.inc,
                retention=ask_retention(settings),
            ),
            keys=ApiKeyChecker(settings.api_keys),
            threshold=ThresholdState(settings.default_threshold, "default"),
            model_version=model_version(encoder),
            poller=IndexPoller.from_settings(searcher, settings),
        )
        service.retrainer = Retrainer(
            settings,
            store,
            searcher,
            train_config,
            on_new_model=service.adopt_model_version,
            on_new_threshold=service.set_threshold,
        )
        service.refresh_settings()
        metrics.set_model_version(service.model_version)
        missing = missing_extensions()
        if missing:
            logger.warning(
                "C extensions not built (no C compiler at install): %s; /ask runs their code "
                "in NumPy, ~0.1-0.2 ms slower a question each; reinstall with gcc to build them",
                ", ".join(missing),
            )
        metrics.track_index(lambda: searcher.count, lambda: searcher.revision)
        return service

    # ---- background work ------------------------------------------------------------------

    def start(self) -> None:
        self.ask_log.start()
        self.poller.start()
        self._stop.clear()
        self._follower = threading.Thread(
            target=self._follow, name="samesay-store-follower", daemon=True
        )
        self._follower.start()

    def stop(self) -> None:
        self._stop.set()
        self.retrainer.stop()
        if self._follower is not None:
            self._follower.join(timeout=10)
        self.poller.stop()  # also saves the index when it has unsaved changes
        self.ask_log.stop()
        self.store.close()

    def _follow(self) -> None:
        """Follow settings other workers change: the threshold and the active model.

        (FAQ writes are followed by the index poller.) One cheap query per tick.
        """
        failures = FailureLog(logger, "following the store's settings")
        while not self._stop.wait(self.settings.sync_interval_s):
            try:
                versions = self.store.versions()
                if versions.settings_version != self._settings_version:
                    self.refresh_settings(versions.settings_version)
                failures.succeeded()
            except Exception as error:
                failures.failed(error, "retrying")

    def refresh_settings(self, settings_version: int | None = None) -> None:
        """Re-read the threshold and the active model (another worker may have changed them)."""
        if settings_version is None:
            settings_version = self.store.versions().settings_version
        stored = self.store.get_threshold()
        if stored is not None and math.isfinite(stored):
            self.threshold = ThresholdState(stored, "store")
        else:
            self.threshold = ThresholdState(self.settings.default_threshold, "default")
        active = self.store.get_active_model()
        if not active or active == self.searcher.encoder.content_hash:
            self.missing_model = None
        elif self._settings_version == -1:
            # At start the serving model was chosen already: the active one, were it here.
            self.missing_model = active
        elif not self.retrainer.running:
            self.missing_model = None if self._follow_model(active) else active
        self._settings_version = settings_version

    def _follow_model(self, content_hash: str) -> bool:
        """Swap to the model another worker activated; False when it is not here."""
        encoder = load_active_encoder(self.settings, content_hash)
        if encoder is None:
            return False
        logger.info("another worker activated model %s; swapping to it", content_hash[:12])
        self.searcher.swap_encoder(encoder).result()
        self.adopt_model_version(model_version(encoder))
        return True

    def model_error(self) -> str | None:
        """Why this worker's model is not the store's active one, when it cannot follow."""
        if self.missing_model is None:
            return None
        return (
            f"serving model {self.model_version}, not the store's active model "
            f"{self.missing_model[:12]}: its checkpoint is not in {models_dir(self.settings)} "
            "(replicas must share the data directory's models), and the store's threshold "
            "was set for it"
        )

    def adopt_model_version(self, version: str) -> None:
        """Called once the searcher serves a new encoder (this worker's retrain or another's)."""
        self.model_version = version
        self.metrics.set_model_version(version)
        freeze_long_lived()  # the new model's objects, and the old one's collected

    # ---- small helpers for routes -----------------------------------------------------------

    def written_revision(self) -> int:
        """After a store write: bring this worker's index up to it and return the revision to
        acknowledge, so the entry is searchable once the response arrives (read-your-writes
        `min_revision` for other workers)."""
        self.searcher.catch_up()
        return self.searcher.revision

    def set_threshold(self, value: float) -> None:
        self.store.set_threshold(value)
        self.threshold = ThresholdState(value, "store")

    def ready(self) -> dict[str, object]:
        store_error = self.store.unavailable_reason()
        return {
            "ready": store_error is None,
            "model_loaded": True,
            "index_loaded": True,
            "store_reachable": store_error is None,
            "store_error": store_error,
            "model_version": self.model_version,
            "model_error": self.model_error(),
            "index_size": self.searcher.count,
            "index_kind": self.searcher.kind,
            "index_rebuilding": self.searcher.rebuilding,
            "revision": self.searcher.revision,
        }


def limit_torch_threads(settings: Settings) -> None:
    """Single questions are fastest on one thread; workers scale instead. Only where torch
    is loaded already (an encoder handed in, such as the MiniLM benchmark's; retrains train
    in a child): the serving encoder runs on NumPy, and torch costs ~180 MB.

    For the CALLING thread only: torch's intra-op count is an OpenMP setting, which each
    thread keeps for itself (a new thread starts from OMP_NUM_THREADS or the core count).
    `Service.open` calls it for the loading thread, the app's lifespan for the event loop's,
    where /ask encodes."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(settings.torch_threads)
