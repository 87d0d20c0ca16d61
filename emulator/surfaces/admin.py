"""The admin surface under ``/_emu/``: health, and the live state of every pool.

Tests and tools read state here as a user would see it, instead of poking at
emu's internals.
"""

from __future__ import annotations

import json
import time
from typing import Any

from emulator.execution.pool import Pool
from emulator.execution.registry import Registry
from emulator.surfaces.asgi import JSON, Receive, Scope, Send, respond


class AdminSurface:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        if scope["method"] != "GET":
            await respond(send, 405, [JSON], b'{"message":"Method Not Allowed"}')
            return
        if rest == "health":
            body: Any = {"status": "ok", "functions": sorted(self.registry.pools)}
        elif rest == "functions":
            body = {"functions": [describe(pool) for pool in self.registry.pools.values()]}
        else:
            await respond(send, 404, [JSON], b'{"message":"Not Found"}')
            return
        await respond(send, 200, [JSON], json.dumps(body).encode())


def describe(pool: Pool) -> dict[str, Any]:
    now = time.monotonic()
    spec = pool.spec
    return {
        "name": spec.name,
        "provider": spec.provider,
        "runtime": spec.runtime,
        "memory": spec.memory,
        "timeout": spec.timeout,
        "concurrency_limit": pool.concurrency_limit,
        "summary": repr(pool),
        "environments": [
            {
                "id": env.id,
                "state": env.state.value,
                "pid": env.pid,
                "provisioned": env.provisioned,
                "served": env.served,
                "age_s": round(now - env.spawned_at, 3),
                "init_ms": None if env.init_ms is None else round(env.init_ms, 2),
                "peak_memory_mb": round(env.peak_memory / 1048576, 1),
            }
            for env in pool.environments
        ],
    }
