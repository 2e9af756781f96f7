"""Session fixtures for the backend tests: real inputs and Paddle Inference reference outputs."""

from __future__ import annotations

import pytest

from tests.backends.parity import ParityCase, make_case, paddle_outputs


@pytest.fixture(scope="session")
def paddle_reference(det_model, rec_model, cls_model, tmp_path_factory):
    """``paddle_reference(kind)`` -> (ParityCase, Paddle Inference's outputs: ``onednn``, ``plain`` (oneDNN
    off) and the runners' ``described``), computed once per session and model in a child process."""
    cache: dict[str, tuple[ParityCase, dict]] = {}

    def get(kind: str) -> tuple[ParityCase, dict]:
        if kind not in cache:
            artifacts = {"det": det_model, "rec": rec_model, "cls": cls_model}[kind]
            case = make_case(kind, artifacts)
            cache[kind] = (case, paddle_outputs(case, tmp_path_factory.mktemp(f"paddle-{kind}")))
        return cache[kind]

    return get


@pytest.fixture(scope="session")
def parity_case(paddle_reference):
    """``parity_case(kind)`` -> (ParityCase, reference outputs from Paddle Inference).

    The reference is Paddle Inference as users run it (oneDNN on, the
    default), computed once per session and model; test_paddle.py checks it
    against Paddle with oneDNN off, the reference of the export check.
    """
    def get(kind: str) -> tuple[ParityCase, list]:
        case, outputs = paddle_reference(kind)
        return case, outputs["onednn"]

    return get
