"""Asynchronous (``Event``) invocations: accepted at once, run later, retried as Lambda does.

Lambda retries a function error twice, waiting about one and then two minutes;
locally the waits come from ``settings.async_retry_delays``. A throttled event
is retried with backoff until it is older than the maximum event age (6 hours).
Each retry keeps the event's request id, as in the cloud.
"""

from __future__ import annotations

import asyncio
import time

from emulator.console import Console
from emulator.errors import Throttled
from emulator.execution.invocation import Invocation
from emulator.execution.lambda_pool import LambdaPool

MAX_EVENT_AGE_S = 6 * 3600
_THROTTLE_BACKOFF_S = (0.1, 0.5, 1.0, 5.0, 30.0)


class AsyncInvoker:
    def __init__(self, console: Console, retry_delays: tuple[float, ...]) -> None:
        self._console = console
        self._retry_delays = retry_delays
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, pool: LambdaPool, inv: Invocation) -> asyncio.Task[None]:
        """Run ``inv`` in the background, retried as Lambda does; the task that does it, retries included."""
        task = asyncio.ensure_future(self._run(pool, inv))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def pending(self) -> int:
        return len(self._tasks)

    async def _run(self, pool: LambdaPool, first: Invocation) -> None:
        accepted = time.monotonic()
        attempt = 0
        throttles = 0
        while True:
            inv = first if attempt == 0 and throttles == 0 else _again(first)
            try:
                outcome = await pool.invoke(inv)
            except Throttled:
                if time.monotonic() - accepted > MAX_EVENT_AGE_S:
                    self._console.error(pool.spec.name, f"event {first.request_id} dropped: older than the maximum event age")
                    return
                await asyncio.sleep(_THROTTLE_BACKOFF_S[min(throttles, len(_THROTTLE_BACKOFF_S) - 1)])
                throttles += 1
                continue
            if not outcome.is_error:
                return
            if attempt >= len(self._retry_delays):
                self._console.error(
                    pool.spec.name,
                    f"event {first.request_id} failed after {attempt + 1} attempts ({outcome.error_type}); dropped",
                )
                return
            delay = self._retry_delays[attempt]
            attempt += 1
            self._console.info(f"{pool.spec.name}: retrying event {first.request_id} in {delay:g} s (attempt {attempt + 1})")
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)


def _again(inv: Invocation) -> Invocation:
    """A fresh attempt at the same event: same request id and payload, new future and log."""
    return Invocation(
        function=inv.function,
        payload=inv.payload,
        function_arn=inv.function_arn,
        request_id=inv.request_id,
        client_context=inv.client_context,
        trace_id=inv.trace_id,  # a retry is the same request in the same chain (loop_guard)
        trigger=inv.trigger,
    )
