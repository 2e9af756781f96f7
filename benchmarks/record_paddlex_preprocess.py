"""Record what PaddleX's own pre-processing produces for tests/data/preprocess_cases.json.

Run from the repo root with the PaddleX 3.7.2 venv (not the hpi environment):

    PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK=True /tmp/pdx/bin/python benchmarks/record_paddlex_preprocess.py

Writes tests/data/paddlex_preprocess.npz, which tests/models/test_preprocess.py
compares hpi's re-implementation against. No op is re-implemented here: the ops
are built by PaddleX's registered builder functions (``_FUNC_MAP``) and chained
the way the predictors do it:

* classification (paddlex/inference/models/image_classification/predictor.py):
  ``ClasRunnerPredictor._build`` calls builder(self, **args), or builder(self)
  when the args are empty/null, for each ``PreProcess.transform_ops`` entry,
  keyed by the name the builder returns; ``process`` then applies
  Read -> Resize -> Crop (if present) -> Normalize -> ToCHW -> ToBatch in that
  fixed order, whatever the YAML order.
* detection (paddlex/inference/models/object_detection/predictor.py):
  ``DetRunnerPredictor._build`` pops ``type`` from each ``Preprocess`` entry,
  calls the builder with the rest, and ``process`` applies the ops in YAML
  order after ReadImage(format="RGB"); the final ``ToBatch`` hands the model
  ``img_size`` (flipped to [h, w] = ``im_shape``), ``img`` and
  ``scale_factors`` (flipped to [h_scale, w_scale] = ``scale_factor``,
  default [1, 1] when no Resize ran). We build ToBatch with all three keys;
  which of them a real model receives depends on its name (``build_to_batch``).

Input: each image is a BGR uint8 ndarray. Both ReadImage classes
(paddlex/inference/common/reader/image_reader.py ``ReadImage.read`` and
paddlex/inference/models/object_detection/processors.py ``ReadImage.read``)
treat an ndarray as BGR and, with format="RGB", return
``cv2.cvtColor(img, cv2.COLOR_BGR2RGB)``: the ops therefore run on RGB
(except that detection's WarpAffine converts back to BGR first).

npz keys (np.savez_compressed):
* ``<group>/<case>/<image>/img``: float32, the batch entry the model gets
  (ToBatch output [0]); CHW when the ops end with ToCHWImage / Permute /
  PadStride.
* ``detection/<case>/<image>/im_shape``: float32 (2,), [h, w] from ToBatch.
* ``detection/<case>/<image>/scale_factor``: float32 (2,), [h_scale, w_scale].
  (WarpAffine records nothing in the data dict besides ``ori_img_size``, which
  ReadImage already set, so it adds no key.)
* ``<group>/<case>/<image>/error``: 0-d str, the exception text, when building
  or running the ops failed in PaddleX (no other key is then stored).
* ``meta/paddlex_version``: 0-d str.
"""

import copy
import json
import os
import traceback
from pathlib import Path
from types import SimpleNamespace

import numpy as np

os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")

import paddlex  # noqa: E402
from paddlex.inference.common.reader import ReadImage as ClasReadImage  # noqa: E402
from paddlex.inference.models.common import ToBatch as ClasToBatch  # noqa: E402
from paddlex.inference.models.image_classification.predictor import (  # noqa: E402
    ClasRunnerPredictor,
)
from paddlex.inference.models.object_detection.predictor import (  # noqa: E402
    DetRunnerPredictor,
)
from paddlex.inference.models.object_detection.processors import (  # noqa: E402
    ReadImage as DetReadImage,
)
from paddlex.inference.models.object_detection.processors import (  # noqa: E402
    ToBatch as DetToBatch,
)

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests/data/preprocess_cases.json"
OUT = ROOT / "tests/data/paddlex_preprocess.npz"
# Stand-in for the predictor passed as `self` to the builders. None of the
# pre-processing builders reads it, but the shared DetRunnerPredictor._FUNC_MAP
# entry "Resize" is, once paddlex has imported all models, the one from
# layout_analysis/predictor.py (``@DetRunnerPredictor.register("Resize")``),
# which stores ``self.target_size``; the op it returns is the same.
SELF = SimpleNamespace()


def make_image(spec):
    h, w = spec["height"], spec["width"]
    if spec["kind"] == "noise":
        return np.random.default_rng(spec["seed"]).integers(0, 256, (h, w, 3), dtype=np.uint8)
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    return ((x * 255 // max(w - 1, 1) + y * 3 + c * 40) % 256).astype(np.uint8)


def run_classification(ops_cfg, img):
    """ClasRunnerPredictor._build + process, minus the model."""
    pre = {"Read": ClasReadImage(format="RGB")}
    for cfg in copy.deepcopy(ops_cfg):
        key = list(cfg.keys())[0]
        func, args = ClasRunnerPredictor._FUNC_MAP[key], cfg.get(key, {})
        name, op = func(SELF, **args) if args else func(SELF)
        pre[name] = op
    pre["ToBatch"] = ClasToBatch()
    imgs = pre["Resize"](imgs=pre["Read"](imgs=[img]))
    if "Crop" in pre:
        imgs = pre["Crop"](imgs=imgs)
    imgs = pre["ToCHW"](imgs=pre["Normalize"](imgs=imgs))
    return {"img": pre["ToBatch"](imgs=imgs)[0][0]}


def run_detection(ops_cfg, img):
    """DetRunnerPredictor._build + process, minus the model."""
    ops = [DetReadImage(format="RGB")]
    for cfg in copy.deepcopy(ops_cfg):
        func = DetRunnerPredictor._FUNC_MAP[cfg.pop("type")]
        op = func(SELF, **cfg) if cfg else func(SELF)
        if op:
            ops.append(op)
    datas = [img]
    for op in ops:
        datas = op(datas)
    im_shape, x, scale = DetToBatch(("img_size", "img", "scale_factors"))(datas)
    return {"img": x[0], "im_shape": im_shape[0], "scale_factor": scale[0]}


def main():
    spec = json.loads(CASES.read_text())
    images = {name: make_image(s) for name, s in spec["images"].items()}
    out = {"meta/paddlex_version": np.array(paddlex.__version__)}
    for group, runner in (("classification", run_classification), ("detection", run_detection)):
        for case, ops_cfg in spec[group].items():
            for iname, img in images.items():
                prefix = f"{group}/{case}/{iname}/"
                try:
                    res = runner(ops_cfg, img.copy())
                except Exception as e:  # record PaddleX's own failure
                    out[prefix + "error"] = np.array(f"{type(e).__name__}: {e}")
                    print(prefix, "ERROR", traceback.format_exception_only(e)[-1].strip())
                    continue
                for k, v in res.items():
                    out[prefix + k] = np.asarray(v)
                    print(prefix + k, out[prefix + k].dtype, out[prefix + k].shape)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
