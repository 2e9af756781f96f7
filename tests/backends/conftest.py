"""Session fixtures for the backend tests: real inputs and Paddle Inference reference outputs."""

from __future__ import annotations

import pytest

from tests.backends.parity import ParityCase, make_case


@pytest.fixture(scope="session")
def parity_case(det_model, rec_model, cls_model):
    """``parity_case(kind)`` -> (ParityCase, reference outputs from Paddle Inference).

    The reference is Paddle Inference as users run it (oneDNN on, the
    default), computed once per session and model; test_paddle.py checks it
    against Paddle with oneDNN off, the reference of the export check.
    """
    cache: dict[str, tuple[ParityCase, list]] = {}

    def get(kind: str) -> tuple[ParityCase, list]:
        if kind not in cache:
            from hpi.backends.paddle import PaddleRunner

            artifacts = {"det": det_model, "rec": rec_model, "cls": cls_model}[kind]
            case = make_case(kind, artifacts)
            with PaddleRunner(artifacts, threads=2) as runner:
                reference = [runner.infer_one(x) for x in case.inputs]
            cache[kind] = (case, reference)
        return cache[kind]

    return get
