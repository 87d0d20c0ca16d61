"""One pool per Lambda function: its environments, and how invocations find them.

The pool models Lambda's lifecycle:
- an invocation takes the most recently used idle environment, else one that is
  still starting and unclaimed, else a new one is spawned (a cold start);
- at most ``reserved_concurrency`` invocations run at once; past that the
  invocation is throttled, never queued, as Lambda does;
- provisioned environments are started up front and never reaped;
- an environment is killed at its invocation's deadline, when it goes over its
  memory, or when it has been idle for ``idle_ttl``; a dead one is never reused.

Decisions (``_acquire``, ``_should_retire``) are synchronous; the I/O they lead
to (spawning, killing) runs on the event loop.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Callable

from emulator.backends.base import Backend, LaunchSpec
from emulator.config.model import FunctionSpec
from emulator.console import Console
from emulator.errors import BackendError, Throttled
from emulator.execution.environment import Environment, EnvState
from emulator.execution.invocation import Invocation, Outcome, Status, TAIL_BYTES
from emulator.surfaces.runtime_api import RuntimeApiProtocol, RuntimeApiReply
from emulator.wire import lambda_errors, logs

# AWS's default account-wide concurrency, the cap for functions without a reservation.
ACCOUNT_CONCURRENCY = 1000
# Lambda gives on-demand init 10 s before it gives up on it.
INIT_LIMIT_S = 10.0
# Invocations shorter than this cannot have touched enough memory to matter.
_PEAK_READ_AFTER_S = 0.002
_SAMPLE_AFTER_S = 0.05

Launcher = Callable[[FunctionSpec, Environment], LaunchSpec]


class Pool:
    def __init__(
        self,
        spec: FunctionSpec,
        backend: Backend,
        launcher: Launcher,
        console: Console,
        idle_ttl: float,
        always_cold: bool = False,
    ) -> None:
        self.spec = spec
        self.backend = backend
        self._launcher = launcher
        self._console = console
        self.idle_ttl = idle_ttl
        self.always_cold = always_cold
        self.environments: list[Environment] = []
        self._idle: list[Environment] = []  # most recently used last
        self._closing = False
        self._loop = asyncio.get_running_loop()

    def __repr__(self) -> str:
        counts = {s: 0 for s in EnvState}
        for env in self.environments:
            counts[env.state] += 1
        return (
            f"<Pool {self.spec.name} [{counts[EnvState.BUSY]} busy, {counts[EnvState.IDLE]} idle, "
            f"{counts[EnvState.STARTING]} starting, {counts[EnvState.RETIRING]} retiring]>"
        )

    # -- invoking -------------------------------------------------------------

    @property
    def concurrency_limit(self) -> int:
        reserved = self.spec.reserved_concurrency
        return ACCOUNT_CONCURRENCY if reserved is None else reserved

    def in_flight(self) -> int:
        return sum(1 for env in self.environments if env.invocation is not None)

    async def invoke(self, inv: Invocation) -> Outcome:
        """Run ``inv`` on an environment; raises ``Throttled`` when none may take it."""
        env = self._acquire()
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
        now = time.monotonic()
        inv.delivered_at = now
        inv.deadline_ms = int((time.time() + self.spec.timeout) * 1000)
        env.last_request_id = inv.request_id
        self._timer(env, inv, self.spec.timeout, "timeout")
        line = logs.start_line(inv.request_id)
        inv.add_log(line.encode())
        self._console.platform(self.spec.name, line)
        env.waiter.set_result(inv)
        env.waiter = None

    def _timer(self, env: Environment, inv: Invocation, seconds: float, reason: str) -> None:
        def fire() -> None:
            if env.invocation is inv and not inv.is_done:
                self._kill(env, reason)

        handle = self._loop.call_later(seconds, fire)
        inv.future.add_done_callback(lambda _: handle.cancel())

    # -- environments ---------------------------------------------------------

    def _spawn(self, provisioned: bool = False) -> Environment:
        env = Environment(function=self.spec.name, provisioned=provisioned)
        env.spawned_at = time.monotonic()
        self.environments.append(env)
        asyncio.ensure_future(self._run(env))
        return env

    def prewarm(self) -> None:
        """Start the provisioned environments that are missing."""
        have = sum(1 for env in self.environments if env.provisioned and env.is_live())
        for _ in range(self.spec.provisioned_concurrency - have):
            self._spawn(provisioned=True)

    async def _run(self, env: Environment) -> None:
        """Start one environment, watch it until it exits, and clean up after it."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        env.runtime_api = "127.0.0.1:%d" % sock.getsockname()[1]
        server = await self._loop.create_server(lambda: RuntimeApiProtocol(_Session(self, env)), sock=sock)
        code: int | None = None
        try:
            launch = self._launcher(self.spec, env)
            self._timer_init(env)
            env.handle = await self.backend.start(launch, lambda line: self._output(env, line))
            if env.state is EnvState.DEAD or env.kill_reason:  # killed (shutdown) while starting
                env.handle.kill()
            code = await env.handle.wait()
        except BackendError as exc:
            self._console.error(self.spec.name, str(exc))
            if env.invocation is not None:
                reason = "Couldn't find valid bootstrap(s): " + str(exc)
                self._finish(env, Outcome(Status.CRASH, lambda_errors.invalid_entrypoint(env.invocation.request_id, reason), "Runtime.InvalidEntrypoint"))
        finally:
            server.close()
            if env.waiter is not None and not env.waiter.done():
                env.waiter.cancel()
            self._exited(env, code)

    def _timer_init(self, env: Environment) -> None:
        # Lambda allows init 10 s, then retries it inside the invocation's own timeout.
        limit = INIT_LIMIT_S + self.spec.timeout

        def fire() -> None:
            if env.state is EnvState.STARTING:
                self._console.error(self.spec.name, f"environment {env.id} did not finish init in {limit:.0f} s")
                self._kill(env, "timeout")

        self._loop.call_later(limit, fire)

    def _exited(self, env: Environment, code: int | None) -> None:
        was_starting = env.init_ms is None
        if env.state is not EnvState.DEAD:
            if env.state is not EnvState.RETIRING:
                env.move(EnvState.RETIRING)
            env.move(EnvState.DEAD)
        inv = env.invocation
        if inv is not None and not inv.is_done:
            if env.init_error is not None:
                body, error_type = env.init_error
                self._finish(env, Outcome(Status.INIT_ERROR, body, error_type))
            elif env.kill_reason == "oom":
                self._finish(env, Outcome(Status.OUT_OF_MEMORY, lambda_errors.out_of_memory(inv.request_id), "Runtime.OutOfMemory"))
            else:
                self._finish(env, Outcome(Status.CRASH, lambda_errors.exited(inv.request_id, code if code is not None else -9), "Runtime.ExitError"))
        elif env.kill_reason is None and not self._closing and code is not None:
            self._console.error(self.spec.name, f"environment {env.id} (pid {env.pid}) exited with status {code}")
        if env in self.environments:
            self.environments.remove(env)
        # A provisioned environment is replaced, unless its code cannot even start.
        if env.provisioned and not self._closing and env.init_error is None and not was_starting:
            self.prewarm()

    def _kill(self, env: Environment, reason: str) -> None:
        if env.kill_reason is None:
            env.kill_reason = reason
        inv = env.invocation
        if inv is not None and not inv.is_done:
            if reason == "timeout":
                line = logs.timeout_line(inv.request_id, self.spec.timeout)
                inv.add_log(line.encode())
                self._console.error(self.spec.name, line)
                self._finish(env, Outcome(Status.TIMEOUT, lambda_errors.timed_out(inv.request_id, self.spec.timeout), "Sandbox.Timedout"))
            elif reason == "oom":
                self._finish(env, Outcome(Status.OUT_OF_MEMORY, lambda_errors.out_of_memory(inv.request_id), "Runtime.OutOfMemory"))
        if env.state in (EnvState.STARTING, EnvState.IDLE, EnvState.BUSY):
            env.move(EnvState.RETIRING)
        if env.handle is not None:
            env.handle.kill()

    def _output(self, env: Environment, line: bytes) -> None:
        inv = env.invocation
        if inv is not None and inv.delivered_at and not inv.is_done:
            inv.add_log(line)
        self._console.output(self.spec.name, line)

    # -- the Runtime API, as the environment's session calls it ---------------

    def next(self, env: Environment) -> RuntimeApiReply | asyncio.Future[Invocation]:
        if env.invocation is not None and env.invocation.answer is not None:
            self._settle(env, env.invocation)
        if env.state is EnvState.STARTING:
            env.init_ms = (time.monotonic() - env.spawned_at) * 1000
            if env.handle is not None:
                # What init used is the floor of every REPORT's Max Memory Used, even
                # for invocations too short to be sampled or to read the peak at the end.
                env.peak_memory = max(env.peak_memory, env.handle.peak_memory_bytes())
            env.move(EnvState.BUSY if env.invocation is not None else EnvState.IDLE)
            if env.invocation is None:
                self._idle.append(env)
        elif env.invocation is not None and env.invocation.delivered_at:
            return RuntimeApiReply.invalid_state("InvocationResponse", "InvocationNext")
        if env.waiter is not None and not env.waiter.done():
            return RuntimeApiReply.invalid_state("InvocationNext", "InvocationNext")
        if env.state in (EnvState.RETIRING, EnvState.DEAD):
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
        if inv.answer is not None or inv.is_done:
            return RuntimeApiReply.invalid_state("InvocationResponse", "InvocationResponse")
        if body is None:  # over the response limit
            inv.answer = Outcome(Status.ERROR, lambda_errors.response_too_large(), "Function.ResponseSizeTooLarge")
            reply = RuntimeApiReply.too_large(lambda_errors.RESPONSE_LIMIT)
            # awslambdaric raises on the 413 and exits; handed the next invocation, the
            # dying environment would fail it with Runtime.ExitError. Lambda resets it.
            env.kill_reason = "retire"
        elif failed:
            inv.answer = Outcome(Status.ERROR, body, lambda_errors.error_type_of(body, error_type))
            reply = RuntimeApiReply.accepted()
        else:
            inv.answer = Outcome(Status.SUCCESS, body)
            reply = RuntimeApiReply.accepted()
        # Settled on the next loop turn: by then the output the handler wrote before
        # answering (already in the pipe) has been read into the invocation's log.
        self._loop.call_soon(self._settle, env, inv)
        return reply

    def _settle(self, env: Environment, inv: Invocation) -> None:
        if env.invocation is inv and not inv.is_done and inv.answer is not None:
            self._finish(env, inv.answer)

    def init_error(self, env: Environment, body: bytes, error_type: str | None) -> RuntimeApiReply:
        if env.state is not EnvState.STARTING:
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
        # The kernel's high-water mark catches a spike between two samples. Touching
        # enough memory to matter takes milliseconds, so sub-ms invocations (the hot
        # path) skip the read and report the last sampled peak.
        if env.handle is not None and now - started >= _PEAK_READ_AFTER_S:
            peak = max(peak, env.handle.peak_memory_bytes())
        env.peak_memory = peak
        if outcome.status is Status.SUCCESS and peak > self.spec.memory * logs.MB:
            # It went over its memory between two samples; Lambda would have killed it.
            env.kill_reason = "oom"
            outcome = Outcome(Status.OUT_OF_MEMORY, lambda_errors.out_of_memory(inv.request_id), "Runtime.OutOfMemory")
        # Only the invocation that waited for init pays for it: a provisioned
        # environment's init happened before anyone asked.
        init_ms = env.init_ms if inv.cold else None
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
            init_ms=init_ms,
            status=status,
            error_type=outcome.error_type if status == "error" else None,
        )
        for line in (logs.end_line(inv.request_id), logs.report_line(report)):
            inv.add_log(line.encode())
            self._console.platform(self.spec.name, line)
        log = inv.log_bytes()
        inv.resolve(Outcome(outcome.status, outcome.payload, outcome.error_type, log[-TAIL_BYTES:]))
        env.invocation = None
        env.served += 1
        env.last_used = now
        if env.kill_reason is not None:
            self._kill(env, env.kill_reason)
        elif self._should_retire(env):
            self._kill(env, "retire")
        elif env.state is EnvState.BUSY:
            env.move(EnvState.IDLE)
            self._idle.append(env)

    def _should_retire(self, env: Environment) -> bool:
        return self.always_cold or self.idle_ttl <= 0 or env.state is EnvState.RETIRING or self._closing

    # -- housekeeping ---------------------------------------------------------

    def sample_memory(self) -> None:
        """Kill environments that went over their memory; remember each one's peak."""
        limit = self.spec.memory * logs.MB
        since = time.monotonic() - _SAMPLE_AFTER_S
        for env in self.environments:
            # Only invocations that have run a while are sampled: a short one is
            # covered by the high-water mark read when it finishes.
            inv = env.invocation
            if env.handle is None or inv is None or not inv.delivered_at or inv.delivered_at > since:
                continue
            used = max(env.handle.memory_bytes(), env.handle.peak_memory_bytes())
            if used > env.peak_memory:
                env.peak_memory = used
            if used > limit and env.kill_reason is None:
                self._console.error(self.spec.name, f"environment {env.id} used {used // logs.MB} MB of {self.spec.memory} MB: killed")
                self._kill(env, "oom")

    def reap_idle(self) -> None:
        if self.idle_ttl <= 0:
            return
        cutoff = time.monotonic() - self.idle_ttl
        for env in list(self.environments):
            if env.state is EnvState.IDLE and not env.provisioned and env.last_used < cutoff:
                self._kill(env, "idle")

    def recycle(self) -> int:
        """Retire every environment: idle ones now, busy ones once they finish."""
        count = 0
        for env in list(self.environments):
            if env.state in (EnvState.IDLE, EnvState.STARTING) and env.invocation is None:
                self._kill(env, "retire")
                count += 1
            elif env.state in (EnvState.BUSY, EnvState.STARTING):
                env.move(EnvState.RETIRING)
                count += 1
        self._idle.clear()
        return count

    def close(self) -> None:
        """Kill every environment now and start no replacements; invocations in flight fail."""
        self._closing = True
        for env in list(self.environments):
            self._kill(env, "shutdown")

    async def aclose(self) -> None:
        self.close()
        waits = [env.handle.wait() for env in self.environments if env.handle is not None]
        if waits:
            await asyncio.wait([asyncio.ensure_future(w) for w in waits], timeout=5)


class _Session:
    """What one environment's Runtime API connection may do: act for that environment only."""

    __slots__ = ("pool", "env")

    def __init__(self, pool: Pool, env: Environment) -> None:
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
