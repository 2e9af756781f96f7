"""The same HTTP app as a Ray Serve deployment: one pipeline per replica, hpi's batcher inside each.

    from ray import serve
    from hpi.serving.ray_serve import build_app

    serve.start(http_options={"host": "127.0.0.1", "port": 8000})
    serve.run(build_app("OCR", num_replicas=2), route_prefix="/")   # POST /ocr, GET /health, /metrics

or from the command line, on a running cluster:
``serve run hpi.serving.ray_serve:app_builder pipeline=OCR num_replicas=2``.

Each replica builds its :class:`hpi.serving.app.Service` (models loaded in
the replica's constructor, before Ray routes to it) and serves
:func:`hpi.serving.app.create_app` on it, so the protocol, limits, metrics
and cross-request batching are those of ``hpi --serve``. Ray's own limits are
set so that batches fill and overload is a 503: ``max_ongoing_requests`` =
the replica's ``concurrency + max_queue`` (its own admission then decides,
and at most ``concurrency`` requests share its model calls), and
``max_queued_requests`` bounds what waits in Ray's proxy (Ray answers 503
beyond it).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from ray import serve

from .settings import ServingSettings


@serve.ingress()
class HPIReplica:
    """One replica: a pipeline, its Service and its app."""

    def __init__(self, pipeline: str, device: str | None, settings: Mapping[str, Any],
                 overrides: Mapping[str, Any]) -> None:
        from .server import build_service

        self.service = build_service(pipeline, device=device, settings=dict(settings), **dict(overrides))

    def __serve_build_asgi_app__(self):
        from .app import create_app

        return create_app(self.service)

    def check_health(self) -> None:
        """Ray's replica health check: a closed service is unhealthy."""
        if self.service.closing:
            raise RuntimeError("the service is shutting down")


def build_app(pipeline: str = "OCR", device: str | None = None, settings: ServingSettings | None = None,
              num_replicas: int = 1, num_cpus: float = 1.0, max_queued_requests: int | None = None,
              name: str = "hpi", **overrides: Any):
    """A bound Ray Serve application of ``pipeline`` (``serve.run(build_app(...))``)."""
    settings = settings or ServingSettings()
    queued = settings.max_queue if max_queued_requests is None else max_queued_requests
    queued = max(1, int(queued))  # Ray: a positive bound (or -1, none)
    deployment = serve.deployment(
        HPIReplica, name=name, num_replicas=num_replicas,
        max_ongoing_requests=settings.concurrency + settings.max_queue,
        max_queued_requests=queued, ray_actor_options={"num_cpus": num_cpus},
        graceful_shutdown_timeout_s=settings.graceful_shutdown_s,
    )
    return deployment.bind(str(pipeline), device, dataclasses.asdict(settings), overrides)


def app_builder(args: Mapping[str, str]):
    """``serve run hpi.serving.ray_serve:app_builder pipeline=OCR num_replicas=2 concurrency=8 ...``:
    ``pipeline``, ``device``, ``num_replicas``, ``num_cpus``, ``max_queued_requests`` and any
    :class:`ServingSettings` field (as text)."""
    args = dict(args)
    own = ("pipeline", "device", "num_replicas", "num_cpus", "max_queued_requests")
    settings = ServingSettings.from_text({k: v for k, v in args.items() if k not in own})
    return build_app(
        args.pop("pipeline", "OCR"), device=args.pop("device", None), settings=settings,
        num_replicas=int(args.pop("num_replicas", 1)), num_cpus=float(args.pop("num_cpus", 1)),
        max_queued_requests=int(args["max_queued_requests"]) if "max_queued_requests" in args else None,
    )


__all__ = ["HPIReplica", "app_builder", "build_app"]
