"""Paddle Inference runner (CPU, oneDNN on by default). Also the reference for export checks."""

from __future__ import annotations

import atexit
import weakref
import queue
import threading
from concurrent.futures import Future

import numpy as np

from .._deps import import_paddle_inference
from ..errors import BackendError
from .base import Runner


_LIVE_RUNNERS: "weakref.WeakSet[PaddleRunner]" = weakref.WeakSet()


@atexit.register
def _release_predictors_at_exit() -> None:
    # Release Paddle predictors while the interpreter is still whole: destroying them during
    # module teardown (after Paddle's own globals are gone) can crash at exit.
    for runner in list(_LIVE_RUNNERS):
        runner.deactivate()


class _OwnThread:
    """One thread that runs every call handed to it, in order (not concurrent.futures' pools: their
    interpreter-exit hook refuses work before our own exit hook releases the predictors)."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, fn, args = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # handed to the caller
                    future.set_exception(exc)

    def call(self, fn, *args):
        if threading.current_thread() is self._thread:
            return fn(*args)
        future: Future = Future()
        self._jobs.put((future, fn, args))
        return future.result()

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=30)


class PaddleRunner(Runner):
    """Paddle Inference.

    Options (``BACKENDS["paddle"].options``): ``mkldnn`` (False gives a
    plain reference), ``ir_optim``, ``mkldnn_cache_capacity`` (PaddleX's
    default 10: without a bound oneDNN keeps kernels for every input shape
    it meets, and text lines come in many widths).

    Threads: a Paddle predictor keeps oneDNN state per OS thread, and calls
    from a thread other than earlier ones fail after a few thread changes
    ("could not execute a primitive", also with a lock). So each runner owns
    one executor thread that creates the predictor and makes every call on
    it; ``infer`` from any thread hands the work over and waits. Calls are
    serialised by that one thread.
    """

    backend_name = "paddle"
    thread_safe = True  # the executor thread serialises the calls

    def _activate_impl(self) -> None:
        self._thread = _OwnThread(f"hpi-paddle-{self.model.name}")
        try:
            self._thread.call(self._create_predictor)
        except BaseException:
            self._thread.stop()
            raise
        _LIVE_RUNNERS.add(self)

    def _create_predictor(self) -> None:
        inference = import_paddle_inference()
        if self.model.paddle_files is None:
            raise BackendError(
                f"{self.model.name} has no Paddle inference files (inference.pdmodel/.json + "
                ".pdiparams), which the paddle backend needs: it ships as ONNX only. Use backend 'auto', "
                "'openvino' or 'onnxruntime' for it, or a model in Paddle format (PP-OCRv4_mobile_*)."
            )
        if self.device.startswith("gpu"):
            raise BackendError(
                "hpi's Paddle backend runs on the CPU only (Paddle 3.x GPU wheels are not on PyPI); "
                "use backend='tensorrt' or 'onnxruntime' on a GPU."
            )
        model_file, params_file = self.model.paddle_files
        config = inference.Config(str(model_file), str(params_file))
        config.disable_gpu()
        config.set_cpu_math_library_num_threads(self.threads)
        config.switch_ir_optim(bool(self.option("ir_optim")))
        if self.option("mkldnn"):
            config.enable_mkldnn()
            config.set_mkldnn_cache_capacity(int(self.option("mkldnn_cache_capacity")))
        else:
            config.disable_mkldnn()
        config.disable_glog_info()
        try:
            self.predictor = inference.create_predictor(config)
        except Exception as exc:
            raise BackendError(f"Paddle Inference could not load {model_file} ({exc}).") from exc
        self.input_names = list(self.predictor.get_input_names())
        self.output_names = list(self.predictor.get_output_names())

    def _infer_impl(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self._thread.call(self._run, feed)

    def _run(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            for name in self.input_names:
                handle = self.predictor.get_input_handle(name)
                handle.reshape(feed[name].shape)
                handle.copy_from_cpu(feed[name])
            self.predictor.run()
            return {
                name: self.predictor.get_output_handle(name).copy_to_cpu()
                for name in self.output_names
            }
        except Exception as exc:
            shapes = {k: v.shape for k, v in feed.items()}
            raise BackendError(f"Paddle Inference failed on {self.model.name} with inputs {shapes}: {exc}") from exc

    def _deactivate_impl(self) -> None:
        def release() -> None:
            self.predictor = None  # destroyed on the thread that made it

        self._thread.call(release)
        self._thread.stop()

    def describe(self) -> str:
        onednn = "oneDNN" if self.option("mkldnn") else "no oneDNN"
        return f"paddle ({onednn}, {self.threads} threads)"
