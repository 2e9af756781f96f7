"""Sub-commands of the ``hpi`` CLI (dispatched by :mod:`hpi.cli`): each module has ``main(argv) -> int``;
what they share is in :mod:`.common`."""
