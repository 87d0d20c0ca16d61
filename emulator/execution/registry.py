"""The running functions: one pool each, the backend they share, and housekeeping.

``up`` builds one Registry from the Project. It starts provisioned environments,
samples memory and reaps idle environments on a timer, and stops everything on
shutdown, leaving no worker behind. ``apply`` moves it to an edited Project
(hot reload): only the functions that changed get new pools. A function with a
requirements.txt runs on its own virtualenv (``runtimes.venvs``): its build
starts when the function is added, and its launcher waits for it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from emulator.backends import Backend
from emulator.backends.base import LaunchSpec
from emulator.config.model import FunctionSpec, Project
from emulator.console import Console
from emulator.execution.async_invoke import AsyncInvoker
from emulator.execution.environment import Environment
from emulator.events.gcp_delivery import EventDelivery
from emulator.events.gcp_sources import GcpSources
from emulator.execution.gcp_invoke import GcpInvoker
from emulator.execution.gcp_pool import GcpPool
from emulator.execution.lambda_pool import LambdaPool
from emulator.execution.pool import Pool
from emulator.records.recorder import Recorder
from emulator.records.store import FILE_NAME as RECORDS_FILE
from emulator.runtimes import gcp_launch, lambda_launch
from emulator.runtimes.gcp_python import gcp_environment
from emulator.runtimes.lambda_env import lambda_environment
from emulator.runtimes.venvs import Venvs, default_cache_dir

# How often memory is sampled; a handler that overshoots is killed within about this long.
MEMORY_SAMPLE_S = 0.1
REAP_EVERY_S = 1.0


@dataclass(frozen=True, slots=True)
class Applied:
    """What ``Registry.apply`` did: functions added, and those removed or changed with how many environments each retired."""

    added: tuple[str, ...] = ()
    removed: tuple[tuple[str, int], ...] = ()
    changed: tuple[tuple[str, int], ...] = ()


class Registry:
    def __init__(
        self,
        project: Project,
        backend: Backend,
        console: Console,
        host_env: Mapping[str, str],
        endpoint_url: str,
        always_cold: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        self.project = project
        self.backend = backend
        self.console = console
        self.endpoint_url = endpoint_url
        self._host_env = dict(host_env)
        # Where virtualenvs are cached unless settings.cache_dir says otherwise.
        self._cache_dir = cache_dir or default_cache_dir(self._host_env)
        self.venvs = Venvs(console, self._host_env)
        self.always_cold = always_cold
        self.pools: dict[str, Pool] = {}
        self._retired: list[Pool] = []  # replaced or removed pools whose busy environments are finishing
        self.async_invoker = AsyncInvoker(console, project.settings.async_retry_delays)
        # Every invocation's record, in the state folder; the folder is read once, at up.
        self.records = Recorder(project.state_dir / RECORDS_FILE, str(project.path), console)
        self.gcp_invoker = GcpInvoker(console, self.records)
        self.gcp_delivery = EventDelivery(self.gcp_invoker, console)
        gcp_pools: dict[str, GcpPool] = {}  # filled in by start()
        self._gcp_pools = gcp_pools
        self.gcp_sources = GcpSources(gcp_pools, project.settings, self.gcp_delivery, console)
        self._housekeeping: asyncio.Task[None] | None = None
        # Called with the new Project after each ``apply``: event sources that follow the config.
        self.on_apply: list[Callable[[Project], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def arn(self, name: str, qualifier: str | None = None) -> str:
        s = self.project.settings
        arn = f"arn:aws:lambda:{s.region}:{s.account_id}:function:{name}"
        return f"{arn}:{qualifier}" if qualifier else arn

    def lambda_pool(self, name: str) -> LambdaPool | None:
        pool = self.pools.get(name)
        return pool if isinstance(pool, LambdaPool) else None

    def gcp_pool(self, name: str) -> GcpPool | None:
        pool = self.pools.get(name)
        return pool if isinstance(pool, GcpPool) else None

    def _venvs_dir(self) -> Path:
        return (self.project.settings.cache_dir or self._cache_dir) / "venvs"

    async def _launch_lambda(self, spec: FunctionSpec, env: Environment) -> LaunchSpec:
        python = await self.venvs.python_for(spec, self._venvs_dir())
        variables = lambda_environment(
            spec,
            self.project.settings,
            self._host_env,
            runtime_api=env.runtime_api,
            endpoint_url=self.endpoint_url,
            initialization_type="provisioned-concurrency" if env.provisioned else "on-demand",
        )
        return lambda_launch(spec, variables, python)

    async def _launch_gcp(self, spec: FunctionSpec, env: Environment) -> LaunchSpec:
        python = await self.venvs.python_for(spec, self._venvs_dir())
        variables = gcp_environment(spec, self.project.settings, self._host_env, env.port)
        return gcp_launch(spec, variables, env.port, python)

    def _pool(self, spec: FunctionSpec) -> Pool:
        settings = self.project.settings
        if spec.provider == "gcp":
            return GcpPool(
                spec, self.backend, self._launch_gcp, self.console, settings.idle_ttl, self.always_cold, settings.queue_timeout
            )
        return LambdaPool(
            spec, self.backend, self._launch_lambda, self.console, settings.idle_ttl, self.always_cold, self.records
        )

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.records.start()
        self.console.register(list(self.project.functions))
        for spec in self.project.functions.values():
            self._add(spec)
        self._housekeeping = asyncio.ensure_future(self._keep_house())

    def _add(self, spec: FunctionSpec) -> None:
        self.venvs.prepare(spec, self._venvs_dir())
        pool = self._pool(spec)
        self.pools[spec.name] = pool
        if isinstance(pool, GcpPool):
            self._gcp_pools[spec.name] = pool
        pool.prewarm()

    def apply(self, project: Project) -> Applied:
        """Serve ``project`` from now on: pools for new functions, none for removed ones, a new pool per changed one.

        An unchanged function keeps its pool and its warm environments. A removed or
        replaced pool retires its environments: idle ones now, busy ones once their
        work is done; it takes no new work. Changed settings change every function.
        """
        old, self.project = self.project, project
        every = project.settings != old.settings
        if every:
            self.async_invoker._retry_delays = project.settings.async_retry_delays
            self.gcp_sources._settings = project.settings
        removed = tuple((name, self._retire(name)) for name in old.functions if name not in project.functions)
        added: list[str] = []
        changed: list[tuple[str, int]] = []
        for name, spec in project.functions.items():
            if name in self.pools and old.functions.get(name) == spec and not every:
                continue
            if name in self.pools:
                changed.append((name, self._retire(name)))
            else:
                added.append(name)
            self._add(spec)
        # Keep the config's order, as the banner and /_emu/functions show it.
        order = {name: self.pools.pop(name) for name in project.functions}
        self.pools.update(order)
        self.console.register(list(project.functions))
        for listener in self.on_apply:
            listener(project)
        return Applied(tuple(added), removed, tuple(changed))

    def code_changed(self, name: str) -> None:
        """``name``'s code was edited: build its virtualenv now if its requirements changed, and retry a failed build."""
        pool = self.pools.get(name)
        if pool is not None:
            self.venvs.prepare(pool.spec, self._venvs_dir(), retry=True)

    def _retire(self, name: str) -> int:
        pool = self.pools.pop(name)
        self._gcp_pools.pop(name, None)
        count = pool.retire()
        if pool.environments:
            self._retired.append(pool)
        return count

    def _all_pools(self) -> list[Pool]:
        self._retired = [pool for pool in self._retired if pool.environments]
        return [*self.pools.values(), *self._retired]

    async def _keep_house(self) -> None:
        ticks_per_reap = max(1, round(REAP_EVERY_S / MEMORY_SAMPLE_S))
        tick = 0
        while True:
            await asyncio.sleep(MEMORY_SAMPLE_S)
            tick += 1
            for pool in self._all_pools():
                try:
                    pool.sample_memory()
                    if tick % ticks_per_reap == 0:
                        pool.reap_idle()
                except Exception as exc:  # housekeeping must outlive any one bad sample
                    self.console.error(pool.spec.name, f"housekeeping failed: {exc!r}")

    def stop_soon(self) -> None:
        """Kill every environment on the next loop turn. Safe from a signal handler.

        Called at Ctrl-C: an invocation in flight would otherwise hold the server's
        graceful shutdown open until it timed out, and then be cancelled mid-response.
        """
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop_environments)

    def _stop_environments(self) -> None:
        for pool in self._all_pools():
            pool.close()
        self.console.feed.close()  # ends `emu logs -f` streams, which would hold shutdown up

    async def aclose(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
        await self.venvs.aclose()
        await self.async_invoker.aclose()
        await self.gcp_delivery.aclose()
        await asyncio.gather(*(pool.aclose() for pool in self._all_pools()))
        await self.backend.aclose()
        await self.records.aclose()  # last: the records of work that failed at shutdown go in too
