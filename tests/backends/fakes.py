"""Test doubles for the selection tests: real ONNX Runtime runners with wrong or slow outputs.

Registered under their own backend names (see test_select.py), they exercise
the rejection and early-stop paths of measured selection and nothing else.
"""

from __future__ import annotations

import time

import numpy as np

from hpi.backends.onnxruntime import OnnxRuntimeRunner


class PerturbedRunner(OnnxRuntimeRunner):
    """ONNX Runtime whose outputs are shifted by 0.05: fast, but wrong."""

    backend_name = "perturbed"

    def _infer_impl(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {name: value + np.float32(0.05) for name, value in super()._infer_impl(feed).items()}


class SlowRunner(OnnxRuntimeRunner):
    """ONNX Runtime that takes 40 ms longer per call: right, but far slower than the rest."""

    backend_name = "slow"

    def _infer_impl(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        time.sleep(0.04)
        return super()._infer_impl(feed)


class BrokenRunner(OnnxRuntimeRunner):
    """A backend that cannot load the model (a crash inside a third-party runtime)."""

    backend_name = "broken"

    def _activate_impl(self) -> None:
        raise RuntimeError("engine exploded while loading")


class LowPrecisionBreaksRunner(OnnxRuntimeRunner):
    """Right at fp32; at any lower precision its class scores come out swapped (labels flip)."""

    backend_name = "lowprec"

    def _infer_impl(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = super()._infer_impl(feed)
        if self.precision == "fp32":
            return outputs
        return {name: np.ascontiguousarray(value[..., ::-1]) for name, value in outputs.items()}
