"""Record PaddleX 3.7.2's own image-classification results as a JSON fixture.

Run with the PaddleX venv (not the hpi environment), from the repository root:

    PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK=True /tmp/pdx/bin/python \
        benchmarks/record_paddlex_vision.py \
        --textline-dir /tmp/vision/PP-LCNet_x0_25_textline_ori

Output: ``tests/data/paddlex_image_classification.json`` (``--out`` to change).

What it runs, on every ``tests/data/images/*.png`` (paths stored relative to
``tests/data``, e.g. ``images/scene.png``); every stored result is PaddleX's
``result.json["res"]``:

* ``module``: ``paddlex.create_model(model_name=<inference.yml Global.model_name>,
  model_dir=<dir>)`` for the stand-in ``tests/data/models/PP-LCNet_x0_5`` and the
  real ``PP-LCNet_x0_25_textline_ori``; ``predict(path)`` (the yml's default
  topk) and ``predict(path, topk=K)`` for K in (1, 3) / (1, 2).
* ``pipeline``: ``paddlex.create_pipeline(config=...)`` with PaddleX's own
  ``configs/pipelines/image_classification.yaml`` where only
  ``SubModules.ImageClassification.model_dir`` is set to the stand-in; default
  topk and ``topk=2``, one image per call, plus one call on the list of images.
* ``batch``: the stand-in module's ``predict([all paths], batch_size=3)``.
* ``probes``: topk larger than the number of classes, and PaddleX's ``Topk``
  post-processor on hand-made scores (ties, topk=0 handling).
* ``multilabel``: ``image_multilabel_classification`` on the stand-in ``tests/data/models/PP-LCNet_x1_0_ML``
  (the stand-in network with a sigmoid per class): thresholds as a number, a mapping with ``default`` and a
  list; a batch; the pipeline with PaddleX's default YAML; the thresholds PaddleX refuses.
* ``formatting``: ``str(result)`` and the ``print()`` log line (first 300
  chars), and ``save_to_img`` (needs a font download, so it runs in a child
  process with a timeout; the error is recorded).

Nothing is downloaded: models come from ``model_dir`` and the PaddleX cache is
a fresh temporary directory. Failures are stored under ``"errors"``.
"""

import argparse
import copy
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from paddlex_recording import ERRORS, guarded, model_name  # noqa: E402  (sets PaddleX up first)

import numpy as np  # noqa: E402
import yaml  # noqa: E402

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
DATA = ROOT / "tests" / "data"
STANDIN = DATA / "models" / "PP-LCNet_x0_5"


def res(result):
    """``result.json["res"]``, unchanged (inputs are given relative to tests/data)."""
    return result.json["res"]


def run_module(model, images, topks):
    out = {"default": [res(r) for p in images for r in model.predict(str(p))]}
    for k in topks:
        out[f"topk={k}"] = [res(r) for p in images for r in model.predict(str(p), topk=k)]
    return out


def capture_print(result):
    """What ``result.print()`` logs (PaddleX logs it via its logger at INFO)."""
    logger = logging.getLogger("paddlex")
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(logging.Formatter("%(message)s"))
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        result.print()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    return buf.getvalue()


def save_to_img_child(image):
    """Child-process body: try ``save_to_img`` once and print the outcome as JSON."""
    import paddlex

    model = paddlex.create_model(model_name=model_name(STANDIN), model_dir=str(STANDIN))
    result = next(iter(model.predict(str(image))))
    with tempfile.TemporaryDirectory() as out:
        try:
            result.save_to_img(out)
            outcome = {"ok": True, "files": sorted(os.listdir(out))}
        except Exception as e:
            outcome = {"ok": False, "type": f"{type(e).__module__}.{type(e).__name__}",
                       "message": str(e)[:500]}
    print("SAVE_TO_IMG " + json.dumps(outcome))


def probe_save_to_img(image, timeout):
    cmd = [sys.executable, str(SCRIPT), "--save-to-img-child", str(image)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ))
    except subprocess.TimeoutExpired:
        return {"ok": False, "type": "TimeoutExpired",
                "message": f"save_to_img did not finish within {timeout}s"}
    for line in p.stdout.splitlines():
        if line.startswith("SAVE_TO_IMG "):
            return json.loads(line[len("SAVE_TO_IMG "):])
    return {"ok": False, "type": "ChildFailed", "returncode": p.returncode,
            "message": (p.stderr or p.stdout)[-1000:]}


def probe_topk_processor():
    """PaddleX's ``Topk`` post-processor on hand-made score rows."""
    from paddlex.inference.models.image_classification.processors import Topk

    cases = {
        "all_equal_4": ([[0.25, 0.25, 0.25, 0.25]], 4),
        "tie_after_max_5": ([[0.1, 0.3, 0.2, 0.3, 0.1]], 5),
        "all_equal_20": ([[0.05] * 20], 5),
        "rounding": ([[0.123456789, 0.876543211]], 2),
        "topk_above_classes": ([[0.2, 0.5, 0.3]], 10),
    }
    out = {}
    for name, (rows, k) in cases.items():
        ids, scores, labels = Topk(class_ids=None)([np.asarray(rows, np.float32)], topk=k)
        out[name] = {"scores_in": rows, "topk": k,
                     "class_ids": ids.tolist(),
                     "scores": [[float(s) for s in row] for row in scores],
                     "score_dtype": str(scores[0].dtype),
                     "label_names": labels}
    return out


MULTILABEL = DATA / "models" / "PP-LCNet_x1_0_ML"
ML_CASES = {"default": {}, "threshold=0.7": {"threshold": 0.7}, "threshold=0.0": {"threshold": 0.0},
            "threshold=mapping": {"threshold": {"default": 0.6, 7: 0.95, "0": 0.99}},
            "threshold=list": {"threshold": [0.5, 0.9, 0.5, 0.5, 0.9, 0.6, 0.5, 0.99, 0.5, 0.7]}}


def record_multilabel(paddlex, images):
    """PaddleX's image_multilabel_classification on the stand-in PP-LCNet_x1_0_ML (module cases, a batch,
    the pipeline with PaddleX's default YAML, and the thresholds PaddleX refuses)."""
    model = paddlex.create_model(model_name=model_name(MULTILABEL), model_dir=str(MULTILABEL))
    out = {"cases": ML_CASES,
           "module": {case: guarded(f"multilabel:{case}", lambda kw=kw: [
               res(r) for p in images for r in model.predict(str(p), **kw)]) for case, kw in ML_CASES.items()},
           "batch": guarded("multilabel:batch", lambda: [
               res(r) for r in model.predict([str(p) for p in images], batch_size=3)])}
    yaml_path = Path(paddlex.__file__).parent / "configs" / "pipelines" / "image_multilabel_classification.yaml"
    default_cfg = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    cfg = copy.deepcopy(default_cfg)
    cfg["SubModules"]["ImageMultiLabelClassification"]["model_dir"] = str(MULTILABEL)
    cfg["SubModules"]["ImageMultiLabelClassification"]["model_name"] = model_name(MULTILABEL)
    pipe = paddlex.create_pipeline(config=cfg)
    out["pipeline"] = {"default_config": default_cfg,
                       "default": [res(r) for p in images for r in pipe.predict(str(p))],
                       "threshold=0.7": [res(r) for p in images for r in pipe.predict(str(p), threshold=0.7)]}
    refused = {}
    for case, threshold in (("no_default", {3: 0.5}), ("int", 1)):
        try:
            list(model.predict(str(images[0]), threshold=threshold))
            refused[case] = None
        except Exception as e:
            refused[case] = f"{type(e).__name__}: {e}"[:300]
    out["refused"] = refused
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--textline-dir", type=Path)
    ap.add_argument("--out", type=Path, default=DATA / "paddlex_image_classification.json")
    ap.add_argument("--save-timeout", type=int, default=90)
    ap.add_argument("--save-to-img-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.save_to_img_child:
        return save_to_img_child(args.save_to_img_child)
    if args.textline_dir is None:
        ap.error("--textline-dir is required")

    import paddlex

    textline = args.textline_dir.resolve()
    args.out = args.out.resolve()
    # Run from tests/data so PaddleX itself reports input_path as "images/x.png".
    os.chdir(DATA)
    images = sorted(Path("images").glob("*.png"))
    out = {
        "paddlex_version": paddlex.__version__,
        "numpy_version": np.__version__,
        "images": [p.as_posix() for p in images],
        "models": {},
        "module": {},
    }

    standin = None
    for key, mdir, topks in (("standin", STANDIN, (1, 3)), ("textline", textline, (1, 2))):
        name = model_name(mdir)
        model = guarded(f"create_model:{key}", paddlex.create_model,
                        model_name=name, model_dir=str(mdir))
        if model is None:
            continue
        if key == "standin":
            standin = model
        pred = getattr(model, "_predictor", model)
        out["models"][key] = {"model_name": name,
                              "model_dir": str(mdir.relative_to(ROOT)) if mdir.is_relative_to(ROOT) else mdir.name,
                              "predictor_class": type(pred).__name__,
                              "default_topk": getattr(pred, "topk", None)}
        out["module"][key] = guarded(f"module:{key}", run_module, model, images, topks)

    # Pipeline from PaddleX's default YAML, model_dir pointed at the stand-in.
    yaml_path = Path(paddlex.__file__).parent / "configs" / "pipelines" / "image_classification.yaml"
    with open(yaml_path, encoding="utf-8") as f:
        default_cfg = yaml.safe_load(f)
    cfg = copy.deepcopy(default_cfg)
    cfg["SubModules"]["ImageClassification"]["model_dir"] = str(STANDIN)
    pipe = guarded("create_pipeline", paddlex.create_pipeline, config=cfg)
    if pipe is not None:
        pipe_out = {"default_config": default_cfg,
                    "default": guarded("pipeline:default", lambda: [
                        res(r) for p in images for r in pipe.predict(str(p))]),
                    "topk=2": guarded("pipeline:topk=2", lambda: [
                        res(r) for p in images for r in pipe.predict(str(p), topk=2)]),
                    "list_input_default": guarded("pipeline:list", lambda: [
                        res(r) for r in pipe.predict([str(p) for p in images])])}
        first = pipe_out["default"][0] if pipe_out["default"] else {}
        pipe_out["res_keys"] = list(first.keys())
        pipe_out["json_top_keys"] = guarded("pipeline:json_keys", lambda: list(
            next(iter(pipe.predict(str(images[0])))).json.keys()))
        out["pipeline"] = pipe_out

    if standin is not None:
        batch = guarded("batch", lambda: [
            res(r) for r in standin.predict([str(p) for p in images], batch_size=3)])
        out["batch"] = {"batch_size": 3, "results": batch}
        single = (out["module"].get("standin") or {}).get("default")
        if batch and single:
            fields = ("class_ids", "scores", "label_names", "input_path")
            out["batch"]["equal_to_single_image_calls"] = {
                f: [b[f] == s[f] for b, s in zip(batch, single)] for f in fields}

        probes = {}
        probes["standin_topk=20"] = guarded("probe:topk20", lambda: [
            res(r) for r in standin.predict(str(images[0]), topk=20)])
        probes["standin_topk=0"] = guarded("probe:topk0", lambda: [
            res(r) for r in standin.predict(str(images[0]), topk=0)])
        out["probes"] = probes

        def formatting():
            r = next(iter(standin.predict(str(images[0]))))
            return {"image": images[0].as_posix(),
                    "result_type": type(r).__name__,
                    "result_keys": list(r.keys()),
                    "str_result": str(r)[:300],
                    "print_output": capture_print(r)[:300]}
        out["formatting"] = guarded("formatting", formatting) or {}
        out["formatting"]["save_to_img"] = probe_save_to_img(images[0], args.save_timeout)

    out.setdefault("probes", {})
    def textline_topk3():
        tl = paddlex.create_model(model_name=model_name(textline), model_dir=str(textline))
        return [res(r) for r in tl.predict(str(images[0]), topk=3)]
    out["probes"]["textline_topk=3"] = guarded("probe:textline_topk3", textline_topk3)
    out["probes"]["topk_processor"] = guarded("probe:topk_processor", probe_topk_processor)

    out["multilabel"] = guarded("multilabel", record_multilabel, paddlex, images)

    out["errors"] = ERRORS
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {args.out} ({len(ERRORS)} errors)")


if __name__ == "__main__":
    main()
