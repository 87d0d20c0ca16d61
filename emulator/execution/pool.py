"""The lifecycle every function's environments share, whichever cloud they model.

A ``Pool`` spawns environments through its backend, watches each until it
exits, kills it at a deadline, over its memory, when it has idled for
``idle_ttl`` or when its code changes, and keeps the pre-warmed ones
(provisioned concurrency, min instances) topped up. How work reaches an
environment is the cloud's business: ``LambdaPool`` hands invocations over the
Runtime API, ``GcpPool`` proxies HTTP requests. They plug in through the hooks
at the bottom of this class.
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

from emulator.backends.base import Backend, LaunchSpec
from emulator.config.model import FunctionSpec
from emulator.console import Console
from emulator.errors import BackendError
from emulator.execution.environment import Environment, EnvState
from emulator.wire.logs import MB

# Work younger than this is not sampled: it is covered by the high-water mark
# read when it finishes, and sampling every short invocation would cost more than it.
SAMPLE_AFTER_S = 0.05

# Decides what to run for an environment, after any I/O that takes (building a virtualenv);
# raises ``BackendError`` when the environment cannot start at all.
Launcher = Callable[[FunctionSpec, Environment], Awaitable[LaunchSpec]]


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
        self._closing = False
        self._loop = asyncio.get_running_loop()

    def __repr__(self) -> str:
        counts = {s: 0 for s in EnvState}
        for env in self.environments:
            counts[env.state] += 1
        return (
            f"<{type(self).__name__} {self.spec.name} [{counts[EnvState.BUSY]} busy, {counts[EnvState.IDLE]} idle, "
            f"{counts[EnvState.STARTING]} starting, {counts[EnvState.RETIRING]} retiring]>"
        )

    # -- starting and watching environments -----------------------------------

    @property
    def warm_target(self) -> int:
        """How many pre-warmed environments to keep: provisioned concurrency, min instances."""
        return 0

    def prewarm(self) -> None:
        """Start the pre-warmed environments that are missing."""
        have = sum(1 for env in self.environments if env.provisioned and env.is_live())
        for _ in range(self.warm_target - have):
            self._spawn(provisioned=True)

    def _spawn(self, provisioned: bool = False) -> Environment:
        env = Environment(function=self.spec.name, provisioned=provisioned)
        env.spawned_at = time.monotonic()
        self.environments.append(env)
        asyncio.ensure_future(self._run(env))
        return env

    async def _run(self, env: Environment) -> None:
        """Start one environment, watch it until it exits, and clean up after it."""
        code: int | None = None
        cleanup = await self._prepare(env)
        try:
            launch = await self._launcher(self.spec, env)
            if env.kill_reason:  # stopped while its dependencies were being installed
                return
            # Init starts here: waiting for a virtualenv's build is neither timed nor reported as init.
            env.spawned_at = time.monotonic()
            self._loop.call_later(self._init_limit(), self._init_overdue, env)
            env.handle = await self.backend.start(launch, lambda line: self._on_output(env, line))
            if env.kill_reason:  # killed (at shutdown) while it was being started
                env.handle.kill()
            else:
                self._on_started(env)
            code = await env.handle.wait()
        except BackendError as exc:
            self._console.error(self.spec.name, str(exc))
            self._on_start_failed(env, exc)
        finally:
            cleanup()
            self._exited(env, code)

    def _init_overdue(self, env: Environment) -> None:
        if self._still_starting(env):
            self._console.error(self.spec.name, f"environment {env.id} did not finish init in {self._init_limit():.0f} s")
            self._kill(env, "timeout")

    def _exited(self, env: Environment, code: int | None) -> None:
        was_ready = env.init_ms is not None and env.init_error is None
        if env.state is not EnvState.DEAD:
            if env.state is not EnvState.RETIRING:
                env.move(EnvState.RETIRING)
            env.move(EnvState.DEAD)
        if env.has_work():
            self._on_exit(env, code)
        elif env.kill_reason is None and not self._closing and code is not None:
            self._console.error(self.spec.name, f"environment {env.id} (pid {env.pid}) exited with status {code}")
        if env in self.environments:
            self.environments.remove(env)
        self._on_removed(env)
        # A pre-warmed environment is replaced, unless its code cannot even start.
        if env.provisioned and not self._closing and was_ready:
            self.prewarm()

    def _kill(self, env: Environment, reason: str) -> None:
        if env.kill_reason is None:
            env.kill_reason = reason
        self._on_kill(env, reason)
        if env.state in (EnvState.STARTING, EnvState.IDLE, EnvState.BUSY):
            env.move(EnvState.RETIRING)
        if env.handle is not None:
            env.handle.kill()

    def _mark_ready(self, env: Environment) -> None:
        """Init is over: record how long it took and what memory it left in use."""
        env.init_ms = (time.monotonic() - env.spawned_at) * 1000
        if env.handle is not None:
            # What init used is the floor of every later Max Memory Used, even for
            # work too short to be sampled.
            env.peak_memory = max(env.peak_memory, env.handle.peak_memory_bytes())

    @staticmethod
    def _still_starting(env: Environment) -> bool:
        """Init is not over: STARTING, or recycled while starting with work waiting for it.

        ``recycle()`` retires such an environment (RETIRING) without killing it: the
        work bound to it is still served once it is ready, then it stops.
        """
        return env.state is EnvState.STARTING or (
            env.state is EnvState.RETIRING and env.init_ms is None and env.kill_reason is None
        )

    def _should_retire(self, env: Environment) -> bool:
        """Whether an environment that just finished its work is stopped rather than kept warm."""
        return self.always_cold or self.idle_ttl <= 0 or env.state is EnvState.RETIRING or self._closing

    # -- housekeeping ---------------------------------------------------------

    def sample_memory(self) -> None:
        """Kill environments that went over their memory; remember each one's peak."""
        limit = self.spec.memory * MB
        since = time.monotonic() - SAMPLE_AFTER_S
        for env in self.environments:
            if env.handle is None or not env.busy_since or env.busy_since > since:
                continue
            used = max(env.handle.memory_bytes(), env.handle.peak_memory_bytes())
            if used > env.peak_memory:
                env.peak_memory = used
            if used > limit and env.kill_reason is None:
                self._console.error(self.spec.name, f"environment {env.id} used {used // MB} MB of {self.spec.memory} MB: killed")
                self._kill(env, "oom")

    def reap_idle(self) -> None:
        if self.idle_ttl <= 0:
            return
        cutoff = time.monotonic() - self.idle_ttl
        for env in list(self.environments):
            if env.state is EnvState.IDLE and not env.provisioned and env.last_used < cutoff:
                self._kill(env, "idle")

    def recycle(self) -> int:
        """Retire every environment: idle ones now, busy ones once their work is done."""
        count = 0
        for env in list(self.environments):
            if not env.is_live():
                continue
            count += 1
            if env.has_work():
                env.move(EnvState.RETIRING)
            else:
                self._kill(env, "retire")
        return count

    def retire(self) -> int:
        """Take no more work and keep nothing warm: ``recycle()`` for a pool that is being replaced."""
        self._closing = True
        return self.recycle()

    def close(self) -> None:
        """Kill every environment now and start no replacements; work in flight fails."""
        self._closing = True
        for env in list(self.environments):
            self._kill(env, "shutdown")

    async def aclose(self) -> None:
        self.close()
        waits = [env.handle.wait() for env in self.environments if env.handle is not None]
        if waits:
            await asyncio.wait([asyncio.ensure_future(w) for w in waits], timeout=5)

    # -- hooks for the cloud-specific pools -----------------------------------

    async def _prepare(self, env: Environment) -> Callable[[], None]:
        """Set up what the environment needs before it starts; returns its cleanup."""
        return lambda: None

    def _init_limit(self) -> float:
        """Seconds an environment may spend starting before it is killed."""
        return 10.0 + self.spec.timeout

    def _on_started(self, env: Environment) -> None:
        """The process is running (init is not over yet)."""

    def _on_start_failed(self, env: Environment, exc: BackendError) -> None:
        """The backend could not start the environment at all."""

    def _on_output(self, env: Environment, line: bytes) -> None:
        self._console.output(self.spec.name, line)

    def _on_kill(self, env: Environment, reason: str) -> None:
        """Answer the environment's work for a kill emu decided ("timeout", "oom"…)."""

    def _on_exit(self, env: Environment, code: int | None) -> None:
        """The environment died with work in flight: answer it."""

    def _on_removed(self, env: Environment) -> None:
        """The environment is gone from the pool."""
