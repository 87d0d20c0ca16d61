"""The admin surface under ``/_emu/``: health, the live state of every pool, and
(``admin_records``) invocation records, stats and the live log.

Tests and tools read state here as a user would see it, instead of poking at
emu's internals.
"""

from __future__ import annotations

import json
import time
from typing import Any

from emulator.config.model import ApiTrigger, AwsTrigger, FunctionSpec, S3Trigger, SnsTrigger, SqsTrigger
from emulator.execution.pool import Pool
from emulator.execution.registry import Registry
from emulator.runtimes.gcp_python import signature_of
from emulator.surfaces.admin_records import RecordsSurface
from emulator.surfaces.asgi import JSON, Receive, Scope, Send, respond


class AdminSurface:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._records = RecordsSurface(registry.records, registry.console.feed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        if scope["method"] != "GET":
            await respond(send, 405, [JSON], b'{"message":"Method Not Allowed"}')
            return
        if self._records.handles(rest):
            await self._records(scope, receive, send, rest)
            return
        if rest == "health":
            settings = self.registry.project.settings
            body: Any = {"status": "ok", "functions": sorted(self.registry.pools), "region": settings.region}
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
        **_invoked_by(spec),
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


def _invoked_by(spec: FunctionSpec) -> dict[str, Any]:
    """What can invoke the function, in a word or two each: its signature and triggers."""
    if spec.provider == "gcp":
        trigger = spec.trigger
        if trigger is None or trigger.kind == "http":
            what = "http"
        elif trigger.kind == "pubsub":
            what = f"pubsub {trigger.topic}"
        elif trigger.kind == "gcs":
            what = f"gcs {trigger.bucket} ({trigger.event or 'finalized'})"
        else:
            what = f"{trigger.kind} {trigger.schedule or ''}".strip()
        return {"signature": signature_of(spec), "triggers": [what], "project": spec.project}
    triggers = ["direct", *(_aws_trigger(event) for event in spec.events)]
    if spec.url:
        triggers.append("url")
    return {"signature": None, "triggers": triggers}


def _aws_trigger(event: AwsTrigger) -> str:
    if isinstance(event, ApiTrigger):
        return f"api {event.route_key}"
    if isinstance(event, S3Trigger):
        return f"s3 {event.bucket}"
    # Queues and topics by name, where the config gave an ARN too.
    if isinstance(event, SqsTrigger):
        return f"sqs {event.queue.rsplit(':', 1)[-1]}"
    if isinstance(event, SnsTrigger):
        return f"sns {event.topic.rsplit(':', 1)[-1]}"
    return f"schedule {event.expression}"
