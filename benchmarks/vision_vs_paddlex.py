"""hpi against PaddleX 3.7.2 on the vision modules: the same model directories and images, interleaved.

    .venv/bin/python benchmarks/vision_vs_paddlex.py --paddlex-python /tmp/pdx/bin/python

No trained weights of PaddleX's vision models are reachable here, so the model directories are made by this
script (in the PaddleX venv, which has paddle and PaddleX's modeling code) into ``--models`` with seeded
weights; their timings are those of the real architectures' sizes, not their accuracy:

* ``PP-LCNet_x0_5``: PaddleX's own ``PPLCNet`` (``paddlex/inference/models/image_classification/modeling/
  pplcnet.py``, scale 0.5, 1000 classes, softmax), exported with PaddleX's PP-LCNet_x0_5 ``inference.yml``
  (resize_short 256, crop 224, ImageNet normalisation).
* ``PicoDet-S``: a detector of PicoDet-S's size: PaddleX's ``PPLCNet`` encoder at scale 0.75 as the backbone,
  a stride-16 conv head (80 classes) and ``multiclass_nms3`` inside the graph (PicoDet's export settings),
  416×416 input, with PaddleX's PicoDet-S ``inference.yml`` form.
* ``PP-LiteSeg-T``: a segmenter of PP-LiteSeg-T's order of size: PaddleX's ``PPLCNet`` encoder at scale 1.0, a
  1×1 conv head (19 classes), bilinear upsampling to the input and argmax inside (PaddleSeg's export),
  any input size (no Resize: each image at its own size, as PaddleX's PP-LiteSeg-T config has it).

Each engine runs in its own process (PaddleX in its venv, hpi here), both loaded before timing; rounds
alternate which goes first, with a pause before each turn (``--settle-s``: the other engine's worker threads
stop spinning); each round times ``--calls`` predictions of one image per call (batch 1, the
image read from its file by the engine, as a user calls ``predict(path)``: ``files``; or given as the decoded
BGR array, so only the engines' own work is timed: ``arrays``). Reported: the median per-call ms of each engine
over all rounds (and per image), the ratio of the medians and ``speedup_total``: the ratio of the sums of the
per-image medians (the image set as a whole). Output: ``benchmarks/vision_vs_paddlex.json`` with the CPU
flags the figures came from.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ["shapes.png", "scene.png", "photo.jpg"]
MODELS = {"image_classification": "PP-LCNet_x0_5", "object_detection": "PicoDet-S",
          "semantic_segmentation": "PP-LiteSeg-T"}

LCNET_YML = """Global:
  model_name: PP-LCNet_x0_5
PreProcess:
  transform_ops:
  - ResizeImage:
      resize_short: 256
  - CropImage:
      size: 224
  - NormalizeImage:
      channel_num: 3
      mean: [0.485, 0.456, 0.406]
      order: ''
      scale: 0.00392156862745098
      std: [0.229, 0.224, 0.225]
  - ToCHWImage: null
PostProcess:
  Topk:
    topk: 5
    label_list: [{labels}]
"""

LITESEG_YML = """Deploy:
  input_shape: [-1, 3, -1, -1]
  model: inference.json
  output_dtype: int32
  output_op: argmax
  params: inference.pdiparams
  transforms:
  - type: Normalize
Global:
  model_name: PP-LiteSeg-T
"""

PICODET_YML = """mode: paddle
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
  target_size: [416, 416]
  type: Resize
- mean: [0.485, 0.456, 0.406]
  norm_type: mean_std
  std: [0.229, 0.224, 0.225]
  type: NormalizeImage
- type: Permute
label_list: [{labels}]
"""


# ------------------------------------------------------------------------------------------ model making

def make_models(directory: Path) -> None:
    """Runs in the PaddleX venv: export the two model directories (seeded)."""
    import numpy as np
    import paddle
    import paddle.nn as nn
    from paddle import _C_ops
    from paddlex.inference.models.image_classification.modeling.pplcnet import PPLCNet, PPLCNetConfig

    paddle.seed(2026)

    class Classifier(nn.Layer):
        def __init__(self):
            super().__init__()
            self.m = PPLCNet(PPLCNetConfig(scale=0.5, num_labels=1000))

        def forward(self, x):
            m = self.m
            h = m.act_fn(m.last_convolution(m.avg_pool(m.encoder(x)))) * (1 - m.hidden_dropout_prob)
            return nn.functional.softmax(m.head(m.flatten(h)), axis=-1)

    class Detector(nn.Layer):
        def __init__(self, classes=80, size=416, stride=16):
            super().__init__()
            self.backbone = PPLCNet(PPLCNetConfig(scale=0.75, num_labels=0)).encoder
            self.neck = nn.Sequential(nn.Conv2D(384, 96, 1), nn.Hardswish())
            self.tower = nn.Sequential(nn.Conv2D(96, 96, 3, padding=1, groups=96), nn.Conv2D(96, 96, 1),
                                       nn.Hardswish())
            self.cls, self.reg = nn.Conv2D(96, classes, 1), nn.Conv2D(96, 4, 1)
            cells = size // stride
            ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
            self.centres = paddle.to_tensor(np.stack([xs.ravel(), ys.ravel()], 1).astype("float32") * stride
                                            + stride / 2)

        def forward(self, image, scale_factor):
            h = nn.functional.interpolate(self.neck(self.backbone(image)), scale_factor=2, mode="nearest")
            h = self.tower(h)
            scores = nn.functional.sigmoid(self.cls(h) - 3.0).flatten(2)
            sides = (nn.functional.softplus(self.reg(h)) * 16.0 + 8.0).flatten(2).transpose([0, 2, 1])
            boxes = paddle.concat([self.centres - sides[:, :, :2], self.centres + sides[:, :, 2:]], axis=2)
            scale = paddle.concat([scale_factor[:, 1:2], scale_factor[:, 0:1]], axis=1).tile([1, 2])
            out, _, count = _C_ops.multiclass_nms3(boxes / scale.unsqueeze(1), scores, None, 0.025, 1000, 100,
                                                   0.6, True, 1.0, -1)
            return out, count

    class Segmenter(nn.Layer):
        def __init__(self, classes=19):
            super().__init__()
            self.backbone = PPLCNet(PPLCNetConfig(scale=1.0, num_labels=0)).encoder
            self.head = nn.Sequential(nn.Conv2D(512, 128, 1), nn.ReLU(), nn.Conv2D(128, classes, 1))

        def forward(self, x):
            logits = self.head(self.backbone(x))
            logits = nn.functional.interpolate(logits, size=paddle.shape(x)[2:], mode="bilinear")
            return paddle.argmax(logits, axis=1, dtype="int32")

    labels = lambda n: ", ".join(f"class_{i}" for i in range(n))  # noqa: E731
    for name, model, specs, yml in (
        ("PP-LCNet_x0_5", Classifier(), [paddle.static.InputSpec([None, 3, 224, 224], "float32", "x")],
         LCNET_YML.format(labels=labels(1000))),
        ("PicoDet-S", Detector(), [paddle.static.InputSpec([None, 3, 416, 416], "float32", "image"),
                                   paddle.static.InputSpec([None, 2], "float32", "scale_factor")],
         PICODET_YML.format(labels=labels(80))),
        ("PP-LiteSeg-T", Segmenter(), [paddle.static.InputSpec([None, 3, None, None], "float32", "x")],
         LITESEG_YML),
    ):
        model.eval()
        out = directory / name
        out.mkdir(parents=True, exist_ok=True)
        paddle.jit.save(paddle.jit.to_static(model, input_spec=specs, full_graph=True), str(out / "inference"))
        (out / "inference.yml").write_text(yml, encoding="utf-8")
        for leftover in out.glob("inference.pdiparams.info"):
            leftover.unlink()


def write_photo(path: Path) -> None:
    """A 640×480 photo-like JPEG (shaded background, shapes, noise; quality 90), seeded."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:480, 0:640]
    image = np.stack([90 + xx * 120 // 640, 110 + yy * 100 // 480, 150 + (xx + yy) * 60 // 1120], 2)
    image = image.astype(np.uint8)
    for _ in range(12):
        centre = (int(rng.integers(40, 600)), int(rng.integers(40, 440)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        cv2.circle(image, centre, int(rng.integers(15, 70)), colour, -1)
    image = np.clip(image.astype(np.int16) + rng.integers(-15, 16, image.shape), 0, 255).astype(np.uint8)
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90])


# ------------------------------------------------------------------------------------------------ workers

def worker(engine: str, module: str, model_dir: Path, images: list) -> None:
    """Load the model, then answer ``run N`` lines with the per-call ms of N predictions (JSON)."""
    name = MODELS[module]
    if engine == "paddlex":
        os.environ["PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK"] = "True"
        import paddlex

        model = paddlex.create_model(model_name=name, model_dir=str(model_dir))
    else:
        from hpi import create_model

        model = create_model(name, model_dir=str(model_dir))
    for image in images:  # warm-up: each image once
        list(model.predict(image))
    print("ready", flush=True)
    for line in sys.stdin:
        count = int(line.split()[1])
        times = []
        for index in range(count):
            start = time.perf_counter()
            for _ in model.predict(images[index % len(images)]):
                pass
            times.append((time.perf_counter() - start) * 1e3)
        print(json.dumps(times), flush=True)


def cpu_flags() -> dict:
    info = {"machine": platform.machine(), "cores": os.cpu_count()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        info["model"] = next(line.split(":", 1)[1].strip() for line in text.splitlines() if "model name" in line)
        flags = next(line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags"))
        info["flags"] = sorted(f for f in flags if f.startswith(("avx", "amx", "fma", "sse4")) or "vnni" in f)
    except (OSError, StopIteration):
        pass
    return info


def start(cmd: list[str]) -> subprocess.Popen:
    process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    for line in process.stdout:
        if line.strip() == "ready":
            return process
    raise RuntimeError(f"{cmd[0]} worker did not start (exit {process.wait()})")


def ask(process: subprocess.Popen, calls: int) -> list[float]:
    process.stdin.write(f"run {calls}\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def interleaved(workers: dict[str, subprocess.Popen], rounds: int, count: int, settle_s: float) -> dict[str, list]:
    """Every worker's measurements over ``rounds`` rounds, ``count`` a turn, the order rotated each round (A B,
    then B A for two), with a pause before each turn so the other engine's idle threads stop spinning; the
    workers are stopped at the end."""
    measured: dict[str, list] = {name: [] for name in workers}
    names = list(workers)
    try:
        for round_index in range(rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                time.sleep(settle_s)
                measured[name] += ask(workers[name], count)
    finally:
        for process in workers.values():
            process.stdin.close()
            process.wait(timeout=60)
    return measured


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paddlex-python", default="/tmp/pdx/bin/python")
    ap.add_argument("--models", type=Path, default=Path("/tmp/hpi-vision-bench"))
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--calls", type=int, default=21, help="calls per round (a multiple of the 3 images)")
    ap.add_argument("--settle-s", type=float, default=0.5, help="pause before each engine's turn")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "vision_vs_paddlex.json")
    ap.add_argument("--make-models", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--arrays", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker", nargs=2, metavar=("ENGINE", "MODULE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    images = [str(args.models / "images" / name) for name in IMAGES]
    if args.make_models:
        return make_models(args.models)
    if args.worker:
        engine, module = args.worker
        name = MODELS[module]
        if args.arrays:  # decoded once here (BGR, as cv2.imread gives it): the engines' own work only
            import cv2

            images = [cv2.imread(path) for path in images]
        return worker(engine, module, args.models / name, images)

    (args.models / "images").mkdir(parents=True, exist_ok=True)
    for name in IMAGES[:2]:
        (args.models / "images" / name).write_bytes((ROOT / "tests" / "data" / "images" / name).read_bytes())
    write_photo(args.models / "images" / "photo.jpg")
    if not all((args.models / name / "inference.yml").exists() for name in MODELS.values()):
        subprocess.run([args.paddlex_python, __file__, "--make-models", "--models", str(args.models)], check=True,
                       cwd=ROOT)
    results = {"cpu": cpu_flags(), "rounds": args.rounds, "calls_per_round": args.calls, "images": IMAGES,
               "command": "python benchmarks/vision_vs_paddlex.py --paddlex-python /tmp/pdx/bin/python",
               "modules": {}}
    for module in MODELS:
        for inputs in ("files", "arrays"):
            common = [__file__, "--models", str(args.models), *(["--arrays"] if inputs == "arrays" else []),
                      "--worker"]
            workers = {"paddlex": start([args.paddlex_python, *common, "paddlex", module]),
                       "hpi": start([sys.executable, *common, "hpi", module])}
            times = interleaved(workers, args.rounds, args.calls, args.settle_s)
            medians = {engine: statistics.median(values) for engine, values in times.items()}
            per_image = {image: {engine: round(statistics.median(values[i::len(IMAGES)]), 3)
                                 for engine, values in times.items()}
                         for i, image in enumerate(IMAGES)}
            entry = {
                "median_ms": {k: round(v, 3) for k, v in medians.items()},
                "median_ms_per_image": per_image,
                "min_ms": {k: round(min(v), 3) for k, v in times.items()},
                "speedup_median": round(medians["paddlex"] / medians["hpi"], 2),
                # the image set as a whole: the sum of each image's median (images of different sizes weigh
                # by their cost, not by which one happens to be the middle value)
                "speedup_total": round(sum(v["paddlex"] for v in per_image.values())
                                       / sum(v["hpi"] for v in per_image.values()), 2),
            }
            results["modules"].setdefault(module, {})[inputs] = entry
            print(module, inputs, json.dumps(entry), flush=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
