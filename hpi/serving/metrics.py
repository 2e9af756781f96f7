"""Prometheus metrics of one server (a registry of its own, served at ``GET /metrics``)."""

from __future__ import annotations

from typing import Callable

from .batching import BatchStats

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)


class Metrics:
    """Requests and errors by endpoint and code, latency, time queued vs computing, queue depth,
    requests in flight, and per model slot the batch sizes, requests per batch and batch times."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("hpi_requests", "HTTP requests answered, by endpoint and status code",
                                ["endpoint", "code"], registry=r)
        self.latency = Histogram("hpi_request_duration_seconds", "Time from request to response",
                                 ["endpoint"], buckets=_LATENCY_BUCKETS, registry=r)
        self.queue_time = Histogram("hpi_request_queue_seconds", "Time a request waited for a worker",
                                    buckets=_LATENCY_BUCKETS, registry=r)
        self.compute_time = Histogram("hpi_request_compute_seconds",
                                      "Time a request spent in its worker (decode, pipeline, encode)",
                                      buckets=_LATENCY_BUCKETS, registry=r)
        self.queue_depth = Gauge("hpi_queue_depth", "Requests waiting for a worker", registry=r)
        self.in_flight = Gauge("hpi_requests_in_flight", "Requests in a worker now", registry=r)
        self.batch_rows = Histogram("hpi_batch_size", "Rows (images or text lines) per model call, by slot",
                                    ["slot"], buckets=_BATCH_BUCKETS, registry=r)
        self.batch_calls = Histogram("hpi_batch_requests", "Request calls merged into one model call, by slot",
                                     ["slot"], buckets=_BATCH_BUCKETS, registry=r)
        self.batch_queue = Histogram("hpi_batch_queue_seconds", "Wait of a model call's oldest request call",
                                     ["slot"], buckets=_LATENCY_BUCKETS, registry=r)
        self.batch_compute = Histogram("hpi_batch_compute_seconds", "Model call time, by slot",
                                       ["slot"], buckets=_LATENCY_BUCKETS, registry=r)
        self.model_queue = Gauge("hpi_model_queue_depth", "Calls waiting for a model call, by slot", ["slot"],
                                 registry=r)

    def observe_batch(self, stats: BatchStats) -> None:
        self.batch_rows.labels(stats.slot).observe(stats.rows)
        self.batch_calls.labels(stats.slot).observe(stats.calls)
        self.batch_queue.labels(stats.slot).observe(stats.queue_s)
        self.batch_compute.labels(stats.slot).observe(stats.compute_s)

    def watch_queue(self, slot: str, depth: Callable[[], int]) -> None:
        self.model_queue.labels(slot).set_function(depth)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


__all__ = ["Metrics"]
