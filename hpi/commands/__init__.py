"""Sub-commands of the ``hpi`` CLI: each module has ``main(argv: list[str]) -> int``."""

SUBCOMMANDS = {
    "models": "hpi.commands.models",
    "info": "hpi.commands.info",
    "build": "hpi.commands.build",
    "benchmark": "hpi.commands.benchmark",
}
