"""A Lambda function's pool: invocations handed to environments over the Runtime API.

Lambda's rules, as modelled here:
- an invocation takes the most recently used idle environment, else one that is
  still starting and unclaimed, else a new one is spawned (a cold start);
- one invocation at a time per environment;
- at most ``reserved_concurrency`` invocations run at once; past that the
  invocation is throttled, never queued;
- cold start is measured from spawn until the runtime first asks for work, and
  only the invocation that waited for it reports ``Init Duration``;
- an environment is killed at its invocation's deadline or over its memory, and
  the invocation gets the error Lambda would give.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Callable

from emulator.backends.base import Backend
from emulator.config.model import FunctionSpec
from emulator.console import Console
from emulator.errors import BackendError, DependenciesFailed, Throttled
from emulator.execution.environment import Environment, EnvState
from emulator.execution.invocation import TAIL_BYTES, Invocation, Outcome, Status
from emulator.execution.pool import Launcher, Pool
from emulator.records.base import RecordSink
from emulator.records.record import lambda_record, throttled_record
from emulator.surfaces.runtime_api import RuntimeApiProtocol, RuntimeApiReply
from emulator.wire import lambda_errors, logs

# AWS's default account-wide concurrency, the cap for functions without a reservation.
ACCOUNT_CONCURRENCY = 1000
# Touching enough memory to matter takes milliseconds, so shorter invocations
# (the hot path) skip reading the high-water mark and report the last known peak.
_PEAK_READ_AFTER_S = 0.002


class LambdaPool(Pool):
    def __init__(self, spec: FunctionSpec, backend: Backend, launcher: Launcher, console: Console, idle_ttl: float, always_cold: bool = False,
                 records: RecordSink | None = None) -> None:
        super().__init__(spec, backend, launcher, console, idle_ttl, always_cold)
        self.records = records or RecordSink()
        self._idle: list[Environment] = []  # most recently used last

    @property
    def warm_target(self) -> int:
        return self.spec.provisioned_concurrency

    @property
    def concurrency_limit(self) -> int:
        reserved = self.spec.reserved_concurrency
        return ACCOUNT_CONCURRENCY if reserved is None else reserved

    def in_flight(self) -> int:
        return sum(1 for env in self.environments if env.invocation is not None)

    # -- invoking -------------------------------------------------------------

    async def invoke(self, inv: Invocation) -> Outcome:
        """Run ``inv`` on an environment; raises ``Throttled`` when none may take it."""
        try:
            env = self._acquire()
        except Throttled as exc:
            self.records.add(throttled_record(self.spec, inv, exc.reason, time.time()))
            raise
        self._bind(env, inv)
        # Shielded: a caller that hangs up does not stop the invocation, as in the cloud.
        return await asyncio.shield(inv.future)

    def _acquire(self) -> Environment:
        if self.in_flight() >= self.concurrency_limit:
            reason = (
                "ConcurrentInvocationLimitExceeded"
                if self.spec.reserved_concurrency is None
                else "ReservedFunctionConcurrentInvocationLimitExceeded"
            )
            raise Throttled(reason)
        while self._idle:
            env = self._idle.pop()
            if env.state is EnvState.IDLE and env.invocation is None:
                return env
        for env in self.environments:
            if env.state is EnvState.STARTING and env.invocation is None:
                return env
        return self._spawn()

    def _bind(self, env: Environment, inv: Invocation) -> None:
        env.invocation = inv
        inv.cold = env.state is EnvState.STARTING
        if env.state is EnvState.IDLE:
            env.move(EnvState.BUSY)
        if env.waiter is not None and not env.waiter.done():
            self._deliver(env)

    def _deliver(self, env: Environment) -> None:
        """Hand the bound invocation to the runtime's parked GET /next."""
        inv = env.invocation
        assert inv is not None and env.waiter is not None
        inv.delivered_at = env.busy_since = time.monotonic()
        inv.deadline_ms = int((time.time() + self.spec.timeout) * 1000)
        env.last_request_id = inv.request_id
        timer = self._loop.call_later(self.spec.timeout, self._overdue, env, inv)
        inv.future.add_done_callback(lambda _: timer.cancel())
        line = logs.start_line(inv.request_id)
        inv.add_log(line.encode())
        self._console.platform(self.spec.name, line)
        env.waiter.set_result(inv)
        env.waiter = None

    def _overdue(self, env: Environment, inv: Invocation) -> None:
        if env.invocation is inv and not inv.is_done:
            self._kill(env, "timeout")

    # -- the Runtime API, as the environment's session calls it ---------------

    def next(self, env: Environment) -> RuntimeApiReply | asyncio.Future[Invocation]:
        if self._still_starting(env):
            self._mark_ready(env)
            if env.state is EnvState.STARTING:
                env.move(EnvState.BUSY if env.invocation is not None else EnvState.IDLE)
                if env.invocation is None:
                    self._idle.append(env)
        elif env.invocation is not None and env.invocation.delivered_at:
            return RuntimeApiReply.invalid_state("InvocationResponse", "InvocationNext")
        if env.waiter is not None and not env.waiter.done():
            return RuntimeApiReply.invalid_state("InvocationNext", "InvocationNext")
        if env.state in (EnvState.RETIRING, EnvState.DEAD) and (env.invocation is None or env.kill_reason is not None):
            return self._loop.create_future()  # it will be stopped; let it wait
        env.waiter = self._loop.create_future()
        waiter = env.waiter
        if env.invocation is not None:
            self._deliver(env)
        return waiter

    def respond(self, env: Environment, request_id: str, body: bytes | None, error_type: str | None, failed: bool) -> RuntimeApiReply:
        inv = env.invocation
        if inv is None or inv.request_id != request_id or not inv.delivered_at:
            if request_id == env.last_request_id:
                return RuntimeApiReply.invalid_state("InvocationResponse", "InvocationResponse")
            return RuntimeApiReply.invalid_request_id()
        if inv.is_done:
            return RuntimeApiReply.invalid_state("InvocationResponse", "InvocationResponse")
        if body is None:  # over the response limit
            outcome = Outcome(Status.ERROR, lambda_errors.response_too_large(), "Function.ResponseSizeTooLarge")
            reply = RuntimeApiReply.too_large(lambda_errors.RESPONSE_LIMIT)
            # awslambdaric raises on the 413 and exits; handed the next invocation, the
            # dying environment would fail it with Runtime.ExitError. Lambda resets it.
            env.kill_reason = "retire"
        elif failed:
            outcome = Outcome(Status.ERROR, body, lambda_errors.error_type_of(body, error_type))
            reply = RuntimeApiReply.accepted()
        else:
            outcome = Outcome(Status.SUCCESS, body)
            reply = RuntimeApiReply.accepted()
        # What the handler wrote before answering is already in the pipe: take it
        # now, so the log has it before END and REPORT.
        if env.handle is not None:
            env.handle.drain_output()
        self._finish(env, outcome)
        return reply

    def init_error(self, env: Environment, body: bytes, error_type: str | None) -> RuntimeApiReply:
        if not self._still_starting(env):
            return RuntimeApiReply.invalid_state("InitError", "InitError")
        env.init_error = (body, lambda_errors.error_type_of(body, error_type))
        env.init_ms = (time.monotonic() - env.spawned_at) * 1000
        self._console.error(self.spec.name, f"init failed: {body.decode(errors='replace')}")
        # Lambda tears the environment down after a failed init; the bound
        # invocation gets the error now rather than when the process gets round to exiting.
        if env.invocation is not None:
            self._finish(env, Outcome(Status.INIT_ERROR, body, env.init_error[1]))
        self._kill(env, "init error")
        return RuntimeApiReply.accepted()

    # -- finishing ------------------------------------------------------------

    def _finish(self, env: Environment, outcome: Outcome) -> None:
        """Close the environment's invocation: log END and REPORT, resolve the caller."""
        inv = env.invocation
        assert inv is not None
        now = time.monotonic()
        started = inv.delivered_at or now
        peak = env.peak_memory
        if env.handle is not None and now - started >= _PEAK_READ_AFTER_S:
            # The kernel's high-water mark catches a spike between two samples.
            peak = max(peak, env.handle.peak_memory_bytes())
        env.peak_memory = peak
        if outcome.status is Status.SUCCESS and peak > self.spec.memory * logs.MB:
            # It went over its memory between two samples; Lambda would have killed it.
            env.kill_reason = "oom"
            outcome = Outcome(Status.OUT_OF_MEMORY, lambda_errors.out_of_memory(inv.request_id), "Runtime.OutOfMemory")
        if not inv.delivered_at:  # it never reached the handler (init failed, or the runtime died first)
            start = logs.start_line(inv.request_id)
            inv.add_log(start.encode())
            self._console.platform(self.spec.name, start)
        status = {Status.TIMEOUT: "timeout", Status.SUCCESS: None, Status.ERROR: None}.get(outcome.status, "error")
        report = logs.Report(
            request_id=inv.request_id,
            duration_ms=(now - started) * 1000,
            memory_size_mb=self.spec.memory,
            max_memory_bytes=peak,
            # Only the invocation that waited for init pays for it: a provisioned
            # environment's init happened before anyone asked.
            init_ms=env.init_ms if inv.cold else None,
            status=status,
            error_type=outcome.error_type if status == "error" else None,
        )
        report_line = logs.report_line(report)
        for line in (logs.end_line(inv.request_id), report_line):
            inv.add_log(line.encode())
            self._console.platform(self.spec.name, line)
        log = inv.log_bytes()
        started_at = time.time() - (now - started)
        self.records.add(lambda_record(self.spec, inv, outcome.status, outcome.error_type, report, report_line, log, started_at))
        inv.resolve(Outcome(outcome.status, outcome.payload, outcome.error_type, log[-TAIL_BYTES:]))
        env.invocation = None
        env.busy_since = 0.0
        env.served += 1
        env.last_used = now
        if env.kill_reason is not None:
            self._kill(env, env.kill_reason)
        elif self._should_retire(env):
            self._kill(env, "retire")
        elif env.state is EnvState.BUSY:
            env.move(EnvState.IDLE)
            self._idle.append(env)

    # -- pool hooks -----------------------------------------------------------

    async def _prepare(self, env: Environment) -> Callable[[], None]:
        # The environment's own Runtime API port: a connection that arrives there can
        # only act for this environment.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        env.runtime_api = "127.0.0.1:%d" % sock.getsockname()[1]
        server = await self._loop.create_server(lambda: RuntimeApiProtocol(_Session(self, env)), sock=sock)

        def cleanup() -> None:
            server.close()
            if env.waiter is not None and not env.waiter.done():
                env.waiter.cancel()

        return cleanup

    def _on_start_failed(self, env: Environment, exc: BackendError) -> None:
        if env.invocation is not None and isinstance(exc, DependenciesFailed):
            module = self.spec.handler.rsplit(".", 1)[0]
            payload = lambda_errors.dependencies_failed(module, exc.summary)
            self._finish(env, Outcome(Status.INIT_ERROR, payload, "Runtime.ImportModuleError"))
        elif env.invocation is not None:
            reason = "Couldn't find valid bootstrap(s): " + str(exc)
            payload = lambda_errors.invalid_entrypoint(env.invocation.request_id, reason)
            self._finish(env, Outcome(Status.CRASH, payload, "Runtime.InvalidEntrypoint"))

    def _on_output(self, env: Environment, line: bytes) -> None:
        inv = env.invocation
        if inv is not None and inv.delivered_at and not inv.is_done:
            inv.add_log(line)
        self._console.output(self.spec.name, line)

    def _on_kill(self, env: Environment, reason: str) -> None:
        inv = env.invocation
        if inv is None or inv.is_done:
            return
        if reason == "timeout":
            line = logs.timeout_line(inv.request_id, self.spec.timeout)
            inv.add_log(line.encode())
            self._console.error(self.spec.name, line)
            self._finish(env, Outcome(Status.TIMEOUT, lambda_errors.timed_out(inv.request_id, self.spec.timeout), "Sandbox.Timedout"))
        elif reason == "oom":
            self._finish(env, Outcome(Status.OUT_OF_MEMORY, lambda_errors.out_of_memory(inv.request_id), "Runtime.OutOfMemory"))

    def _on_exit(self, env: Environment, code: int | None) -> None:
        inv = env.invocation
        if inv is None or inv.is_done:
            return
        if env.init_error is not None:
            body, error_type = env.init_error
            self._finish(env, Outcome(Status.INIT_ERROR, body, error_type))
        elif env.kill_reason == "oom":
            self._finish(env, Outcome(Status.OUT_OF_MEMORY, lambda_errors.out_of_memory(inv.request_id), "Runtime.OutOfMemory"))
        else:
            payload = lambda_errors.exited(inv.request_id, code if code is not None else -9)
            self._finish(env, Outcome(Status.CRASH, payload, "Runtime.ExitError"))

    def recycle(self) -> int:
        count = super().recycle()
        self._idle.clear()
        return count


class _Session:
    """What one environment's Runtime API connection may do: act for that environment only."""

    __slots__ = ("pool", "env")

    def __init__(self, pool: LambdaPool, env: Environment) -> None:
        self.pool = pool
        self.env = env

    def next(self) -> RuntimeApiReply | asyncio.Future[Invocation]:
        return self.pool.next(self.env)

    def respond(self, request_id: str, body: bytes | None) -> RuntimeApiReply:
        return self.pool.respond(self.env, request_id, body, None, failed=False)

    def fail(self, request_id: str, body: bytes | None, error_type: str | None) -> RuntimeApiReply:
        return self.pool.respond(self.env, request_id, body, error_type, failed=True)

    def init_error(self, body: bytes, error_type: str | None) -> RuntimeApiReply:
        return self.pool.init_error(self.env, body, error_type)
