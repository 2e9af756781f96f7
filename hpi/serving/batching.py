"""Cross-request dynamic batching: a runner that coalesces concurrent calls into one model call.

:class:`BatchingRunner` wraps any :class:`hpi.backends.base.Runner`. Many
request threads call its ``infer``/``infer_one`` at once (each one inside its
own ``Pipeline.predict``); one worker thread takes the waiting calls whose
inputs have the same shape apart from the batch dimension, concatenates them
along axis 0, runs the model once and hands each caller its rows back.

Which calls merge: those whose inputs have the same shape apart from the
batch dimension (detection inputs of same-sized pages, the fixed-shape
classifiers), and, with a :class:`PadRule`, also those that differ only
along one axis by at most ``max_extra`` (text recognition: line widths). The
narrower inputs are then right-padded with zeros, exactly as the recognizer
pads the lines of its own batches, and each call's output is cut back to its
own length along the matching output axis (CTC time steps), so a call gets
the shape it would get alone. Padding does move the recognition model's
outputs a little (it attends over the whole padded line): measured on 83
rendered lines, up to 512 extra columns left every decoded text unchanged,
1024 changed one; a test checks batched texts against unbatched ones at 256.
The server's default is 0 (equal widths only): on CPU padding costs compute
and bigger batches are not cheaper per row (``hpi.serving.settings``).

Calls with several inputs are never merged: PaddleX's exported detectors (``image`` with ``im_shape`` and
``scale_factor``) return the boxes of all the images of a call as one ``[N, 6]`` list plus per-image counts,
which cannot be cut back into the callers' rows by position.

When to run a batch: as soon as it is full (``max_batch_size`` rows or
``max_batch_elements`` input values), when its oldest call has waited
``max_wait_ms``, or at once when every request in flight is already waiting
here (``expected_callers``: nobody else could join). A call whose request
deadline (:func:`request_deadline`) has passed is dropped with
:class:`RequestTimeout` instead of being run. When a merged call fails, each
call in it is retried alone, so one bad input never fails another request.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import HPIError

log = logging.getLogger(__name__)

_local = threading.local()


class RequestTimeout(HPIError):
    """A request's deadline passed before its work was done (the server answers 503)."""


@contextlib.contextmanager
def request_deadline(deadline: float | None) -> Iterator[None]:
    """Work done by this thread inside the block belongs to a request due by ``deadline``
    (``time.monotonic()`` seconds; None: no deadline). Batching runners drop expired calls."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = deadline
    try:
        yield
    finally:
        _local.deadline = previous


def current_deadline() -> float | None:
    """The deadline :func:`request_deadline` set for this thread, or None."""
    return getattr(_local, "deadline", None)


def check_deadline(what: str = "the request") -> None:
    """Raise :class:`RequestTimeout` when this thread's request deadline has passed."""
    deadline = current_deadline()
    if deadline is not None and time.monotonic() > deadline:
        raise RequestTimeout(f"{what} ran past its deadline and was dropped.")


@dataclass(frozen=True)
class BatchStats:
    """What one model call of a batching runner did (for metrics)."""

    slot: str
    calls: int  # request calls merged into this model call
    rows: int  # batch size of the model call
    queue_s: float  # how long its oldest call waited
    compute_s: float  # the model call itself


@dataclass(frozen=True)
class PadRule:
    """Calls whose inputs differ only along ``input_axis`` (by at most ``max_extra``) may merge: the
    narrower are zero-padded there, and their outputs cut back along ``output_axis`` in proportion."""

    input_axis: int
    output_axis: int
    max_extra: int


@dataclass(eq=False)
class _Call:
    feed: dict[str, np.ndarray]
    key: tuple
    rows: int
    elements: int
    deadline: float | None
    enqueued: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    result: dict[str, np.ndarray] | None = None
    error: BaseException | None = None
    abandoned: bool = False  # the caller stopped waiting (its deadline passed)
    width: int = 0  # size along the pad rule's axis (0: no pad rule)


class BatchingRunner:
    """A runner whose concurrent calls share model calls. Attributes it does not have
    (``input_names``, ``max_input_shape``, ``model``, ...) are the wrapped runner's.

    ``max_batch_size``: rows per model call (bounded further by the runner's
    ``max_input_shape``, e.g. a TensorRT profile). ``max_batch_elements``:
    input values per model call (a memory bound for big detection inputs).
    ``max_wait_ms``: how long the oldest waiting call may wait for company.
    ``expected_callers``: how many requests are in flight now (a callable; the
    server's in-flight count) — when that many calls are queued, waiting is
    pointless. ``observer``: called with a :class:`BatchStats` after each model call.
    """

    def __init__(
        self,
        runner: Any,
        *,
        slot: str = "",
        max_batch_size: int = 16,
        max_batch_elements: int = 12_000_000,
        max_wait_ms: float = 5.0,
        expected_callers: Callable[[], int] | None = None,
        observer: Callable[[BatchStats], None] | None = None,
        pad: PadRule | None = None,
    ) -> None:
        self.runner = runner
        self.pad = pad
        self.slot = slot or getattr(getattr(runner, "model", None), "name", "model")
        limits = getattr(runner, "max_input_shape", None)
        names = list(getattr(runner, "input_names", []) or [])
        shape = limits(names[0]) if callable(limits) and names else None
        if shape:
            max_batch_size = max(1, min(max_batch_size, int(shape[0])))
        self.max_batch_size = max(1, int(max_batch_size))
        self.max_batch_elements = max(1, int(max_batch_elements))
        self.max_wait_s = max(0.0, float(max_wait_ms)) / 1000.0
        self.expected_callers = expected_callers
        self.observer = observer
        self._queue: deque[_Call] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=f"hpi-batch-{self.slot}", daemon=True)
        self._thread.start()

    # -- the runner face --------------------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name == "runner":  # not set yet (during unpickling or a failed __init__)
            raise AttributeError(name)
        return getattr(self.runner, name)

    def describe(self) -> str:
        return (f"{self.runner.describe()}, batched across requests (≤ {self.max_batch_size} rows, "
                f"≤ {self.max_wait_s * 1000:.0f} ms wait)")

    def infer_one(self, array: np.ndarray) -> np.ndarray:
        out = self.infer({self.runner.input_names[0]: array})
        return next(iter(out.values()))

    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run ``feed`` (inputs by name, batch first) in a shared model call; its outputs by name."""
        check_deadline(f"a {self.slot} call")
        feed = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in feed.items()}
        first = next(iter(feed.values()))
        if first.ndim == 0 or len(feed) > 1:
            # Several inputs: PaddleX's exported detectors (image + im_shape / scale_factor) return the boxes of
            # all images as one list with per-image counts, not batch-first rows, so their calls are not merged.
            return self.runner.infer(feed)
        call = _Call(
            feed=feed,
            key=tuple((name, self._shape_key(array.shape)) for name, array in sorted(feed.items())),
            rows=int(first.shape[0]),
            elements=int(sum(a.size for a in feed.values())),
            deadline=current_deadline(),
            width=int(first.shape[self.pad.input_axis]) if self._pads(first) else 0,
        )
        with self._cond:
            if self._closed:
                raise HPIError(f"The {self.slot} batching runner is closed (the server is shutting down).")
            self._queue.append(call)
            self._cond.notify_all()
        remaining = None if call.deadline is None else max(0.0, call.deadline - time.monotonic())
        if not call.done.wait(remaining):
            with self._cond:
                call.abandoned = True
            if not call.done.is_set():
                raise RequestTimeout(f"a {self.slot} call waited past its request's deadline and was dropped.")
        if call.error is not None:
            raise call.error
        assert call.result is not None
        return call.result

    def _pads(self, array: np.ndarray) -> bool:
        return self.pad is not None and array.ndim > max(1, self.pad.input_axis % array.ndim)

    def _shape_key(self, shape: tuple[int, ...]) -> tuple:
        dims: list = list(shape[1:])
        if self.pad is not None and len(shape) > 1:
            axis = self.pad.input_axis % len(shape)
            if axis > 0:
                dims[axis - 1] = None  # any size along the pad axis: checked against max_extra when selecting
        return tuple(dims)

    def deactivate(self) -> None:
        """Finish the queued calls, stop the worker, then deactivate the wrapped runner."""
        self.close()
        self.runner.deactivate()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join()

    @property
    def queued(self) -> int:
        """Calls waiting for a model call now."""
        return len(self._queue)

    # -- the worker -------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._run(batch)

    def _next_batch(self) -> list[_Call] | None:
        with self._cond:
            while True:
                self._drop_expired()
                if self._queue:
                    break
                if self._closed:
                    return None
                self._cond.wait()
            head = self._queue[0]
            flush_at = head.enqueued + self.max_wait_s
            while True:
                taken, full = self._select(head)
                now = time.monotonic()
                if full or now >= flush_at or self._closed or self._nobody_else_coming():
                    break
                self._cond.wait(flush_at - now)
                self._drop_expired()
                if not self._queue or self._queue[0] is not head:
                    return []  # the head expired while waiting: start over
            for call in taken:
                self._queue.remove(call)
            return taken

    def _select(self, head: _Call) -> tuple[list[_Call], bool]:
        """Queued calls (FIFO) that can share a model call with ``head``, and whether that call is full."""
        taken: list[_Call] = []
        rows = elements = 0
        low = high = head.width
        for call in self._queue:
            if call.key != head.key or call.abandoned:
                continue
            if self.pad is not None and max(high, call.width) - min(low, call.width) > self.pad.max_extra:
                continue  # too much padding for one of them: a later batch
            if taken and (rows + call.rows > self.max_batch_size or elements + call.elements > self.max_batch_elements):
                return taken, True
            taken.append(call)
            rows += call.rows
            elements += call.elements
            low, high = min(low, call.width), max(high, call.width)
        return taken, rows >= self.max_batch_size or elements >= self.max_batch_elements

    def _nobody_else_coming(self) -> bool:
        if self.expected_callers is None:
            return False
        try:
            return len(self._queue) >= int(self.expected_callers())
        except Exception:  # a broken gauge must not stop the model
            return False

    def _drop_expired(self) -> None:
        now = time.monotonic()
        kept: deque[_Call] = deque()
        for call in self._queue:
            if call.abandoned:
                continue
            if call.deadline is not None and now > call.deadline:
                call.error = RequestTimeout(f"a {self.slot} call waited past its request's deadline and was dropped.")
                call.done.set()
                continue
            kept.append(call)
        self._queue = kept

    def _run(self, batch: list[_Call]) -> None:
        if not batch:
            return
        started = time.monotonic()
        queue_s = started - min(call.enqueued for call in batch)
        if len(batch) == 1:
            self._run_alone(batch[0])
        else:
            try:
                width = max(call.width for call in batch)
                feed = {name: np.concatenate([self._padded(call.feed[name], width) for call in batch], axis=0)
                        for name in batch[0].feed}
                outputs = self.runner.infer(feed)
                total = sum(call.rows for call in batch)
                if any(np.ndim(out) == 0 or out.shape[0] != total for out in outputs.values()):
                    raise ValueError("an output does not have the batch dimension first")
                start = 0
                for call in batch:
                    call.result = {name: self._cut(out[start:start + call.rows], call.width, width)
                                   for name, out in outputs.items()}
                    start += call.rows
                    call.done.set()
            except Exception as exc:
                # One call's input may be what failed: each call alone, so only that one gets the error.
                log.debug("%s: a merged call of %d failed (%s); running them one by one", self.slot, len(batch), exc)
                for call in batch:
                    if not call.done.is_set():
                        self._run_alone(call)
        if self.observer is not None:
            try:
                self.observer(BatchStats(self.slot, len(batch), sum(c.rows for c in batch), queue_s,
                                         time.monotonic() - started))
            except Exception:  # metrics must never fail a request
                log.debug("batch observer failed", exc_info=True)

    def _padded(self, array: np.ndarray, width: int) -> np.ndarray:
        if not self._pads(array) or array.shape[self.pad.input_axis] >= width:
            return array
        padding = [(0, 0)] * array.ndim
        padding[self.pad.input_axis % array.ndim] = (0, width - array.shape[self.pad.input_axis])
        return np.pad(array, padding)  # zeros: what the recognizer's own batches pad with

    def _cut(self, out: np.ndarray, own: int, width: int) -> np.ndarray:
        """A padded call's output back to the length it would have alone (when it scales exactly)."""
        if self.pad is None or own >= width or out.ndim < 2:
            return out
        axis = self.pad.output_axis % out.ndim
        length = out.shape[axis] * own / width
        if axis == 0 or not float(length).is_integer():
            return out
        index = [slice(None)] * out.ndim
        index[axis] = slice(0, int(length))
        return out[tuple(index)]

    def _run_alone(self, call: _Call) -> None:
        try:
            call.result = self.runner.infer(call.feed)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            call.error = exc
        finally:
            call.done.set()

    def __repr__(self) -> str:
        return f"<BatchingRunner {self.slot} around {self.runner!r}>"


__all__ = ["BatchStats", "BatchingRunner", "PadRule", "RequestTimeout", "check_deadline", "current_deadline", "request_deadline"]
