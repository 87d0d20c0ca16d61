"""``emu cost [--monthly N] [--json]``: both clouds' bills for what the records measured.

The records give each function's durations, memory and the span they cover
(``records.summary.usages``); the pure cost model (``emulator.cost``) prices them
and renders the table or the JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from emulator.commands.options import URL_VARIABLE, add_url_option


_SUFFIXES = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def _volume(text: str) -> int:
    """A month's invocations: ``5000000``, ``5,000,000``, ``5M``, ``2.5k``."""
    raw = text.strip().replace(",", "").replace("_", "")
    scale = _SUFFIXES.get(raw[-1:].lower(), 1)
    try:
        value = float(raw[:-1]) * scale if scale != 1 else int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of invocations (e.g. 5000000 or 5M), got {text!r}") from None
    if value < 0 or value != int(value):
        raise argparse.ArgumentTypeError(f"expected a whole number of invocations, not negative, got {text!r}")
    return int(value)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("cost", help="what the recorded invocations would cost on Lambda and Cloud Functions")
    parser.add_argument("--monthly", type=_volume, metavar="N",
                        help="invocations a month per function, e.g. 5000000 or 5M (default: each function's recorded rate over 30 days)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    add_url_option(parser)


def run(args: argparse.Namespace) -> int:
    from emulator.commands.record_source import SourceError, open_source
    from emulator.cost.report import render_json, render_table

    try:
        usages = open_source(args.url, Path.cwd(), os.environ.get(URL_VARIABLE)).usages()
    except SourceError as exc:
        print(f"emu cost: {exc}", file=sys.stderr)
        return exc.exit_code
    sys.stdout.write(render_json(usages, args.monthly) if args.json else render_table(usages, args.monthly))
    return 0
