"""Per-stage wall times collected while a pipeline runs (read by ``hpi benchmark``)."""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from typing import Iterator


class StageTimes:
    """Accumulates seconds per stage name (``det.pre``, ``det.model``, ``rec.post``, …)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start

    def as_ms(self) -> dict[str, float]:
        return {name: value * 1000.0 for name, value in self.seconds.items()}


class _NullTimes(StageTimes):
    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        yield


NULL_TIMES = _NullTimes()
