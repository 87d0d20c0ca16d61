"""A Google Cloud Function's pool: HTTP instances, each serving up to ``concurrency`` requests.

Cloud Run's (and so Cloud Functions') rules, as modelled here:
- a request goes to a ready instance with a free slot; failing that, one that
  is starting; failing that, a new instance is started (a cold start), up to
  ``max_instances``;
- past that a request waits up to ``queue_timeout`` for a slot, then gets 429;
- cold start is from spawn until the instance accepts connections;
- ``min_instances`` are started up front and never reaped.

Slots are counted in ``Environment.active``: a request holds one from the moment
it is given an instance until the instance has answered it.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import deque
from typing import Callable

from emulator.backends.base import Backend
from emulator.config.model import FunctionSpec
from emulator.console import Console
from emulator.errors import BackendError, EmuError, Throttled
from emulator.execution.environment import Environment, EnvState
from emulator.execution.pool import Launcher, Pool
from emulator.upstream import Upstream

# How often a starting instance is tried for a connection.
_READY_POLL_S = 0.002
_WORKER_WAIT_S = 1.0
# The most lines of one request's output kept for its record (the record trims bytes too).
_CAPTURE_LINES = 2000


class InstanceFailed(EmuError):
    """The instance a request was waiting for died before it could serve it."""


class GcpPool(Pool):
    def __init__(
        self,
        spec: FunctionSpec,
        backend: Backend,
        launcher: Launcher,
        console: Console,
        idle_ttl: float,
        always_cold: bool = False,
        queue_timeout: float = 10.0,
    ) -> None:
        super().__init__(spec, backend, launcher, console, idle_ttl, always_cold)
        self.queue_timeout = queue_timeout
        self._queue: deque[asyncio.Future[Environment]] = deque()
        # Requests waiting for a particular starting instance.
        self._starters: dict[int, list[asyncio.Future[Environment]]] = {}
        self.upstreams: dict[int, Upstream] = {}
        # Per instance serving one request at a time, the output it writes meanwhile:
        # that request's log, for its record. Concurrent requests' lines cannot be told apart.
        self.captures: dict[int, list[bytes]] = {}

    @property
    def warm_target(self) -> int:
        return self.spec.min_instances

    @property
    def concurrency_limit(self) -> int:
        return self.spec.max_instances * self.spec.concurrency

    # -- slots ------------------------------------------------------------------

    async def acquire(self) -> tuple[Environment, bool]:
        """A slot on an instance, and whether the request waited for a cold start.

        Raises ``Throttled`` after ``queue_timeout`` at ``max_instances``, and
        ``InstanceFailed`` when the instance it waited for could not start.
        """
        env = self._ready_with_room()
        if env is not None:
            self._take(env)
            return env, False
        env = self._starting_with_room()
        if env is None and self._live() < self.spec.max_instances:
            env = self._spawn()
        if env is not None:
            return await self._wait_for_start(env), True
        return await self._wait_in_queue(), False

    def _ready_with_room(self) -> Environment | None:
        best: Environment | None = None
        for env in self.environments:
            if env.state in (EnvState.IDLE, EnvState.BUSY) and env.active < self.spec.concurrency:
                # Fill the busiest instance first, then the most recently used, as
                # Cloud Run packs requests onto warm instances.
                if best is None or (env.active, env.last_used) > (best.active, best.last_used):
                    best = env
        return best

    def _starting_with_room(self) -> Environment | None:
        for env in self.environments:
            if env.state is EnvState.STARTING and env.active < self.spec.concurrency and not env.kill_reason:
                return env
        return None

    def _live(self) -> int:
        return sum(1 for env in self.environments if env.is_live())

    def _take(self, env: Environment) -> None:
        env.active += 1
        if env.state is EnvState.IDLE:
            env.move(EnvState.BUSY)
        if not env.busy_since:
            env.busy_since = time.monotonic()

    async def _wait_for_start(self, env: Environment) -> Environment:
        env.active += 1  # the slot is held for us while the instance starts
        fut: asyncio.Future[Environment] = self._loop.create_future()
        self._starters.setdefault(env.id, []).append(fut)
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self.release(env)
            elif env.id in self._starters and fut in self._starters[env.id]:
                self._starters[env.id].remove(fut)
                env.active -= 1
            raise

    async def _wait_in_queue(self) -> Environment:
        fut: asyncio.Future[Environment] = self._loop.create_future()
        self._queue.append(fut)
        try:
            await asyncio.wait({fut}, timeout=self.queue_timeout)
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release(fut.result())
            else:
                self._drop_from_queue(fut)
            raise
        if fut.done():
            return fut.result()  # a slot was handed to us: it is ours now
        self._drop_from_queue(fut)
        raise Throttled("The request was aborted because there was no available instance.")

    def _drop_from_queue(self, fut: asyncio.Future[Environment]) -> None:
        try:
            self._queue.remove(fut)
        except ValueError:
            pass
        fut.cancel()

    def release(self, env: Environment) -> None:
        """A request is done with its slot: hand it to a queued request, or let the instance idle."""
        env.active -= 1
        env.last_used = time.monotonic()
        env.served += 1
        self._offer(env)
        if env.active > 0:
            return
        env.busy_since = 0.0
        if env.state is EnvState.RETIRING or env.kill_reason or self._should_retire(env):
            self._kill(env, env.kill_reason or "retire")
        elif env.state is EnvState.BUSY:
            env.move(EnvState.IDLE)

    def _offer(self, env: Environment) -> None:
        """Give a ready instance's free slots to requests waiting in the queue."""
        while self._queue and env.active < self.spec.concurrency and not env.kill_reason:
            if env.state not in (EnvState.IDLE, EnvState.BUSY):
                return
            fut = self._queue.popleft()
            if not fut.done():
                self._take(env)
                fut.set_result(env)

    # -- readiness ----------------------------------------------------------------

    async def _await_ready(self, env: Environment) -> None:
        """Poll the instance's port until it accepts a connection: that is the end of its cold start."""
        while self._still_starting(env):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", env.port)
            except OSError:
                await asyncio.sleep(_READY_POLL_S)
                continue
            writer.close()
            break
        # functions-framework's gunicorn binds the port, then forks the worker that
        # serves: wait for the worker too, so its memory is counted from the start.
        deadline = time.monotonic() + _WORKER_WAIT_S
        while env.handle is not None and not env.handle.refresh_children() and time.monotonic() < deadline:
            await asyncio.sleep(_READY_POLL_S)
        if not self._still_starting(env):
            return
        self._mark_ready(env)
        self.upstreams[env.id] = Upstream("127.0.0.1", env.port)
        self._console.platform(self.spec.name, f"instance {env.id} ready (cold start {env.init_ms:.0f} ms)")
        starters = self._starters.pop(env.id, [])
        if env.state is EnvState.STARTING:  # else recycled while starting: it serves its starters, then stops
            env.move(EnvState.BUSY if env.active else EnvState.IDLE)
        if env.active:
            env.busy_since = time.monotonic()
        for fut in starters:
            if fut.done():  # its request gave up while the instance started
                env.active -= 1
            else:
                fut.set_result(env)
        if env.active == 0 and env.state is EnvState.BUSY:
            env.busy_since = 0.0
            env.move(EnvState.IDLE)
        if env.active == 0 and env.state is EnvState.RETIRING:
            self._kill(env, "retire")
        self._offer(env)

    # -- pool hooks ---------------------------------------------------------------

    async def _prepare(self, env: Environment) -> Callable[[], None]:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            env.port = probe.getsockname()[1]
        return lambda: None

    def _init_limit(self) -> float:
        # Cloud Run gives a container four minutes to start listening; locally a
        # broken import shows up long before that.
        return 240.0

    def _on_started(self, env: Environment) -> None:
        asyncio.ensure_future(self._await_ready(env))

    def _on_start_failed(self, env: Environment, exc: BackendError) -> None:
        self._fail_starters(env, str(exc))

    def _on_output(self, env: Environment, line: bytes) -> None:
        capture = self.captures.get(env.id)
        if capture is not None and len(capture) < _CAPTURE_LINES:
            capture.append(line)
        self._console.output(self.spec.name, line)

    def _on_exit(self, env: Environment, code: int | None) -> None:
        self._fail_starters(env, f"instance exited with status {code}")

    def _on_removed(self, env: Environment) -> None:
        self._fail_starters(env, "instance stopped")
        upstream = self.upstreams.pop(env.id, None)
        if upstream is not None:
            upstream.close()
        # Requests queued for a slot may now get a new instance in its place.
        while self._queue and self._live() < self.spec.max_instances and not self._closing:
            fut = self._queue.popleft()
            if fut.done():
                continue
            spare = self._spawn()
            spare.active += 1
            self._starters.setdefault(spare.id, []).append(fut)

    def _fail_starters(self, env: Environment, reason: str) -> None:
        for fut in self._starters.pop(env.id, []):
            if not fut.done():
                env.active -= 1
                fut.set_exception(InstanceFailed(reason))

    def terminate(self, env: Environment, reason: str) -> None:
        """Kill an instance for a reason the platform decided (a gen1 timeout)."""
        self._kill(env, reason)
