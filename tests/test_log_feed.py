"""The live log: recent lines for ``emu logs``, and followers for ``emu logs -f``."""

from __future__ import annotations

import asyncio

from emulator.console import Console
from emulator.log_feed import FOLLOWER_BACKLOG, LogFeed


def test_recent_lines_are_the_newest_oldest_first_and_filter_by_function() -> None:
    feed = LogFeed(keep=3)
    for n in range(5):
        feed.add("a" if n % 2 else "b", "output", f"line {n}")
    assert [line.text for line in feed.recent()] == ["line 2", "line 3", "line 4"]
    assert [line.text for line in feed.recent("a")] == ["line 3"]
    assert [line.text for line in feed.recent(limit=1)] == ["line 4"]
    assert feed.recent(limit=0) == []


def test_followers_get_new_lines_of_their_function_until_the_feed_closes() -> None:
    async def run() -> None:
        feed = LogFeed()
        feed.add("a", "output", "before")
        everything, only_b = feed.follow(), feed.follow("b")
        feed.add("a", "platform", "one")
        feed.add("b", "error", "two")
        feed.close()
        assert [(await everything.next()).text, (await everything.next()).text, await everything.next()] == ["one", "two", None]  # type: ignore[union-attr]
        assert [(await only_b.next()).kind, await only_b.next()] == ["error", None]  # type: ignore[union-attr]
        late = feed.follow()
        assert await late.next() is None  # after close: ends at once

    asyncio.run(run())


def test_a_follower_that_falls_behind_loses_the_excess_not_memory() -> None:
    async def run() -> None:
        feed = LogFeed()
        slow = feed.follow()
        for n in range(FOLLOWER_BACKLOG + 5):
            feed.add("a", "output", str(n))
        assert slow.dropped == 5
        slow.close()
        feed.add("a", "output", "after")  # a closed follower is not offered more
        assert slow.dropped == 5

    asyncio.run(run())


def test_the_console_feeds_every_line_it_writes() -> None:
    class Sink:
        def write(self, text: str) -> None:
            pass

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

    console = Console(Sink(), colour=True)  # type: ignore[arg-type]
    console.output("fn", b"printed \xff")
    console.platform("fn", "START RequestId: x")
    console.error("fn", "boom")
    console.info("emu is up")
    assert [(l.function, l.kind, l.text) for l in console.feed.recent()] == [
        ("fn", "output", "printed \ufffd"),
        ("fn", "platform", "START RequestId: x"),
        ("fn", "error", "boom"),  # no colour codes: the feed has the text
        ("emu", "info", "emu is up"),
    ]
