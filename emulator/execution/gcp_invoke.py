"""One request to a Cloud Function, start to finish: a slot, the proxied exchange, the log line.

Both the HTTP surface and event delivery (Pub/Sub, Cloud Storage) go through
``GcpInvoker.request``; they differ only in where the response goes (a
``Sink``). The platform's answers when the function cannot give its own:
- 429 when every instance is busy past ``queue_timeout`` (Cloud Run);
- gen1: 408 at the timeout, and the instance is killed;
- gen2: 504 "upstream request timeout" at the timeout; the instance takes no
  more requests and is stopped once its other requests are done;
- 500 when the instance crashed, ran out of memory or could not load the code.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import time
from dataclasses import dataclass
from typing import AsyncIterator, Protocol

from emulator.console import Console
from emulator.errors import Throttled
from emulator.execution.environment import Environment, EnvState
from emulator.execution.gcp_pool import GcpPool, InstanceFailed
from emulator.records.base import RecordSink
from emulator.records.record import InvocationRecord
from emulator.surfaces.asgi import http_date
from emulator.upstream import UpstreamError
from emulator.wire.logs import MB

Headers = list[tuple[bytes, bytes]]
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_PEAK_READ_AFTER_S = 0.002


class Sink(Protocol):
    """Where a response goes: the HTTP client, or nowhere (an event's delivery)."""

    async def start(self, status: int, headers: Headers) -> None: ...

    async def body(self, chunk: bytes, more: bool) -> None: ...


@dataclass(slots=True)
class Record:
    """What one request did, for the log line and its invocation record."""

    execution_id: str
    status: int = 0
    cold: bool = False
    init_ms: float | None = None
    duration_ms: float = 0.0
    peak_memory: int = 0
    outcome: str = "ok"  # ok, error, timeout, throttled, crash, oom

    @property
    def billed_ms(self) -> int:
        # Cloud Functions bills in 100 ms steps, rounded up.
        return max(100, math.ceil(self.duration_ms / 100) * 100)


class GcpInvoker:
    def __init__(self, console: Console, records: RecordSink | None = None) -> None:
        self._console = console
        self._records = records or RecordSink()

    async def request(
        self,
        pool: GcpPool,
        method: str,
        target: str,
        headers: Headers,
        body: bytes | AsyncIterator[bytes],
        sink: Sink,
        execution_id: str | None = None,
        trigger: str = "http",
    ) -> Record:
        """``trigger`` names what sent the request (http, pubsub, gcs, schedule…) in its record."""
        record = Record(execution_id or secrets.token_hex(6))
        started = time.monotonic()
        started_at = time.time()
        try:
            env, record.cold = await pool.acquire()
        except Throttled as exc:
            record.outcome = "throttled"
            record.status = 429
            self._keep(pool, record, trigger, started_at, False, [])
            await _answer(sink, 429, "Rate exceeded.\n", record.execution_id)
            self._console.error(pool.spec.name, f"{record.execution_id}: {exc}")
            return record
        except InstanceFailed as exc:
            record.outcome = "crash"
            record.status = 500
            self._keep(pool, record, trigger, started_at, False, [])
            await _answer(sink, 500, "Error: could not handle the request\n", record.execution_id)
            self._console.error(pool.spec.name, f"{record.execution_id}: the function failed to load ({exc}); see the log above")
            return record
        if record.cold:
            record.init_ms = env.init_ms
        capture: list[bytes] | None = None
        if pool.spec.concurrency == 1:
            capture = pool.captures[env.id] = []
        begun = time.monotonic()
        try:
            record.status = await self._exchange(pool, env, method, target, headers, body, sink, record)
        finally:
            now = time.monotonic()
            record.duration_ms = (now - begun) * 1000
            if env.handle is not None and now - begun >= _PEAK_READ_AFTER_S:
                env.peak_memory = max(env.peak_memory, env.handle.peak_memory_bytes())
            record.peak_memory = env.peak_memory
            if capture is not None:
                if env.handle is not None:
                    env.handle.drain_output()  # what it wrote before answering belongs to this request
                pool.captures.pop(env.id, None)
            pool.release(env)
            line = self._log(pool, record, (now - started) * 1000)
            self._keep(pool, record, trigger, started_at, True, [*(capture or ()), line.encode()])
        return record

    def _keep(self, pool: GcpPool, record: Record, trigger: str, started_at: float, ran: bool, log: list[bytes]) -> None:
        spec = pool.spec
        self._records.add(InvocationRecord(
            id=record.execution_id,
            function=spec.name,
            provider="gcp",
            trigger=trigger,
            started_at=started_at,
            cold=record.cold,
            init_ms=record.init_ms,
            duration_ms=record.duration_ms,
            billed_ms=record.billed_ms if ran else 0,  # refused before reaching an instance: nothing to bill
            memory_mb=spec.memory,
            peak_memory=record.peak_memory,
            outcome=record.outcome,  # type: ignore[arg-type]
            error_type=f"HTTP {record.status}" if record.outcome == "error" else None,
            status=record.status,
            platform=f"gen{spec.generation}",
            log=b"\n".join(log) + b"\n" if log else b"",
        ))

    async def _exchange(
        self,
        pool: GcpPool,
        env: Environment,
        method: str,
        target: str,
        headers: Headers,
        body: bytes | AsyncIterator[bytes],
        sink: Sink,
        record: Record,
    ) -> int:
        spec = pool.spec
        upstream = pool.upstreams.get(env.id)
        headers = [*headers, (b"function-execution-id", record.execution_id.encode())]
        started = False
        response = None
        try:
            async with asyncio.timeout(spec.timeout):
                if upstream is None:
                    raise UpstreamError("the instance is gone")
                response = await upstream.request(method, target, headers, body)
                out = [*response.headers, (b"function-execution-id", record.execution_id.encode())]
                await sink.start(response.status, out)
                started = True
                async with contextlib.aclosing(response.body()) as chunks:
                    async for chunk in chunks:
                        await sink.body(chunk, True)
                await sink.body(b"", False)
                record.outcome = "ok" if response.status < 500 else "error"
                return response.status
        except TimeoutError:
            if response is not None:
                response.abort()
            record.outcome = "timeout"
            if spec.generation == 1:
                pool.terminate(env, "timeout")
                status, text = 408, "Error: function execution attempt timed out. Instance restarted.\n"
            else:
                # Cloud Run answers for the instance and sends it no more requests.
                if env.state in (EnvState.IDLE, EnvState.BUSY):
                    env.move(EnvState.RETIRING)
                status, text = 504, "upstream request timeout"
            self._console.error(spec.name, f"{record.execution_id}: Function execution took {spec.timeout * 1000:.0f} ms, finished with status: 'timeout'")
        except UpstreamError:
            if response is not None:
                response.abort()
            if env.kill_reason == "oom":
                record.outcome = "oom"
                text = "Error: memory limit exceeded.\n"
                self._console.error(spec.name, f"{record.execution_id}: Memory limit of {spec.memory} MiB exceeded")
            else:
                record.outcome = "crash"
                text = "Error: could not handle the request\n"
            status = 500
        if started:
            return status  # too late to change the answer: the client sees a cut-off response
        await _answer(sink, status, text, record.execution_id)
        return status

    def _log(self, pool: GcpPool, record: Record, total_ms: float) -> str:
        temperature = f"cold (init {record.init_ms:.0f} ms)" if record.cold and record.init_ms is not None else "warm"
        line = (
            f"Function execution took {record.duration_ms:.0f} ms, finished with status code: {record.status}"
            f"\texecution_id={record.execution_id}\t{temperature}\tbilled={record.billed_ms} ms"
            f"\tmemory={math.ceil(record.peak_memory / MB)} MB"
        )
        self._console.platform(pool.spec.name, line)
        return line


async def _answer(sink: Sink, status: int, text: str, execution_id: str) -> None:
    # The platform's own answers carry the execution id too, so they can be found in the log.
    await sink.start(status, [*_TEXT, (b"date", http_date()), (b"function-execution-id", execution_id.encode())])
    await sink.body(text.encode(), False)


class DiscardingSink:
    """Keeps only the status: what event delivery needs to know."""

    def __init__(self) -> None:
        self.status = 0

    async def start(self, status: int, headers: Headers) -> None:
        self.status = status

    async def body(self, chunk: bytes, more: bool) -> None:
        pass
