"""Record PaddleX 3.7.2's own object-detection results as a JSON fixture.

Run with the PaddleX venv (not the hpi environment), from the repository root:

    PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK=True /tmp/pdx/bin/python benchmarks/record_paddlex_detection.py

Output: ``tests/data/paddlex_object_detection.json`` (``--out`` to change).

What it runs, on every ``tests/data/images/*.png`` (paths stored relative to ``tests/data``); every stored
result is PaddleX's ``result.json["res"]``:

* ``module``: ``paddlex.create_model(model_name=<Global.model_name>, model_dir=<dir>)`` for the stand-ins
  ``tests/data/models/PicoDet-S`` (fixed 320×320 input) and ``tests/data/models/FasterRCNN-ResNet50``
  (dynamic input, keep-ratio resize, im_shape input), made by ``tests/vision_models.py``; ``predict(path,
  **kw)`` on every image, and for each case of :data:`CASES` on :data:`CASE_IMAGES` (threshold as a number and per class, the layout rules).
* ``img_size``: ``create_model(..., img_size=...)`` on both (PaddleX refuses it for PicoDet-S).
* ``batch``: ``predict([all paths], batch_size=3)`` on both.
* ``pipeline``: ``create_pipeline(config=...)`` with PaddleX's own ``object_detection.yaml`` and
  ``small_object_detection.yaml`` where only ``model_dir`` is set (small object detection on a copy of the
  PicoDet-S stand-in named PP-YOLOE_plus_SOD-L, written to a temporary directory the same way the tests
  write it: ``sod_copy``); default and ``threshold=0.3``.
* ``rotated``: the stand-in ``tests/data/models/PP-YOLOE-R-L`` (PP-YOLOE-R's form, ``[N, 10]`` rows) through
  PaddleX's rotated detection module (:data:`ROTATED_CASES` on :data:`CASE_IMAGES`) and pipeline (its YAML).
* ``instance``: the stand-in ``tests/data/models/Mask-RT-DETR-S`` (Mask-RT-DETR's form: rows, count, masks at
  the image's size) through PaddleX's instance segmentation module, each mask stored as its shape, pixel
  count and the COCO RLE string PaddleX's server sends (its ``_rle``'s code: pycocotools' ``encode``).
* ``layout``: the PicoDet-S stand-in as ``PP-DocLayout-S`` (``layout_copy``: labels text, image, formula,
  table) through PaddleX's layout_detection module, for each case of :data:`LAYOUT_CASES` (the layout rules
  with numbers, pairs and per-class mappings).

Nothing is downloaded: models come from ``model_dir`` and the PaddleX cache is a fresh temporary directory.
Failures are stored under ``"errors"``.
"""

import argparse
import copy
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from paddlex_recording import ERRORS, guarded, model_name  # noqa: E402  (sets PaddleX up first)

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT / "tests"))
from vision_models import layout_copy, sod_copy  # noqa: E402

MODELS = {"fixed": DATA / "models" / "PicoDet-S", "dynamic": DATA / "models" / "FasterRCNN-ResNet50"}
ROTATED = DATA / "models" / "PP-YOLOE-R-L"
INSTANCE = DATA / "models" / "Mask-RT-DETR-S"
ROTATED_CASES = {"default": {}, "threshold=0.3": {"threshold": 0.3},
                 "threshold=per_class": {"threshold": {0: 0.9, 2: 0.2}}}
CASES = {
    "default": {},
    "threshold=0.3": {"threshold": 0.3},
    "threshold=per_class": {"threshold": {0: 0.9, 1: 0.3, 3: 0.2}},
    "layout_nms": {"layout_nms": True},
    "unclip=1.2": {"layout_unclip_ratio": 1.2},
    "unclip=pair": {"layout_unclip_ratio": [1.1, 1.3]},
    "merge=large": {"layout_merge_bboxes_mode": "large"},
    "merge=small": {"layout_merge_bboxes_mode": "small"},
    "nms+threshold=0.2": {"layout_nms": True, "threshold": 0.2},
}
LAYOUT_CASES = {
    **CASES,
    "merge=per_class": {"layout_merge_bboxes_mode": {0: "large", 3: "small"}},
    "unclip=per_class": {"layout_unclip_ratio": {0: [1.2, 1.1], 2: [1.5, 1.5]}},
    "all": {"threshold": 0.3, "layout_nms": True, "layout_unclip_ratio": [1.05, 1.1],
            "layout_merge_bboxes_mode": "large"},
}
CASE_IMAGES = ["images/line.png", "images/scene.png", "images/shapes.png"]  # the cases past "default"
IMG_SIZES = {"fixed": [256, 256], "dynamic": [224, 320]}


def to_plain(value):
    """``result.json["res"]`` in JSON types (PaddleX's boxes hold numpy floats), floats rounded to 5 decimals
    (the tests compare scores within 1e-4 and boxes within 1 px)."""
    def rounded(v):
        if isinstance(v, float):
            return round(v, 5)
        if isinstance(v, list):
            return [rounded(x) for x in v]
        if isinstance(v, dict):
            return {k: rounded(x) for k, x in v.items()}
        return v
    return rounded(json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v))))


def res(result):
    return to_plain(result.json["res"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DATA / "paddlex_object_detection.json")
    args = ap.parse_args()
    args.out = args.out.resolve()

    import paddlex

    os.chdir(DATA)  # PaddleX reports input_path as "images/x.png"
    images = [p.as_posix() for p in sorted(Path("images").glob("*.png"))]
    out = {"paddlex_version": paddlex.__version__, "numpy_version": np.__version__, "images": images,
           "cases": CASES, "layout_cases": LAYOUT_CASES, "case_images": CASE_IMAGES, "img_sizes": IMG_SIZES, "models": {}, "module": {}, "img_size": {}, "batch": {}}
    for key, directory in MODELS.items():
        name = model_name(directory)
        out["models"][key] = {"model_name": name, "model_dir": str(directory.relative_to(ROOT))}
        model = guarded(f"create_model:{key}", paddlex.create_model, model_name=name, model_dir=str(directory))
        if model is None:
            continue
        out["module"][key] = {case: guarded(f"module:{key}:{case}", lambda kw=kw, case=case: [
            res(r) for p in (images if case == "default" else CASE_IMAGES) for r in model.predict(p, **kw)])
            for case, kw in CASES.items()}
        out["batch"][key] = guarded(f"batch:{key}", lambda: [res(r) for r in model.predict(images, batch_size=3)])
        sized = guarded(f"img_size:{key}", paddlex.create_model, model_name=name, model_dir=str(directory),
                        img_size=IMG_SIZES[key])
        out["img_size"][key] = (guarded(f"img_size_predict:{key}", lambda: [res(r) for p in images
                                                                           for r in sized.predict(p)])
                                if sized is not None else {"error": ERRORS[-1]["message"]})

    configs = Path(paddlex.__file__).parent / "configs" / "pipelines"
    out["pipeline"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sod_dir = sod_copy(MODELS["fixed"], Path(tmp) / "PP-YOLOE_plus_SOD-L")
        for pipeline, key, directory in (("object_detection", "ObjectDetection", MODELS["fixed"]),
                                         ("small_object_detection", "SmallObjectDetection", sod_dir)):
            default_cfg = yaml.safe_load((configs / f"{pipeline}.yaml").read_text(encoding="utf-8"))
            cfg = copy.deepcopy(default_cfg)
            cfg["SubModules"][key]["model_dir"] = str(directory)
            pipe = guarded(f"create_pipeline:{pipeline}", paddlex.create_pipeline, config=cfg)
            if pipe is None:
                continue
            out["pipeline"][pipeline] = {
                "default_config": default_cfg,
                "default": guarded(f"pipeline:{pipeline}", lambda: [res(r) for p in images
                                                                    for r in pipe.predict(p)]),
                "threshold=0.3": guarded(f"pipeline:{pipeline}:0.3", lambda: [
                    res(r) for p in images for r in pipe.predict(p, threshold=0.3)]),
            }
        shutil.rmtree(sod_dir, ignore_errors=True)
        # The stand-in as a layout model (PP-DocLayout-S's name, labels text/image/formula/table): PaddleX's
        # layout_detection module with its layout rules.
        layout_dir = layout_copy(MODELS["fixed"], Path(tmp) / "PP-DocLayout-S")
        layout = guarded("create_model:layout", paddlex.create_model, model_name="PP-DocLayout-S",
                         model_dir=str(layout_dir))
        if layout is not None:
            out["layout"] = {case: guarded(f"layout:{case}", lambda kw=kw: [
                res(r) for p in CASE_IMAGES for r in layout.predict(p, **kw)]) for case, kw in LAYOUT_CASES.items()}

    # Rotated detection (PP-YOLOE-R's form: [N, 10] rows from multiclass_nms3 over polygons).
    rotated = guarded("create_model:rotated", paddlex.create_model, model_name="PP-YOLOE-R-L", model_dir=str(ROTATED))
    if rotated is not None:
        out["rotated"] = {case: guarded(f"rotated:{case}", lambda kw=kw: [
            res(r) for p in CASE_IMAGES for r in rotated.predict(p, **kw)]) for case, kw in ROTATED_CASES.items()}
        out["rotated_cases"] = ROTATED_CASES
    default_cfg = yaml.safe_load((configs / "rotated_object_detection.yaml").read_text(encoding="utf-8"))
    cfg = copy.deepcopy(default_cfg)
    cfg["SubModules"]["RotatedObjectDetection"]["model_dir"] = str(ROTATED)
    pipe = guarded("create_pipeline:rotated", paddlex.create_pipeline, config=cfg)
    if pipe is not None:
        out["pipeline"]["rotated_object_detection"] = {
            "default_config": default_cfg,
            "default": guarded("pipeline:rotated", lambda: [res(r) for p in CASE_IMAGES for r in pipe.predict(p)]),
            "threshold=0.3": guarded("pipeline:rotated:0.3", lambda: [
                res(r) for p in CASE_IMAGES for r in pipe.predict(p, threshold=0.3)])}

    # Instance segmentation (Mask-RT-DETR's form): boxes and masks (cut to the boxes), and the COCO RLE strings
    # PaddleX's server makes of them (its serving app's _rle, pycocotools).
    instance = guarded("create_model:instance", paddlex.create_model, model_name="Mask-RT-DETR-S",
                       model_dir=str(INSTANCE))
    if instance is not None:
        import pycocotools.mask as mask_util

        def _rle(mask):  # PaddleX's serving app's _rle (importing the app needs PaddleX's serving plugin)
            rle_res = mask_util.encode(np.asarray(mask[..., None], order="F", dtype="uint8"))[0]
            return rle_res["counts"].decode("utf-8")

        def instances(kw):
            out_i = []
            for p in CASE_IMAGES:
                for r in instance.predict(p, **kw):
                    entry = res(r)
                    entry["masks"] = [{"shape": list(m.shape), "rle": _rle(m), "sum": int(np.asarray(m).sum())}
                                      for m in r["masks"]]
                    out_i.append(entry)
            return out_i

        out["instance"] = {case: guarded(f"instance:{case}", instances, kw)
                           for case, kw in {"default": {}, "threshold=0.3": {"threshold": 0.3}}.items()}
    default_cfg = yaml.safe_load((configs / "instance_segmentation.yaml").read_text(encoding="utf-8"))
    out["pipeline"]["instance_segmentation"] = {"default_config": default_cfg}

    out["errors"] = ERRORS
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out} ({len(ERRORS)} errors)")


if __name__ == "__main__":
    main()
