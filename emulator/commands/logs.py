"""``emu logs [FUNCTION] [-f]``: a running emu's recent log lines, and with ``-f`` the new ones as they come.

Without a running emu, the logs of the latest recorded invocations (``-f`` needs
one). Lines print as the terminal of ``emu up`` shows them: ``function | text``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from emulator.commands.options import URL_VARIABLE, add_url_option

if TYPE_CHECKING:
    from emulator.commands.record_source import Line

DEFAULT_LINES = 20


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("logs", help="show a running emu's log; -f follows it")
    parser.add_argument("function", nargs="?", help="only this function's lines")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until emu stops (Ctrl-C to leave)")
    parser.add_argument("-n", "--lines", type=int, default=DEFAULT_LINES, help=f"how many recent lines first (default {DEFAULT_LINES})")
    add_url_option(parser)


def run(args: argparse.Namespace) -> int:
    from emulator.commands.record_source import SourceError, open_source

    if args.lines < 0:
        print("emu logs: --lines must not be negative", file=sys.stderr)
        return 2
    printer = _Printer()
    try:
        source = open_source(args.url, Path.cwd(), os.environ.get(URL_VARIABLE))
        if args.follow:
            printer.print(source.follow(args.function, args.lines))
            print(f"emu logs: the emu at {source.where} stopped", file=sys.stderr)
        else:
            printer.print(source.recent_lines(args.function, args.lines))
    except SourceError as exc:
        print(f"emu logs: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        pass
    return 0


class _Printer:
    """``name | text``, names padded to the widest seen so far, as ``emu up`` pads them."""

    def __init__(self) -> None:
        self._width = 8

    def print(self, lines: Iterable[Line]) -> None:
        for function, text in lines:
            self._width = max(self._width, len(function))
            sys.stdout.write(f"{function.ljust(self._width)} | {text}\n")
            sys.stdout.flush()
