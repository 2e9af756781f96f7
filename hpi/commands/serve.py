"""``hpi --serve --pipeline OCR [--device cpu] [--host 127.0.0.1] [--port 8080]``: PaddleX's serving command.

The models load before the port opens. The pipeline's constructor flags
(``--backend``, ``--text_recognition_batch_size``, ...) work as for
``hpi --pipeline``; per-call parameters come with each request. Exit codes:
0 after a clean shutdown (SIGTERM/SIGINT), 2 bad arguments or config, 3 the
engine could not be prepared, 4 the ``serve`` extra is missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys

from ..errors import HPIError
from .common import EXIT_INTERRUPTED, EXIT_MISSING_EXTRA, EXIT_OK, EXIT_USAGE, exit_code_for



def build_parser(pipeline_cls=None) -> argparse.ArgumentParser:
    from ..pipelines import PIPELINES
    from ..pipelines.params import HPI_PARAMS, add_cli_arguments
    from ..serving.settings import ServingSettings

    defaults = ServingSettings()
    parser = argparse.ArgumentParser(
        prog="hpi --serve",
        description="Serve a pipeline over HTTP with PaddleX's protocol (POST /ocr, ...), batching concurrent "
                    "requests' model calls together.",
    )
    parser.add_argument("--serve", action="store_true", required=True, help="run the HTTP service")
    parser.add_argument("--pipeline", required=True, help=f"pipeline name ({', '.join(PIPELINES)}) or a pipeline YAML")
    parser.add_argument("--device", default=None, help="cpu (default), gpu or gpu:N")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (PaddleX's default is 0.0.0.0; "
                                                            "hpi's is loopback only)")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--allow-url", "--allow_url", dest="allow_url", action="store_true", default=None,
                        help="accept http(s) URLs in 'file' (the server fetches them)")
    group = parser.add_argument_group("limits and scheduling (default: the YAML's Serving section, else these)")
    group.add_argument("--concurrency", type=int, help=f"requests running at once (default {defaults.concurrency})")
    group.add_argument("--max_queue", type=int, help=f"requests waiting beyond those; more get 503 (default {defaults.max_queue})")
    group.add_argument("--timeout", dest="timeout_s", type=float,
                       help=f"seconds per request, queue included; then 503 (default {defaults.timeout_s:g})")
    group.add_argument("--no_batching", dest="batching", action="store_const", const=False, default=None,
                       help="run each request's model calls alone (no cross-request batching)")
    group.add_argument("--max_batch_size", type=int, help=f"rows per shared model call (default {defaults.max_batch_size})")
    group.add_argument("--max_wait_ms", type=float, help=f"how long a model call waits for company (default {defaults.max_wait_ms:g})")
    group.add_argument("--max_pad_columns", type=int,
                       help=f"text lines this much narrower may share a recognition call, zero-padded "
                            f"(default {defaults.max_pad_columns}; 0: equal widths only)")
    group.add_argument("--max_body_mb", type=float, help=f"request body limit in MiB (default {defaults.max_body_bytes // 2**20})")
    group.add_argument("--max_pixels", type=int, help=f"pixels per image or page (default {defaults.max_pixels:,})")
    group.add_argument("--max_pdf_pages", type=int, help=f"PDF pages rendered (default {defaults.max_pdf_pages}, as PaddleX)")
    group.add_argument("--visualize", type=_bool, metavar="True|False", help="default of the request's visualize (True)")
    parser.add_argument("--log_level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    if pipeline_cls is not None:
        # Constructor parameters set the server's defaults (per-call ones too); each request may override those.
        params = [p for p in (*pipeline_cls.params, *HPI_PARAMS) if p.init]
        add_cli_arguments(parser.add_argument_group(f"{pipeline_cls.name} parameters (default: the config's value)"),
                          pipeline_cls.config_class, params)
    return parser


def _bool(text: str) -> bool:
    from ..pipelines.params import parse_bool

    return parse_bool(text)


def missing_extra() -> list[str]:
    return [name for name in ("fastapi", "uvicorn", "prometheus_client", "pydantic")
            if importlib.util.find_spec(name) is None]


def main(argv: list[str]) -> int:
    from .common import pipeline_class_of

    missing = missing_extra()
    if missing:
        print(f"hpi: error: --serve needs {', '.join(missing)}: pip install \"hpi[serve]\"", file=sys.stderr)
        return EXIT_MISSING_EXTRA
    try:
        pipeline_cls = pipeline_class_of(argv)
    except HPIError as exc:
        print(f"hpi: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args = build_parser(pipeline_cls).parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level), format="%(levelname)s hpi: %(message)s")
    logging.getLogger("hpi").setLevel(getattr(logging, args.log_level))
    from ..pipelines.params import HPI_PARAMS
    from ..serving.server import build_service, serve

    settings = {
        "concurrency": args.concurrency, "max_queue": args.max_queue, "timeout_s": args.timeout_s,
        "batching": args.batching, "max_batch_size": args.max_batch_size, "max_wait_ms": args.max_wait_ms,
        "max_pad_columns": args.max_pad_columns,
        "max_pixels": args.max_pixels, "max_pdf_pages": args.max_pdf_pages, "visualize": args.visualize,
        "allow_url": args.allow_url,
        "max_body_bytes": None if args.max_body_mb is None else int(args.max_body_mb * 2**20),
    }
    overrides = {}
    for param in (*pipeline_cls.params, *HPI_PARAMS):
        if param.init and getattr(args, param.name, None) is not None:
            overrides[param.name] = getattr(args, param.name)
    try:
        service = build_service(args.pipeline, device=args.device, settings=settings, **overrides)
    except HPIError as exc:
        print(f"hpi: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    try:
        serve(service, host=args.host, port=args.port, log_level=args.log_level)
    except KeyboardInterrupt:  # a second Ctrl-C: uvicorn's forced exit
        return EXIT_INTERRUPTED
    return EXIT_OK
