"""The HTTP app: PaddleX's protocol on one pipeline, with admission control and batching.

:class:`Service` holds what a server process (or a Ray Serve replica) shares
between requests: the pipeline with batching runners around its models, the
worker threads, the admission counters and the metrics. :func:`create_app`
puts PaddleX's routes on it:

- ``POST <endpoint>`` (``/ocr``, ``/document-preprocessing``, ...): PaddleX's
  envelope ``{logId, result, errorCode: 0, errorMsg: "Success"}``; errors are
  ``{logId, errorCode, errorMsg}`` with the HTTP status = ``errorCode``: 422
  for an invalid request (pydantic's errors as a JSON string, PaddleX's
  shape) or file, 413 for a body over the limit, 503 when overloaded, timed
  out or shutting down, 500 otherwise.
- ``GET /health``: ``{logId, errorCode: 0, errorMsg: "Healthy"}``.
- ``GET /metrics``: Prometheus text.

A request runs in one worker thread from decoding its file to encoding its
JSON; its model calls go through :class:`hpi.serving.batching.BatchingRunner`
and share model calls with the other requests in flight. A failure stays in
its request: it becomes that request's error response.
"""

# No ``from __future__ import annotations``: FastAPI reads the route functions' annotations at runtime.
import asyncio
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from ..errors import ConfigError, HPIError, InputError
from ..pipelines.params import resolve_call
from .apps import prune_result, request_fields, request_model, serving_app
from .batching import BatchingRunner, PadRule, RequestTimeout, check_deadline, request_deadline
from .files import FileError, decode_file, encode_image, file_bytes
from .metrics import Metrics
from .settings import ServingSettings

log = logging.getLogger(__name__)


class ServingError(Exception):
    """An error response: HTTP ``status`` (= PaddleX's ``errorCode``) and ``errorMsg``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def new_log_id() -> str:
    return str(uuid.uuid4())


def envelope_error(log_id: str | None, status: int, message: str) -> dict:
    return {"logId": log_id or new_log_id(), "errorCode": status, "errorMsg": message}


def _dumps(body: Any) -> bytes:
    # Starlette's JSONResponse rendering (what PaddleX's server sends): UTF-8, compact.
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _validation_errors(errors: list[dict], prefix: tuple = ("body",)) -> str:
    """PaddleX's 422 message: ``[{type, loc: "body.field", msg}]`` as a JSON string."""
    converted = []
    for error in errors:
        path = ""
        for i, part in enumerate((*prefix, *error.get("loc", ()))):
            path += (f"[{part}]" if isinstance(part, int) else (f".{part}" if i else str(part)))
        converted.append({"type": error["type"], "loc": path, "msg": error["msg"]})
    return json.dumps(converted)


def pad_rule(task: str, max_pad_columns: int) -> PadRule | None:
    """Which calls of a model task may merge although their shapes differ: text recognition lines of
    different widths (NCHW input axis 3 ↔ CTC time axis 1 of the output), within ``max_pad_columns``."""
    if task == "text_recognition" and max_pad_columns > 0:
        return PadRule(input_axis=3, output_axis=1, max_extra=max_pad_columns)
    return None


class _DeadlineRunner:
    """With batching off: the runner itself, refusing calls of requests past their deadline."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner

    def __getattr__(self, name: str) -> Any:
        if name == "runner":
            raise AttributeError(name)
        return getattr(self.runner, name)

    def infer(self, feed):
        check_deadline("a model call")
        return self.runner.infer(feed)

    def infer_one(self, array):
        check_deadline("a model call")
        return self.runner.infer_one(array)


class Service:
    """A pipeline served with PaddleX's protocol: admission, batching, limits, metrics."""

    def __init__(self, pipeline: Any, settings: ServingSettings | None = None, app_spec: Any = None) -> None:
        self.pipeline = pipeline
        self.settings = settings or ServingSettings()
        self.app_spec = app_spec or serving_app(pipeline.name)
        self.protocol = self.app_spec.protocol
        self.request_model = request_model(type(pipeline), self.protocol)
        self.fields = request_fields(type(pipeline))
        self.metrics = Metrics()
        self.executor = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="hpi-request")
        self.running = 0  # requests in a worker (the batchers' expected callers)
        self.waiting = 0  # requests waiting for a worker
        self.closing = False
        self._slots: asyncio.Semaphore | None = None
        self._idle: asyncio.Event | None = None
        pipeline.wrap_runners(self._wrap_runner)

    # -- models --------------------------------------------------------------------------------------------
    def _wrap_runner(self, path: tuple[str, ...], runner: Any) -> Any:
        if not self.settings.batching:
            return _DeadlineRunner(runner)
        slot = ".".join(path)
        spec = getattr(getattr(runner, "model", None), "spec", None)
        task = getattr(spec, "task", None) or path[-1]
        batching = BatchingRunner(
            runner, slot=slot, max_batch_size=self.settings.max_batch_size, max_wait_ms=self.settings.max_wait_ms,
            expected_callers=lambda: self.running, observer=self.metrics.observe_batch,
            pad=pad_rule(task, self.settings.max_pad_columns),
        )
        self.metrics.watch_queue(slot, lambda: batching.queued)
        return batching

    # -- admission -----------------------------------------------------------------------------------------
    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:  # made in the event loop that serves (uvicorn's, or a Ray replica's)
            self._slots = asyncio.Semaphore(self.settings.concurrency)
            self._idle = asyncio.Event()
            self._idle.set()
        return self._slots

    async def _admit(self, deadline: float) -> float:
        """Wait for a worker; 503 at once when ``max_queue`` requests already wait. Returns the wait in s."""
        slots = self._semaphore()
        if self.closing:
            raise ServingError(503, "The server is shutting down; retry on another instance.")
        if slots.locked() and self.waiting >= self.settings.max_queue:
            raise ServingError(
                503, f"Server overloaded: {self.running} requests running and {self.waiting} waiting "
                     f"(limit {self.settings.max_queue}); retry later.", {"Retry-After": "1"})
        started = time.monotonic()
        self.waiting += 1
        self.metrics.queue_depth.set(self.waiting)
        try:
            await asyncio.wait_for(slots.acquire(), timeout=max(0.0, deadline - started))
        except (asyncio.TimeoutError, TimeoutError):
            raise ServingError(503, f"Server overloaded: no worker became free within the request timeout "
                                    f"({self.settings.timeout_s:g} s); retry later.", {"Retry-After": "1"}) from None
        finally:
            self.waiting -= 1
            self.metrics.queue_depth.set(self.waiting)
        self.running += 1
        self.metrics.in_flight.set(self.running)
        assert self._idle is not None
        self._idle.clear()
        return time.monotonic() - started

    def _release(self, future: Any) -> None:
        if not future.cancelled():
            future.exception()  # retrieved here: a request answered 503 before its work ended is not an error
        self.running -= 1
        self.metrics.in_flight.set(self.running)
        assert self._slots is not None and self._idle is not None
        self._slots.release()
        if self.running == 0:
            self._idle.set()

    # -- one request ---------------------------------------------------------------------------------------
    def check_params(self, kwargs: dict[str, Any]) -> None:
        """A 422 in PaddleX's shape for per-call values the pipeline refuses (range, choices, unsupported)."""
        names = {hpi_name: serving for serving, (hpi_name, _) in self.fields.items()}
        errors = []
        for name, value in kwargs.items():
            if value is None:
                continue
            try:
                resolve_call(self.pipeline.config, type(self.pipeline).params, {name: value})
            except ConfigError as exc:
                errors.append({"type": "value_error", "loc": f"body.{names[name]}", "msg": str(exc)})
        if errors:
            raise ServingError(422, json.dumps(errors))
        try:
            self.pipeline.predict([], on_error="raise", **kwargs)  # the pipeline's own cross-field checks
        except ConfigError as exc:
            raise ServingError(422, json.dumps([{"type": "value_error", "loc": "body", "msg": str(exc)}])) from None

    async def handle(self, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        """(HTTP status, JSON body, extra headers) for a request body."""
        started = time.monotonic()
        deadline = started + self.settings.timeout_s
        log_id: str | None = None
        endpoint = self.app_spec.endpoint
        status = 500
        try:
            try:
                payload = json.loads(body)
            except ValueError:
                raise ServingError(422, json.dumps([{"type": "json_invalid", "loc": "body", "msg": "JSON decode error"}]))
            if isinstance(payload, dict) and isinstance(payload.get("logId"), str):
                log_id = payload["logId"]
            from pydantic import ValidationError

            try:
                request = self.request_model.model_validate(payload)
            except ValidationError as exc:
                raise ServingError(422, _validation_errors(exc.errors())) from None
            log_id = request.logId or log_id or new_log_id()
            kwargs = {hpi_name: getattr(request, serving) for serving, (hpi_name, _) in self.fields.items()}
            self.check_params(kwargs)
            source, kind = self.protocol.source(request)
            visualize = self.settings.visualize if request.visualize is None else bool(request.visualize)
            queued_s = await self._admit(deadline)
            self.metrics.queue_time.observe(queued_s)
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(
                self.executor, partial(self._work, source, kind, kwargs, visualize, log_id, deadline))
            future.add_done_callback(self._release)
            try:
                content = await asyncio.wait_for(asyncio.shield(future), timeout=max(0.0, deadline - time.monotonic()))
            except (asyncio.TimeoutError, TimeoutError):
                raise ServingError(503, f"The request did not finish within the request timeout "
                                        f"({self.settings.timeout_s:g} s); retry later.", {"Retry-After": "1"}) from None
            status = 200
            return 200, content, {}
        except FileError as exc:
            status = exc.status
            return status, _dumps(envelope_error(log_id, status, exc.message)), {}
        except ServingError as exc:
            status = exc.status
            return status, _dumps(envelope_error(log_id, status, exc.message)), exc.headers
        except RequestTimeout:
            status = 503
            return status, _dumps(envelope_error(log_id, status, f"The request did not finish within the request "
                                                 f"timeout ({self.settings.timeout_s:g} s); retry later.")), {"Retry-After": "1"}
        except HPIError as exc:
            log.error("Request %s failed: %s", log_id, exc)
            return status, _dumps(envelope_error(log_id, status, f"Internal server error: {exc}")), {}
        except Exception:
            log.exception("Request %s failed", log_id)
            return status, _dumps(envelope_error(log_id, status, "Internal server error")), {}
        finally:
            self.metrics.requests.labels(endpoint, str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.monotonic() - started)

    def _work(self, file: str, kind: str, kwargs: dict, visualize: bool, log_id: str, deadline: float) -> bytes:
        """One request in its worker thread: file → pages → pipeline → PaddleX's JSON."""
        started = time.monotonic()
        settings = self.settings
        try:
            with request_deadline(deadline):
                check_deadline()  # it may have waited past its deadline for this thread
                data = file_bytes(file, allow_url=settings.allow_url, max_bytes=settings.max_body_bytes,
                                  url_timeout_s=settings.url_timeout_s)
                if self.protocol.decode is not None:  # not images: a time series' CSV
                    images, data_info = self.protocol.decode(data, settings)
                else:
                    images, data_info = decode_file(data, kind, max_pixels=settings.max_pixels,
                                                    max_pages=1 if self.protocol.one_image else settings.max_pdf_pages)
                check_deadline()
                try:
                    results = list(self.pipeline.predict(images, on_error="raise", **kwargs))
                except InputError as exc:  # what the request sent cannot be used (a series' column, ...)
                    raise FileError(422, f"Invalid input file: {exc}") from None
                encode = partial(_encode, max_size=settings.max_output_image_size)
                entries = [self.app_spec.entry(result, image, visualize, encode)
                           for result, image in zip(results, images)]
            body = {"logId": log_id, "result": self.protocol.result(self.app_spec, entries, data_info),
                    "errorCode": 0, "errorMsg": "Success"}
            return _dumps(body)
        finally:
            self.metrics.compute_time.observe(time.monotonic() - started)

    # -- life cycle ----------------------------------------------------------------------------------------
    async def close(self) -> None:
        """Refuse new requests, let the running ones finish, then release the workers and the models."""
        self.closing = True
        finished = True
        if self._idle is not None:
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=self.settings.graceful_shutdown_s)
            except (asyncio.TimeoutError, TimeoutError):
                finished = False
                log.warning("%d requests still running after %g s; closing anyway", self.running,
                            self.settings.graceful_shutdown_s)
        await asyncio.get_running_loop().run_in_executor(None, self._close_sync, finished)

    def _close_sync(self, wait: bool = True) -> None:
        self.executor.shutdown(wait=wait, cancel_futures=not wait)
        if wait:
            self.pipeline.close()  # else a stuck request may still use the models: the process exit frees them


def _encode(picture: Any, max_size: tuple[int, int] | None = None, ext: str = ".jpg") -> str:
    return encode_image(picture, max_size, ext)


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is answered 413 and never kept in memory.

    The rest of such a body is read and dropped (up to ``drain_bytes``) before answering: a client
    still sending would otherwise see a connection reset instead of the 413.
    """

    def __init__(self, app: Any, max_bytes: int, drain_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.drain_bytes = drain_bytes if drain_bytes is not None else max(4 * max_bytes, 256 * 2**20)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        declared = int(length) if length is not None and length.isdigit() else None
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            more = bool(message.get("more_body", False))
            if size > self.max_bytes or (declared is not None and declared > self.max_bytes):
                await self._drain(receive, size, more)
                return await self._too_large(send, max(size, declared or 0))
            chunks.append(chunk)
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _drain(self, receive, size: int, more: bool) -> None:
        while more and size <= self.drain_bytes:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            more = bool(message.get("more_body", False))

    async def _too_large(self, send, size: int) -> None:
        content = _dumps(envelope_error(None, 413, f"Request body too large: {size:,} bytes; the limit is "
                                                   f"{self.max_bytes:,} (--max_body_mb)."))
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": content})


def create_app(service: Service, *, close_on_shutdown: bool = True):
    """The FastAPI app of ``service``: PaddleX's endpoint for its pipeline, ``/health``, ``/metrics``."""
    import contextlib

    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import Response
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        service._semaphore()
        yield
        if close_on_shutdown:
            await service.close()

    app = FastAPI(title=f"hpi {service.pipeline.name} service (PaddleX-compatible)", lifespan=lifespan)
    spec = service.app_spec
    schema = service.request_model.model_json_schema()

    def json_response(status: int, content: bytes, headers: dict[str, str] | None = None) -> Response:
        return Response(content, status_code=status, media_type="application/json", headers=headers)

    @app.post(spec.endpoint, operation_id="infer", openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}})
    async def infer(request: Request) -> Response:
        status, content, headers = await service.handle(await request.body())
        return json_response(status, content, headers)

    @app.get("/health", operation_id="checkHealth")
    async def health() -> Response:
        return json_response(200, _dumps({"logId": new_log_id(), "errorCode": 0, "errorMsg": "Healthy"}))

    @app.get("/metrics")
    async def metrics() -> Response:
        content, content_type = service.metrics.render()
        return Response(content, media_type=content_type)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, exc: StarletteHTTPException) -> Response:
        return json_response(exc.status_code, _dumps(envelope_error(None, exc.status_code, str(exc.detail))))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request, exc: RequestValidationError) -> Response:
        return json_response(422, _dumps(envelope_error(None, 422, _validation_errors(exc.errors(), ()))))

    @app.exception_handler(Exception)
    async def unexpected(_request, exc: Exception) -> Response:
        log.exception("Unhandled error")
        return json_response(500, _dumps(envelope_error(None, 500, "Internal server error")))

    app.add_middleware(BodyLimit, max_bytes=service.settings.max_body_bytes)
    return app


__all__ = ["BodyLimit", "Service", "ServingError", "create_app", "envelope_error", "prune_result"]
