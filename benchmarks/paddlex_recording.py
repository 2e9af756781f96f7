"""What the scripts that record PaddleX 3.7.2's own results share (``record_paddlex_{vision,detection,
segmentation}.py``, run in PaddleX's venv): importing this first sets PaddleX up to touch nothing outside
(no model-source check, a fresh temporary model cache); ``guarded`` records a failure in ``ERRORS`` instead of
raising it; ``model_name`` reads a model directory's name."""

import os
import tempfile
import traceback
from pathlib import Path

os.environ["PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK"] = "True"
_CACHE = tempfile.TemporaryDirectory()
os.environ["PADDLE_PDX_CACHE_HOME"] = _CACHE.name

ERRORS = []


def guarded(section, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, or None with the failure recorded under ``section``."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # recorded, not raised
        ERRORS.append({"section": section, "type": type(e).__name__, "message": str(e)[:2000],
                       "traceback": traceback.format_exc()[-3000:]})
        return None


def model_name(model_dir):
    import yaml

    with open(Path(model_dir) / "inference.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)["Global"]["model_name"]
