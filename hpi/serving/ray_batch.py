"""Bulk runs over a document collection: ``hpi batch [--ray] INPUT_DIR OUT_DIR``, resumable.

Every image or PDF under ``INPUT_DIR`` (recursively, sorted) gets one file
``OUT_DIR/<its relative path>.json`` = ``{"input_path", "pages": [...]}``, one
entry per page: the result's ``json["res"]`` (PaddleX's keys), or
``{"page_index", "error"}`` for a page that failed. Each file is written to
a temp name and renamed, so an interrupted run leaves only complete files,
and a rerun skips the inputs that have theirs.

Locally the files run one after another in this process. With Ray, a Ray
Data dataset of the remaining paths goes through an actor pool
(``ActorPoolStrategy``): each actor creates the pipeline once and writes the
results itself, so on a multi-node cluster ``OUT_DIR`` (and ``INPUT_DIR``)
must be on storage every node sees.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..cache import atomic_write_bytes

log = logging.getLogger(__name__)


def list_inputs(input_dir: str | Path) -> list[str]:
    """Relative paths of the images and PDFs under ``input_dir`` and its sub-directories (a batch job mirrors
    the tree into its output), sorted; what counts as one is ``--input DIR``'s rule (suffix or content)."""
    from ..inputs import is_input_file

    root = Path(input_dir)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and is_input_file(p))


def output_path(out_dir: str | Path, relative: str) -> Path:
    return Path(out_dir) / f"{relative}.json"


def pending(input_dir: str | Path, out_dir: str | Path) -> tuple[list[str], int]:
    """(inputs without a result file yet, how many already have one)."""
    every = list_inputs(input_dir)
    todo = [rel for rel in every if not output_path(out_dir, rel).is_file()]
    return todo, len(every) - len(todo)


class FileProcessor:
    """Runs one pipeline over input files and writes each file's result file (a Ray Data actor's body)."""

    def __init__(self, pipeline: str, device: str | None, overrides: Mapping[str, Any], input_dir: str,
                 out_dir: str, params: Mapping[str, Any] | None = None) -> None:
        from ..pipelines import create_pipeline

        self.pipeline = create_pipeline(pipeline, device=device, **dict(overrides))
        self.input_dir = Path(input_dir)
        self.out_dir = Path(out_dir)
        self.params = dict(params or {})

    def process(self, relative: str) -> dict:
        """Process one input; a summary ``{"input", "pages", "failed", "error", "node"}``."""
        from ..results.base import to_jsonable

        pages: list[dict] = []
        failed = 0
        error = ""
        try:
            for result in self.pipeline.predict(str(self.input_dir / relative), on_error="report", **self.params):
                if result.ok:
                    pages.append(to_jsonable(result.json["res"]))
                else:
                    failed += 1
                    pages.append({"page_index": result.page_index, "error": str(result.error)})
        except Exception as exc:  # the input as a whole (e.g. a single unreadable image): recorded, run goes on
            failed += 1
            error = f"{type(exc).__name__}: {exc}"
            pages.append({"page_index": None, "error": error})
        record = {"input_path": relative, "pages": pages}
        atomic_write_bytes(output_path(self.out_dir, relative), json.dumps(record, ensure_ascii=False).encode("utf-8"))
        return {"input": relative, "pages": len(pages), "failed": failed, "error": error, "node": _node()}

    def __call__(self, batch: dict) -> dict:
        """Ray Data's ``map_batches`` face: a batch of ``{"input": [...]}`` → summaries as columns."""
        rows = [self.process(str(relative)) for relative in batch["input"]]
        return {key: [row[key] for row in rows] for key in ("input", "pages", "failed", "error", "node")}

    def close(self) -> None:
        self.pipeline.close()


def _portable(pipeline: str | Path) -> str:
    """A pipeline YAML as an absolute path (actors run elsewhere), a pipeline name as it is."""
    return str(Path(pipeline).resolve()) if Path(str(pipeline)).is_file() else str(pipeline)


def _node() -> str:
    """The Ray node this runs on (its id), or this host's name outside Ray."""
    try:
        import ray

        if ray.is_initialized():
            return ray.get_runtime_context().get_node_id()
    except Exception:  # Ray missing or not started: the local case
        pass
    import socket

    return socket.gethostname()


@dataclass
class BatchReport:
    total: int
    skipped: int
    done: int = 0
    failed_inputs: list[str] = field(default_factory=list)
    nodes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"total": self.total, "skipped": self.skipped, "done": self.done,
                "failed_inputs": self.failed_inputs, "nodes": self.nodes, "seconds": round(self.seconds, 2)}

    def add(self, summaries: Iterable[dict]) -> None:
        for row in summaries:
            self.done += 1
            if row["failed"]:
                self.failed_inputs.append(row["input"])
            self.nodes[row["node"]] = self.nodes.get(row["node"], 0) + 1


def run_local(pipeline: str, input_dir: str, out_dir: str, device: str | None = None,
              overrides: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None) -> BatchReport:
    """The batch in this process, one input after another."""
    started = time.monotonic()
    todo, skipped = pending(input_dir, out_dir)
    report = BatchReport(total=len(todo) + skipped, skipped=skipped)
    if todo:
        processor = FileProcessor(pipeline, device, overrides or {}, input_dir, out_dir, params)
        try:
            report.add(processor.process(relative) for relative in todo)
        finally:
            processor.close()
    report.seconds = time.monotonic() - started
    return report


def run_ray(pipeline: str, input_dir: str, out_dir: str, device: str | None = None,
            overrides: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None,
            actors: int = 2, cpus_per_actor: float = 1.0, files_per_batch: int = 1) -> BatchReport:
    """The batch on the Ray cluster this process is connected to (``ray.init`` first): a Ray Data
    dataset of the pending inputs through a pool of ``actors`` pipeline actors."""
    import ray

    started = time.monotonic()
    todo, skipped = pending(input_dir, out_dir)
    report = BatchReport(total=len(todo) + skipped, skipped=skipped)
    if todo:
        dataset = ray.data.from_items([{"input": relative} for relative in todo], override_num_blocks=len(todo))
        results = dataset.map_batches(
            FileProcessor,
            fn_constructor_kwargs={"pipeline": _portable(pipeline), "device": device, "overrides": dict(overrides or {}),
                                   "input_dir": str(Path(input_dir).resolve()), "out_dir": str(Path(out_dir).resolve()),
                                   "params": dict(params or {})},
            batch_size=files_per_batch, compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=cpus_per_actor,
        )
        report.add(results.iter_rows())
    report.seconds = time.monotonic() - started
    return report


__all__ = ["BatchReport", "FileProcessor", "list_inputs", "output_path", "pending", "run_local", "run_ray"]
