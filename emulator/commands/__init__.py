"""The commands that read invocation records: ``emu logs``, ``emu stats``, ``emu cost``.

``cli.py`` registers them with ``add_parsers`` and hands a parsed command to
``run``. Each command is a module with ``add_parser`` and ``run``; where they read
from is ``record_source``. A failure is one line on stderr and an exit code: 2 for
what the user asked wrong, 1 for what went wrong.
"""

from __future__ import annotations

import argparse

from emulator.commands import cost, logs, stats

_COMMANDS = {"logs": logs, "stats": stats, "cost": cost}
NAMES = frozenset(_COMMANDS)


def add_parsers(commands: argparse._SubParsersAction) -> None:
    for command in _COMMANDS.values():
        command.add_parser(commands)


def run(args: argparse.Namespace) -> int:
    return _COMMANDS[args.command].run(args)
