"""The option every record command shares: which emu to read.

Without ``--url``, the emu at ``$EMU_URL`` (as the pytest plugin reads it), else at
``DEFAULT_URL``; and if none answers there, the records of the config in the
current folder.
"""

from __future__ import annotations

import argparse

DEFAULT_URL = "http://127.0.0.1:9000"
URL_VARIABLE = "EMU_URL"


def add_url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", help=f"the emu to read (default ${URL_VARIABLE}, else {DEFAULT_URL}; if none answers there, "
        "the records of the config here)"
    )
