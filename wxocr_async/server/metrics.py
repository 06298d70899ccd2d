"""The server's Prometheus metrics (``GET /metrics``), in a registry of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from ..local.engine import LocalEngine
    from ..surface import TokenTable
    from .watchdog import Watchdogs

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: seconds buckets for one image's recognition (an ID card ~0.5 s, a dense page ~3 s)
RECOGNITION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)


class ServerMetrics:
    """Requests by endpoint and errcode, recognition seconds, and the engine's and the
    connections' state read at each scrape."""

    def __init__(self, engine: LocalEngine, watchdogs: Watchdogs, tokens: TokenTable) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "wxocr_requests",
            "OCR requests answered, by endpoint and errcode",
            ["endpoint", "errcode"],
            registry=self.registry,
        )
        self.recognition = Histogram(
            "wxocr_recognition_seconds",
            "Seconds a worker spent recognising one image",
            ["endpoint"],
            buckets=RECOGNITION_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_StateCollector(engine, watchdogs, tokens))

    def answered(self, endpoint: str, errcode: object) -> None:
        self.requests.labels(endpoint, str(errcode)).inc()

    def recognised(self, endpoint: str, seconds: float) -> None:
        self.recognition.labels(endpoint).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _StateCollector(Collector):
    """The engine's queue and workers, the connections and the token table, read at
    each scrape."""

    def __init__(self, engine: LocalEngine, watchdogs: Watchdogs, tokens: TokenTable) -> None:
        self._engine = engine
        self._watchdogs = watchdogs
        self._tokens = tokens

    def collect(self) -> Iterator[Metric]:
        engine = self._engine
        yield GaugeMetricFamily(
            "wxocr_queue_depth", "Images waiting for a recognition worker", value=engine.queued
        )
        yield GaugeMetricFamily(
            "wxocr_images_in_flight",
            "Images being recognised or waiting for a worker",
            value=engine.in_flight,
        )
        yield CounterMetricFamily(
            "wxocr_worker_restarts", "Times a dead worker's pool was replaced", engine.restarts
        )
        yield CounterMetricFamily(
            "wxocr_images_refused",
            "Images refused for their pixel size before any decoding",
            engine.refused,
        )
        yield GaugeMetricFamily(
            "wxocr_connections", "Client connections open", value=len(self._watchdogs.live)
        )
        yield CounterMetricFamily(
            "wxocr_slow_clients_dropped",
            "Connections closed for not delivering a request in time",
            self._watchdogs.dropped,
        )
        yield CounterMetricFamily(
            "wxocr_connections_refused",
            "Connections closed at once, past the most open at a time",
            self._watchdogs.refused,
        )
        yield GaugeMetricFamily(
            "wxocr_tokens_live", "Access tokens issued and kept", value=len(self._tokens)
        )
