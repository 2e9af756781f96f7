"""Sub-commands of the ``hpi`` CLI: each module has ``main(argv: list[str]) -> int``."""

SUBCOMMANDS = {
    "models": "hpi.commands.models",
    "info": "hpi.commands.info",
    "build": "hpi.commands.build",
    "benchmark": "hpi.commands.benchmark",
    "batch": "hpi.commands.batch",
}

# Exit codes of ``hpi --pipeline ...`` and ``hpi benchmark``.
EXIT_OK = 0
EXIT_SOME_INPUTS_FAILED = 1
EXIT_USAGE = 2  # bad arguments, config or device: fix the command line or the YAML
EXIT_ENGINE = 3  # the engine could not be prepared: model fetch/verification, export, backend, cache


def exit_code_for(exc: Exception) -> int:
    """EXIT_USAGE for what the user wrote wrong, EXIT_ENGINE for what failed while preparing to run."""
    from ..errors import ConfigError, DeviceError, InputError

    return EXIT_USAGE if isinstance(exc, (ConfigError, DeviceError, InputError)) else EXIT_ENGINE
