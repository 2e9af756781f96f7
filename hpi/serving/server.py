"""Building a served pipeline and running it under uvicorn.

:func:`build_service` creates the pipeline (all its startup models loaded),
installs the batching runners and reads a YAML's ``Serving`` section;
:func:`serve` then opens the port, so a client never reaches a server whose
models are still loading. SIGTERM / SIGINT stop accepting connections, let
the requests in flight finish (up to ``graceful_shutdown_s``), release the
models and exit 0.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from pathlib import Path
from typing import Any, Mapping

from .app import Service, create_app
from .settings import ServingSettings

log = logging.getLogger(__name__)


def pipeline_config(pipeline: str | Path) -> tuple[dict, dict]:
    """(the pipeline's raw config without ``Serving``, the ``Serving`` section) of a name or YAML path."""
    from ..config import load_pipeline_config
    from ..pipelines import PIPELINES, pipeline_class

    if str(pipeline) not in PIPELINES and not str(pipeline).endswith((".yaml", ".yml")) and not Path(str(pipeline)).is_file():
        pipeline_class(str(pipeline))  # the "unknown pipeline" error, with the table's names
    data = dict(load_pipeline_config(pipeline))
    section = data.pop("Serving", None) or {}
    return data, dict(section)


def build_service(pipeline: str | Path = "OCR", device: str | None = None,
                  settings: ServingSettings | Mapping[str, Any] | None = None,
                  **overrides: Any) -> Service:
    """A :class:`Service` for a pipeline name or YAML path; ``settings`` (a ServingSettings or a mapping of
    its fields) win over the YAML's ``Serving`` section; ``overrides`` are ``create_pipeline``'s."""
    from ..pipelines import create_pipeline

    data, section = pipeline_config(pipeline)
    base = ServingSettings.from_paddlex(section)
    if isinstance(settings, ServingSettings):
        chosen = settings
    else:
        chosen = base.replace(**dict(settings or {}))
    created = create_pipeline(config=data, device=device, **overrides)
    try:
        return Service(created, chosen)
    except Exception:
        created.close()
        raise


class _Server:
    """uvicorn's server with signal handling that ends in exit code 0 after a graceful shutdown
    (uvicorn re-raises the signal after shutting down, which ends the process with -SIGTERM)."""

    def __init__(self, config: Any) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self):
                if threading.current_thread() is not threading.main_thread():
                    yield
                    return
                handled = (signal.SIGINT, signal.SIGTERM)
                previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
                try:
                    yield
                finally:
                    for sig, handler in previous.items():
                        signal.signal(sig, handler)

        self.server = Server(config)

    def run(self) -> None:
        self.server.run()


def serve(service: Service, host: str = "127.0.0.1", port: int = 8080, log_level: str = "info") -> None:
    """Serve ``service`` on ``host:port`` until SIGTERM/SIGINT; in-flight requests finish first."""
    import uvicorn

    app = create_app(service)
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level.lower(), access_log=False,
        timeout_graceful_shutdown=int(max(1, round(service.settings.graceful_shutdown_s))),
    )
    log.info("Serving %s at http://%s:%d%s (models: %s)", service.pipeline.name, host, port,
             service.app_spec.endpoint, ", ".join(f"{k}: {v}" for k, v in service.pipeline.describe().items()))
    _Server(config).run()


__all__ = ["build_service", "pipeline_config", "serve"]
