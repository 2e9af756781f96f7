"""``hpi --pipeline OCR --input PATH ...``: run a pipeline, PaddleX-style.

Exit codes: 0 all inputs done; 1 some inputs failed (the others finished and a
summary lists the failures); 2 bad arguments or config.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

from ..errors import HPIError

_BOOL = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def _bool(text: str) -> bool:
    try:
        return _BOOL[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpi",
        description="Run a PaddleX-style pipeline on hpi's engine. Sub-commands: hpi models | info | build | benchmark.",
    )
    parser.add_argument("--pipeline", help="pipeline name (OCR) or a pipeline YAML path")
    parser.add_argument("--input", help="image, PDF or directory (several: repeat the flag)", action="append")
    parser.add_argument("--device", default=None, help="cpu (default), gpu or gpu:N")
    parser.add_argument("--save_path", default=None, help="directory for <stem>_res.json and <stem>_ocr_res_img.png")
    parser.add_argument("--get_pipeline_config", metavar="NAME", help="write NAME's default YAML (to --save_path or .)")
    parser.add_argument("--backend", default=None, help="auto (default), openvino, onnxruntime, paddle, tensorrt")
    parser.add_argument("--precision", default=None, choices=["fp32", "fp16", "bf16"])
    parser.add_argument("--threads", type=int, default=None, help="CPU threads per model (default: all cores)")
    parser.add_argument("--use_textline_orientation", type=_bool, default=None)
    parser.add_argument("--use_doc_orientation_classify", type=_bool, default=None)
    parser.add_argument("--use_doc_unwarping", type=_bool, default=None)
    parser.add_argument("--text_det_limit_side_len", type=int, default=None)
    parser.add_argument("--text_det_limit_type", default=None, choices=["min", "max"])
    parser.add_argument("--text_det_max_side_limit", type=int, default=None)
    parser.add_argument("--text_det_thresh", type=float, default=None)
    parser.add_argument("--text_det_box_thresh", type=float, default=None)
    parser.add_argument("--text_det_unclip_ratio", type=float, default=None)
    parser.add_argument("--text_rec_score_thresh", type=float, default=None)
    parser.add_argument("--text_recognition_batch_size", type=int, default=None)
    parser.add_argument("--texts_only", action="store_true", help="print only the recognised lines, not the JSON")
    parser.add_argument("--no_progress", action="store_true", help="no progress bar")
    parser.add_argument("--log_level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def _write_pipeline_config(name: str, save_path: str | None) -> int:
    from ..config import default_config_path

    source = default_config_path(name)
    target = Path(save_path or ".")
    if target.suffix.lower() not in (".yaml", ".yml"):
        target.mkdir(parents=True, exist_ok=True)
        target = target / f"{name}.yaml"
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    print(f"The pipeline config has been saved to: {target}")
    return 0


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level), format="%(levelname)s hpi: %(message)s")
    logging.getLogger("hpi").setLevel(getattr(logging, args.log_level))
    try:
        if args.get_pipeline_config:
            return _write_pipeline_config(args.get_pipeline_config, args.save_path)
        if not args.pipeline or not args.input:
            parser.print_usage(sys.stderr)
            print("hpi: error: --pipeline and --input are required (or --get_pipeline_config NAME).", file=sys.stderr)
            return 2
        return _run(args)
    except HPIError as exc:
        print(f"hpi: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hpi: interrupted", file=sys.stderr)
        return 130


def _run(args) -> int:
    from ..inputs import expand_inputs
    from ..pipelines import create_pipeline

    init = {
        "backend": args.backend, "precision": args.precision, "threads": args.threads,
        "use_textline_orientation": args.use_textline_orientation,
        "text_recognition_batch_size": args.text_recognition_batch_size,
    }
    pipeline = create_pipeline(args.pipeline, device=args.device, **{k: v for k, v in init.items() if v is not None})
    call = {
        key: getattr(args, key)
        for key in (
            "use_doc_orientation_classify", "use_doc_unwarping", "text_det_limit_side_len", "text_det_limit_type",
            "text_det_max_side_limit", "text_det_thresh", "text_det_box_thresh", "text_det_unclip_ratio",
            "text_rec_score_thresh",
        )
        if getattr(args, key) is not None
    }
    inputs = args.input if len(args.input) > 1 else args.input[0]
    entries, is_batch = expand_inputs(inputs)
    progress = None
    if is_batch and len(entries) > 1 and not args.no_progress:
        from tqdm import tqdm

        progress = tqdm(total=len(entries), unit="file", file=sys.stderr, dynamic_ncols=True)
    failures: list[tuple[str, str]] = []
    done = 0
    last_path = None
    for result in pipeline.predict(inputs, on_error="report", **call):
        if progress is not None and result.input_path != last_path:
            progress.update(1)
        last_path = result.input_path
        done += 1
        if not result.ok:
            name = result.input_path or result.stem
            if result.page_index is not None:
                name = f"{name} (page {result.page_index})"
            failures.append((name, str(result.error)))
            continue
        if args.texts_only:
            for text in result.rec_texts:
                print(text)
        else:
            result.print()
        if args.save_path:
            result.save_to_json(args.save_path)
            result.save_to_img(args.save_path)
    if progress is not None:
        progress.close()
    pipeline.close()
    if failures:
        print(f"\n{len(failures)} of {done} inputs failed:", file=sys.stderr)
        for name, message in failures:
            print(f"  {name}: {message}", file=sys.stderr)
        return 1
    return 0
