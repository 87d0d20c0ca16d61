"""The records writer ``emu up`` runs: batches off the hot path, one thread for SQLite.

``add`` only appends to a list. Every ``FLUSH_AFTER_S``, or at ``FLUSH_AT``
records, the batch goes to a dedicated thread that owns the store's connection
and writes it in one transaction. Reads go through the same thread after the
pending batch, so whoever asks sees every invocation that has finished, even one
finished a moment ago.

If the state folder cannot hold the file, records are kept in memory for this
run, with one warning: the admin surface still works.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, TypeVar

from emulator.console import Console
from emulator.cost.model import Usage
from emulator.records.base import RecordSink
from emulator.records.record import InvocationRecord
from emulator.records.store import RecordStore, StoreError
from emulator.records.summary import StatsJson, function_stats, usages

FLUSH_AFTER_S = 0.1
FLUSH_AT = 256
# Batches waiting for the thread past which new ones are dropped (with one warning):
# a disk slower than the invocations must not grow emu's memory without bound.
MAX_IN_FLIGHT = 64

T = TypeVar("T")


class Recorder(RecordSink):
    def __init__(self, path: Path, config: str, console: Console) -> None:
        self.path = path
        self._config = config
        self._console = console
        self._pending: list[InvocationRecord] = []
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._store: RecordStore | None = None
        self.session = 0
        self._failed = False
        self._closed = False
        self._in_flight = 0
        self.dropped = 0

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="emu-records")
        try:
            self._store = await self._call(RecordStore, self.path)
        except StoreError as exc:
            self._console.error("emu", f"invocation records are kept in memory only: {exc}")
            self._store = await self._call(RecordStore, ":memory:")
        store = self._store
        self.session = await self._call(lambda: store.begin_session(self._config, time.time()))
        if self._pending:
            self._flush()

    # -- writing (the hot path) ---------------------------------------------------

    def add(self, record: InvocationRecord) -> None:
        if self._closed:
            return
        self._pending.append(record)
        if self._store is None or self._loop is None:
            return  # not started yet: written once it has
        if len(self._pending) >= FLUSH_AT:
            self._flush()
        elif self._timer is None:
            self._timer = self._loop.call_later(FLUSH_AFTER_S, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending or self._store is None or self._loop is None or self._executor is None:
            return
        batch, self._pending = self._pending, []
        if self._in_flight >= MAX_IN_FLIGHT:
            if not self.dropped:
                self._console.error("emu", f"invocation records are arriving faster than {self.path} takes them; dropping some")
            self.dropped += len(batch)
            return
        self._in_flight += 1
        written = self._loop.run_in_executor(self._executor, self._store.insert, self.session, batch)
        written.add_done_callback(self._written)

    def _written(self, written: asyncio.Future[None]) -> None:
        self._in_flight -= 1
        exc = None if written.cancelled() else written.exception()
        if exc is not None and not self._failed:
            # Once: a full disk would otherwise repeat this ten times a second.
            self._failed = True
            self._console.error("emu", f"could not write invocation records to {self.path}: {exc}")

    # -- reading ------------------------------------------------------------------

    async def read(self, query: Callable[[RecordStore], T]) -> T:
        """Run ``query`` on the store's thread, after every record that has finished so far."""
        self._flush()
        store = self._store
        if store is None:
            raise RuntimeError("the recorder has not started")
        return await self._call(lambda: query(store))

    async def stats(self) -> list[StatsJson]:
        return await self.read(lambda store: function_stats(store.measurements()))

    async def usages(self) -> list[Usage]:
        return await self.read(lambda store: usages(store.measurements(), store.sessions(), time.time(), self.session))

    async def _call(self, fn: Callable[..., T], *args: object) -> T:
        assert self._loop is not None and self._executor is not None
        return await self._loop.run_in_executor(self._executor, fn, *args)

    # -- stopping -----------------------------------------------------------------

    async def aclose(self) -> None:
        """Write what is pending, mark the session stopped, close the file."""
        self._closed = True
        if self._executor is None:
            return
        self._flush()
        store, self._store = self._store, None
        if store is not None:
            session = self.session

            def finish() -> None:
                store.end_session(session, time.time())
                store.close()

            try:
                await self._call(finish)
            except Exception as exc:  # the run is over; losing its stop time is not worth a traceback
                self._console.error("emu", f"could not close the invocation records: {exc}")
        self._executor.shutdown(wait=False)
        self._executor = None
