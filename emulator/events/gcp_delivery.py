"""Delivering an event to a Cloud Function, retried as Pub/Sub push and Eventarc retry.

A delivery is acknowledged by a 2xx answer (Pub/Sub push's rule). Anything else,
including a crash or a timeout, is retried with backoff a bounded number of
times, then logged as dead-lettered. Eventarc waits seconds to minutes between
tries; locally the waits are short so a failing function shows up at once.
"""

from __future__ import annotations

import asyncio

from emulator.console import Console
from emulator.execution.gcp_invoke import DiscardingSink, GcpInvoker, Headers
from emulator.execution.gcp_pool import GcpPool

# Waits before the 2nd, 3rd… attempt: 5 attempts in all, Pub/Sub's default for
# a dead-letter policy (cloud.google.com/pubsub/docs/handling-failures).
RETRY_DELAYS_S = (0.25, 0.5, 1.0, 2.0)


class EventDelivery:
    def __init__(self, invoker: GcpInvoker, console: Console, retry_delays: tuple[float, ...] = RETRY_DELAYS_S) -> None:
        self._invoker = invoker
        self._console = console
        self._retry_delays = retry_delays
        self._tasks: set[asyncio.Task[None]] = set()

    def deliver(self, pool: GcpPool, headers: Headers, body: bytes, what: str) -> asyncio.Task[None]:
        """Send ``body`` to the function in the background until it is acknowledged; the task doing it."""
        task = asyncio.ensure_future(self._run(pool, headers, body, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, pool: GcpPool, headers: Headers, body: bytes, what: str) -> None:
        for attempt in range(len(self._retry_delays) + 1):
            if attempt:
                await asyncio.sleep(self._retry_delays[attempt - 1])
            sink = DiscardingSink()
            trigger = pool.spec.trigger.kind if pool.spec.trigger is not None else "event"
            await self._invoker.request(pool, "POST", "/", headers, body, sink, trigger=trigger)
            if 200 <= sink.status < 300:
                return
            left = len(self._retry_delays) - attempt
            if left:
                self._console.info(f"{pool.spec.name}: {what} not acknowledged (HTTP {sink.status}); retrying, {left} attempts left")
        self._console.error(pool.spec.name, f"{what} dead-lettered after {len(self._retry_delays) + 1} attempts")

    def pending(self) -> int:
        return len(self._tasks)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
