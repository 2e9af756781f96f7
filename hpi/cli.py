"""The ``hpi`` command line.

``hpi --pipeline OCR --input x.png ...`` runs a pipeline, as ``paddlex`` does;
``hpi models|info|build|benchmark ...`` are sub-commands (hpi/commands/).
"""

from __future__ import annotations

import importlib
import sys

SUBCOMMANDS = {
    "models": "hpi.commands.models",
    "info": "hpi.commands.info",
    "build": "hpi.commands.build",
    "benchmark": "hpi.commands.benchmark",
    "batch": "hpi.commands.batch",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        module = importlib.import_module(SUBCOMMANDS[argv[0]])
        return int(module.main(argv[1:]) or 0)
    if "--serve" in argv:  # PaddleX's `paddlex --serve --pipeline OCR`
        from .commands.serve import main as serve_main

        return int(serve_main(argv) or 0)
    from .commands.predict import main as predict_main

    return int(predict_main(argv) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
