"""The admin surface's records and logs: what ``emu logs``, ``emu stats``, ``emu cost`` and the pytest plugin read.

- ``GET /_emu/invocations?function=&since=&limit=``: records, newest first. ``since``
  is a record's ``seq`` (records after it), its id (the same), or an ISO 8601 time
  (records started at or after it). ``limit`` defaults to 100, at most 1000.
- ``GET /_emu/invocations/{id}``: one record with its log; ``id`` is a request or
  execution id (the latest attempt, for a retried event) or a ``seq``.
- ``GET /_emu/stats``: per function, counts, cold-start ratio, duration percentiles.
- ``GET /_emu/usage``: per function, what ``emu cost`` prices (``records.summary``).
- ``GET /_emu/logs?function=&lines=&follow=1``: the live log's recent lines as JSON;
  with ``follow=1``, server-sent events (``data: {json}``), one per line, until emu
  stops or the client leaves.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, unquote

from emulator.log_feed import LogFeed, LogLine
from emulator.records.record import iso_time, parse_time, record_json
from emulator.records.recorder import Recorder
from emulator.records.summary import usage_json
from emulator.surfaces.asgi import JSON, Receive, Scope, Send, http_date, respond

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DEFAULT_LINES = 100
MAX_LINES = 2000
# A comment line this often keeps proxies from timing out an idle stream.
HEARTBEAT_S = 15.0


class BadQuery(Exception):
    """A query parameter that cannot be used: a 400 with this message."""


class RecordsSurface:
    def __init__(self, records: Recorder, feed: LogFeed) -> None:
        self.records = records
        self.feed = feed

    def handles(self, rest: str) -> bool:
        return rest in ("invocations", "stats", "usage", "logs") or rest.startswith("invocations/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}
        try:
            if rest == "logs":
                if query.get("follow") in ("1", "true", "yes"):
                    await self._follow(receive, send, query)
                    return
                body: Any = {"lines": [line_json(line) for line in self.feed.recent(query.get("function"), _lines(query))]}
            elif rest == "invocations":
                body = await self._list(query)
            elif rest.startswith("invocations/"):
                key = unquote(rest[len("invocations/"):])
                record = await self.records.read(lambda store: store.get(key))
                if record is None:
                    await respond(send, 404, [JSON], json.dumps({"message": f"no invocation {key!r}"}).encode())
                    return
                body = record_json(record, with_log=True)
            elif rest == "stats":
                body = {"functions": await self.records.stats()}
            else:
                body = {"functions": [usage_json(u) for u in await self.records.usages()]}
        except BadQuery as exc:
            await respond(send, 400, [JSON], json.dumps({"message": str(exc)}).encode())
            return
        await respond(send, 200, [JSON], json.dumps(body).encode())

    async def _list(self, query: dict[str, str]) -> dict[str, Any]:
        function = query.get("function") or None
        limit = _number(query, "limit", DEFAULT_LIMIT, MAX_LIMIT)
        since = query.get("since") or None
        after: int | None = None
        since_time: float | None = None
        if since is not None:
            if since.isdigit():
                after = int(since)
            elif (since_time := parse_time(since)) is None:
                found = await self.records.read(lambda store: store.get(since))
                if found is None:
                    raise BadQuery(f"since: {since!r} is neither an ISO 8601 time nor an invocation's id or seq")
                after = found.seq
        records = await self.records.read(lambda store: store.recent(function, after, since_time, limit))
        return {"invocations": [record_json(r) for r in records]}

    async def _follow(self, receive: Receive, send: Send, query: dict[str, str]) -> None:
        function = query.get("function") or None
        follower = self.feed.follow(function)
        backlog = self.feed.recent(function, _lines(query, 0))
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"date", http_date()),
        ]
        left = asyncio.ensure_future(_disconnected(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            chunk = b"".join(_event(line) for line in backlog) or b": following\n\n"
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            while True:
                line = asyncio.ensure_future(follower.next())
                done, _ = await asyncio.wait({line, left}, timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED)
                if left in done:
                    line.cancel()
                    return
                if line not in done:
                    line.cancel()
                    await send({"type": "http.response.body", "body": b": heartbeat\n\n", "more_body": True})
                    continue
                item = line.result()
                if item is None:  # emu is stopping
                    break
                await send({"type": "http.response.body", "body": _event(item), "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            follower.close()
            left.cancel()


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def line_json(line: LogLine) -> dict[str, Any]:
    return {"seq": line.seq, "time": iso_time(line.time), "function": line.function, "kind": line.kind, "text": line.text}


def _event(line: LogLine) -> bytes:
    return b"data: " + json.dumps(line_json(line)).encode() + b"\n\n"


def _lines(query: dict[str, str], default: int = DEFAULT_LINES) -> int:
    return _number(query, "lines", default, MAX_LINES, minimum=0)


def _number(query: dict[str, str], name: str, default: int, maximum: int, minimum: int = 1) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(f"{name}: expected a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise BadQuery(f"{name}: must be between {minimum} and {maximum}, got {value}")
    return value
