"""``emu stats``: per function, invocations, cold-start ratio, p50/p95/p99 durations and errors.

Read from a running emu (``/_emu/stats``) or a stopped one's records; ``--json``
prints what ``/_emu/stats`` serves.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from emulator.commands.options import URL_VARIABLE, add_url_option

if TYPE_CHECKING:
    from emulator.records.summary import StatsJson


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("stats", help="per-function invocation counts, cold starts and durations")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_url_option(parser)


def run(args: argparse.Namespace) -> int:
    from emulator.commands.record_source import SourceError, open_source

    try:
        stats = open_source(args.url, Path.cwd(), os.environ.get(URL_VARIABLE)).stats()
    except SourceError as exc:
        print(f"emu stats: {exc}", file=sys.stderr)
        return exc.exit_code
    sys.stdout.write(json.dumps({"functions": stats}, indent=2) + "\n" if args.json else render(stats))
    return 0


def render(stats: Sequence[StatsJson]) -> str:
    if not stats:
        return "No invocations recorded.\n"
    headers = ["FUNCTION", "CLOUD", "INVOCATIONS", "COLD", "COLD %", "P50 MS", "P95 MS", "P99 MS", "ERRORS", "THROTTLED"]
    rows = [
        [
            s["function"],
            s["provider"],
            f"{s['invocations']:,}",
            f"{s['cold_starts']:,}",
            "-" if s["cold_start_ratio"] is None else f"{s['cold_start_ratio'] * 100:.1f}",
            *(_ms(s["duration_ms"][p]) for p in ("p50", "p95", "p99")),
            f"{s['errors']:,}",
            f"{s['throttled']:,}",
        ]
        for s in stats
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join(line(row) for row in [headers, *rows]) + "\n"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
