"""The terminal: every function's output and emu's own messages, one line each.

Lines are prefixed with the function's name and buffered for a few milliseconds,
so thousands of log lines a second cost a few writes, not one each. Every line
also goes to ``feed`` (``log_feed.LogFeed``), which ``emu logs`` reads.
"""

from __future__ import annotations

import asyncio
import sys
import zlib
from typing import TextIO

from emulator.log_feed import LogFeed

_COLOURS = (36, 35, 33, 32, 34, 96, 95, 93, 92, 94)
_FLUSH_AFTER_S = 0.01


class Console:
    def __init__(self, stream: TextIO | None = None, colour: bool | None = None) -> None:
        self._stream = stream or sys.stdout
        self._colour = self._stream.isatty() if colour is None else colour
        self._pending: list[str] = []
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._width = 8
        self.feed = LogFeed()

    def register(self, names: list[str]) -> None:
        if names:
            self._width = max(len(n) for n in names)

    def _prefix(self, function: str) -> str:
        tag = function.ljust(self._width)
        if self._colour:
            code = _COLOURS[zlib.crc32(function.encode()) % len(_COLOURS)]
            return f"\x1b[{code}m{tag} |\x1b[0m "
        return f"{tag} | "

    def output(self, function: str, line: bytes) -> None:
        text = line.decode("utf-8", "replace")
        self.feed.add(function, "output", text)
        self._write(self._prefix(function) + text)

    def platform(self, function: str, line: str) -> None:
        self.feed.add(function, "platform", line)
        self._write(self._prefix(function) + line)

    def error(self, function: str, message: str) -> None:
        self.feed.add(function, "error", message)
        text = f"\x1b[1;31m{message}\x1b[0m" if self._colour else message
        self._write(self._prefix(function) + text)

    def info(self, message: str) -> None:
        self.feed.add("emu", "info", message)
        self._write(message)

    def _write(self, text: str) -> None:
        self._pending.append(text)
        if self._scheduled:
            return
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop yet: write at once
                self.flush()
                return
        # A short wait gathers the lines of many invocations into one write; nobody
        # reading a terminal notices 10 ms.
        self._loop.call_later(_FLUSH_AFTER_S, self.flush)
        self._scheduled = True

    def flush(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        text = "\n".join(self._pending) + "\n"
        self._pending.clear()
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a closed terminal must not take the router down
            pass
