"""The warning a GPU device gets when TensorRT is missing (for hpi.backends.select)."""

from hpi.backends.tensorrt.fallback import gpu_backend_problems, gpu_fallback_note

NONE_OK = {"tensorrt": "tensorrt not installed", "onnxruntime": "the installed onnxruntime is the CPU build",
           "paddle": "hpi runs Paddle on the CPU only"}


def test_tensorrt_chosen_needs_no_note():
    assert gpu_fallback_note("tensorrt", NONE_OK) is None


def test_onnxruntime_gpu_fallback_names_what_is_missing():
    problems = {**NONE_OK, "onnxruntime": None}
    note = gpu_fallback_note("onnxruntime", problems, model="PP-OCRv4_mobile_det")
    assert "TensorRT is not available (tensorrt not installed)" in note
    assert "ONNX Runtime's GPU execution providers for PP-OCRv4_mobile_det" in note
    assert "NVIDIA" in note


def test_cpu_fallback_lists_every_reason_and_both_fixes():
    note = gpu_fallback_note(None, NONE_OK)
    assert "no GPU backend is usable" in note and "on the CPU" in note
    for why in NONE_OK.values():
        assert why in note
    assert "onnxruntime-gpu" in note and "TensorRT" in note
    assert "backend 'openvino' on the CPU" in gpu_fallback_note("openvino", NONE_OK)


def test_problems_on_this_machine():
    """Here: no TensorRT, CPU onnxruntime (onnxruntime-gpu lists GPU providers even without a GPU)."""
    problems = gpu_backend_problems()
    assert set(problems) == {"tensorrt", "onnxruntime", "paddle"}
    assert problems["paddle"]
    note = gpu_fallback_note(None, problems)
    assert note is not None and "GPU" in note
