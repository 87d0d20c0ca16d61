"""The live log: every line the terminal shows, kept briefly and handed to followers.

The ``Console`` adds each line here as it writes it (a deque append: it is on the
hot path). ``GET /_emu/logs`` serves the recent lines, and with ``follow=1`` keeps
the connection open and streams new ones, which is what ``emu logs -f`` reads.
A follower that falls behind by more than ``FOLLOWER_BACKLOG`` lines loses the
excess and is told how many, rather than growing emu's memory.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from typing import Literal, NamedTuple

LineKind = Literal["output", "platform", "error", "info"]
RECENT_LINES = 2000
FOLLOWER_BACKLOG = 10_000


class LogLine(NamedTuple):
    seq: int
    time: float  # epoch seconds
    function: str  # "emu" for emu's own messages
    kind: LineKind
    text: str


class Follower:
    """One ``follow=1`` reader: new lines in order; None once emu is stopping."""

    def __init__(self, feed: LogFeed, function: str | None) -> None:
        self._feed = feed
        self.function = function
        self._queue: asyncio.Queue[LogLine | None] = asyncio.Queue()
        self.dropped = 0

    def offer(self, line: LogLine) -> None:
        if self.function is not None and line.function != self.function:
            return
        if self._queue.qsize() >= FOLLOWER_BACKLOG:
            self.dropped += 1
            return
        self._queue.put_nowait(line)

    def end(self) -> None:
        self._queue.put_nowait(None)

    async def next(self) -> LogLine | None:
        return await self._queue.get()

    def close(self) -> None:
        self._feed.unfollow(self)


class LogFeed:
    def __init__(self, keep: int = RECENT_LINES) -> None:
        # Plain tuples, made LogLines when read: a few lines per invocation pass through
        # here on the hot path, and a tuple costs a fraction of a NamedTuple's __new__.
        self._recent: deque[tuple[int, float, str, LineKind, str]] = deque(maxlen=keep)
        self._followers: set[Follower] = set()
        self._seq = itertools.count(1)
        self._closed = False

    def add(self, function: str, kind: LineKind, text: str) -> None:
        entry = (next(self._seq), time.time(), function, kind, text)
        self._recent.append(entry)
        if self._followers:
            line = LogLine._make(entry)
            for follower in self._followers:
                follower.offer(line)

    def recent(self, function: str | None = None, limit: int = 100) -> list[LogLine]:
        """The newest ``limit`` lines (of ``function``), oldest first."""
        entries = [e for e in self._recent if function is None or e[2] == function]
        return [LogLine._make(e) for e in entries[-limit:]] if limit > 0 else []

    def follow(self, function: str | None = None) -> Follower:
        """A reader of lines from now on; ``close()`` it when done."""
        follower = Follower(self, function)
        if self._closed:
            follower.end()
        else:
            self._followers.add(follower)
        return follower

    def unfollow(self, follower: Follower) -> None:
        self._followers.discard(follower)

    def close(self) -> None:
        """emu is stopping: end every follower's stream, so no open connection holds shutdown up."""
        self._closed = True
        for follower in list(self._followers):
            follower.end()
        self._followers.clear()
