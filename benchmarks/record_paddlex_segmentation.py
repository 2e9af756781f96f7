"""Record PaddleX 3.7.2's own semantic-segmentation results as test fixtures.

Run with the PaddleX venv (not the hpi environment), from the repository root:

    PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK=True /tmp/pdx/bin/python benchmarks/record_paddlex_segmentation.py

Output: ``tests/data/paddlex_semantic_segmentation.npz`` (the label maps, ``<section>/<case>/<image>``) and
``tests/data/paddlex_semantic_segmentation.json`` (what ran, the result keys, the errors).

What it runs, on every ``tests/data/images/*.png`` (paths relative to ``tests/data``), with the stand-in
``tests/data/models/PP-LiteSeg-T`` made by ``tests/vision_models.py`` (argmax inside the model, as PaddleSeg
exports it):

* ``module``: ``paddlex.create_model(model_name="PP-LiteSeg-T", model_dir=...)``, ``predict(path, **kw)`` for
  each case of :data:`CASES` (``target_size`` as -1, a side, a ``[w, h]`` pair).
* ``created``: ``create_model(..., target_size=[320, 224])`` (the model's Resize replaced).
* ``batch``: ``predict([all paths], batch_size=3)``.
* ``pipeline``: ``create_pipeline(config=...)`` with PaddleX's own ``semantic_segmentation.yaml`` where only
  ``model_dir`` is set; default and ``target_size=200``.
* ``logits``: the same network exported without argmax (``output_op: none``), in a temporary directory.
* ``anomaly/*``: the stand-in ``tests/data/models/STFPM`` (anomaly detection): the module on every image, a
  batch of two, the pipeline with PaddleX's ``anomaly_detection.yaml``; and ``map_to_mask/*``: PaddleX's
  ``MapToMask`` on hand-made score maps.

Nothing is downloaded. Failures are stored under ``"errors"``.
"""

import argparse
import copy
import json
import os
import sys
import tempfile
from pathlib import Path

from paddlex_recording import ERRORS, guarded  # noqa: E402  (sets PaddleX up first)

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT / "tests"))
from vision_models import ANOMALY, SEGMENTER, write_stand_in_segmenter  # noqa: E402

CASES = {"default": {}, "target_size=-1": {"target_size": -1}, "target_size=200": {"target_size": 200},
         "target_size=[256,160]": {"target_size": [256, 160]}}
CREATED_TARGET = [320, 224]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DATA / "paddlex_semantic_segmentation")
    args = ap.parse_args()
    out_base = args.out.resolve()

    import paddlex

    os.chdir(DATA)
    images = [p.as_posix() for p in sorted(Path("images").glob("*.png"))]
    maps = {}
    meta = {"paddlex_version": paddlex.__version__, "numpy_version": np.__version__, "images": images,
            "cases": CASES, "created_target_size": CREATED_TARGET, "input_paths": {}}

    def record(section, results):
        if results is None:
            return
        meta["input_paths"][section] = [r["input_path"] for r in results]
        for index, r in enumerate(results):
            pred = np.asarray(r["pred"])
            maps[f"{section}/{index}"] = pred
        meta.setdefault("result_keys", list(results[0].keys()))
        meta.setdefault("pred_dtype", str(np.asarray(results[0]["pred"]).dtype))

    model = guarded("create_model", paddlex.create_model, model_name="PP-LiteSeg-T", model_dir=str(SEGMENTER))
    if model is not None:
        for case, kw in CASES.items():
            record(f"module/{case}", guarded(f"module:{case}", lambda kw=kw: [
                r for p in images for r in model.predict(p, **kw)]))
        record("batch", guarded("batch", lambda: list(model.predict(images, batch_size=3))))
    created = guarded("create_model:target_size", paddlex.create_model, model_name="PP-LiteSeg-T",
                      model_dir=str(SEGMENTER), target_size=CREATED_TARGET)
    if created is not None:
        record("created", guarded("created", lambda: [r for p in images for r in created.predict(p)]))

    yaml_path = Path(paddlex.__file__).parent / "configs" / "pipelines" / "semantic_segmentation.yaml"
    default_cfg = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    meta["default_config"] = default_cfg
    cfg = copy.deepcopy(default_cfg)
    cfg["SubModules"]["SemanticSegmentation"]["model_dir"] = str(SEGMENTER)
    pipe = guarded("create_pipeline", paddlex.create_pipeline, config=cfg)
    if pipe is not None:
        record("pipeline/default", guarded("pipeline:default", lambda: [r for p in images for r in pipe.predict(p)]))
        record("pipeline/target_size=200", guarded("pipeline:200", lambda: [
            r for p in images for r in pipe.predict(p, target_size=200)]))

    with tempfile.TemporaryDirectory() as tmp:
        logits_dir = write_stand_in_segmenter(Path(tmp) / "PP-LiteSeg-T", output_op="none")
        logits = guarded("create_model:logits", paddlex.create_model, model_name="PP-LiteSeg-T",
                         model_dir=str(logits_dir))
        if logits is not None:
            record("logits", guarded("logits", lambda: [r for p in images[:1] for r in logits.predict(p)]))

    # Anomaly detection (STFPM's form): the module, a batch, the pipeline with PaddleX's default YAML, and
    # PaddleX's MapToMask on hand-made score maps (blobs, specks, borders).
    uad = guarded("anomaly:create_model", paddlex.create_model, model_name="STFPM", model_dir=str(ANOMALY))
    if uad is not None:
        record("anomaly/module", guarded("anomaly:module", lambda: [r for p in images for r in uad.predict(p)]))
        record("anomaly/batch", guarded("anomaly:batch", lambda: list(uad.predict(images, batch_size=2))))
    uad_cfg = yaml.safe_load((yaml_path.parent / "anomaly_detection.yaml").read_text(encoding="utf-8"))
    meta["anomaly_default_config"] = uad_cfg
    cfg = copy.deepcopy(uad_cfg)
    cfg["SubModules"]["AnomalyDetection"]["model_dir"] = str(ANOMALY)
    uad_pipe = guarded("anomaly:create_pipeline", paddlex.create_pipeline, config=cfg)
    if uad_pipe is not None:
        record("anomaly/pipeline", guarded("anomaly:pipeline", lambda: [r for p in images for r in uad_pipe.predict(p)]))
    from paddlex.inference.models.anomaly_detection.processors import MapToMask

    rng = np.random.default_rng(5)
    probes = [rng.uniform(0, 0.02, (40, 56)).astype(np.float32),  # specks everywhere
              np.zeros((33, 47), np.float32)]
    blob = np.zeros((64, 64), np.float32)
    blob[10:30, 5:40] = 0.5
    blob[0:6, 0:64] = 0.02  # a band along the border
    blob[50, 50] = 1.0  # one pixel
    probes.append(blob)
    for index, score in enumerate(probes):
        maps[f"map_to_mask/score/{index}"] = score
        maps[f"map_to_mask/mask/{index}"] = MapToMask()([score[None, None].copy()])[0]
    meta["map_to_mask_probes"] = len(probes)

    meta["errors"] = ERRORS
    np.savez_compressed(out_base.with_suffix(".npz"), **maps)
    out_base.with_suffix(".json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out_base}.npz/.json ({len(maps)} maps, {len(ERRORS)} errors)")


if __name__ == "__main__":
    main()
