"""Prometheus metrics, one registry per app instance (tests build many apps in one process).

With several uvicorn workers each process has its own registry, so a scrape of /metrics sees
one worker; scrape each worker (or run one worker per container) - see docs/service.md.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Buckets around the /ask targets (p50 <= 3 ms, p99 <= 10 ms) and slow admin calls.
_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "samesay_http_requests",
            "HTTP requests by route template, method and status code",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "samesay_http_request_duration_seconds",
            "Time from request start to response start, by route template",
            ("route", "method"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.asks = Counter(
            "samesay_asks",
            "Questions asked, by whether they were answered (best score >= threshold)",
            ("answered",),
            registry=self.registry,
        )
        self.ask_batch = Histogram(
            "samesay_ask_batch_size",
            "Asks answered by one batched search (app/api/ask_batch.py)",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.index_size = Gauge(
            "samesay_index_faq_entries",
            "FAQ entries in this worker's index",
            registry=self.registry,
        )
        self.store_revision = Gauge(
            "samesay_index_store_revision",
            "Store revision this worker's index reflects",
            registry=self.registry,
        )
        self.model_info = Gauge(
            "samesay_model_info",
            "The encoder this worker serves (value 1; the version is the label)",
            ("version",),
            registry=self.registry,
        )
        self.ask_log_dropped = Counter(
            "samesay_ask_log_dropped",
            "Ask-log records dropped because the buffer was full (store unreachable)",
            registry=self.registry,
        )
        self._model_version: str | None = None

    def track_index(self, size: Callable[[], float], revision: Callable[[], float]) -> None:
        # Read at scrape time: no bookkeeping on the write path.
        self.index_size.set_function(size)
        self.store_revision.set_function(revision)

    def set_model_version(self, version: str) -> None:
        if self._model_version is not None:
            self.model_info.remove(self._model_version)
        self.model_info.labels(version=version).set(1)
        self._model_version = version

    def render(self) -> bytes:
        return generate_latest(self.registry)
