"""Google's event sources, locally: Pub/Sub topics and Cloud Storage buckets.

Each turns a publish or an object change into the event every subscribed
function should get, in the shape its signature takes: a CloudEvent in binary
mode for CloudEvent (and HTTP) functions, the legacy background-event JSON for
``event`` functions. Subscribers are found from the functions' ``trigger``.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from emulator.config.model import FunctionSpec, Settings
from emulator.console import Console
from emulator.events.gcp_delivery import EventDelivery
from emulator.execution.gcp_pool import GcpPool
from emulator.runtimes.gcp_python import signature_of
from emulator.wire import gcp_events

_JSON = [(b"content-type", b"application/json")]


@dataclass(frozen=True, slots=True)
class Message:
    data: bytes
    attributes: dict[str, str]
    ordering_key: str | None = None


@dataclass(frozen=True, slots=True)
class StorageChange:
    """One object change as Cloud Storage reports it; ``data`` is None once the bytes are gone."""

    kind: str  # finalized | deleted
    bucket: str
    name: str
    data: bytes | None
    content_type: str | None
    generation: int
    time: datetime
    created: datetime | None = None  # when this generation was written; ``time`` for finalized


class GcpSources:
    def __init__(self, pools: dict[str, GcpPool], settings: Settings, delivery: EventDelivery, console: Console) -> None:
        self._pools = pools
        self._settings = settings
        self._delivery = delivery
        self._console = console
        self._message_ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)

    # -- Pub/Sub ------------------------------------------------------------------

    def publish(self, project: str, topic: str, messages: list[Message]) -> list[str]:
        ids = [str(next(self._message_ids)) for _ in messages]
        subscribers = [p for p in self._pools.values() if _trigger(p.spec, "pubsub") and p.spec.trigger.topic == topic]  # type: ignore[union-attr]
        if not subscribers:
            self._console.info(f"pubsub: {len(messages)} message(s) to projects/{project}/topics/{topic}: no subscribers, dropped")
        now = datetime.now(timezone.utc)
        for pool in subscribers:
            for message, message_id in zip(messages, ids):
                headers, body = self._pubsub_event(pool.spec, project, topic, message, message_id, now)
                self._delivery.deliver(pool, headers, body, f"pubsub message {message_id}")
        return ids

    def _pubsub_event(self, spec: FunctionSpec, project: str, topic: str, m: Message, message_id: str, now: datetime) -> tuple[list[tuple[bytes, bytes]], bytes]:
        if signature_of(spec) == "event":
            body = gcp_events.pubsub_legacy_event(project, topic, m.data, m.attributes, m.ordering_key, message_id, now)
            return list(_JSON), body
        subscription = f"projects/{project}/subscriptions/eventarc-{self._settings.gcp_region}-{spec.name}-sub"
        event = gcp_events.pubsub_message_published(project, topic, m.data, m.attributes, m.ordering_key, message_id, now, subscription)
        return event.binary_headers(), event.data

    # -- Cloud Storage --------------------------------------------------------------
    # The objects themselves live in local buckets (``events.buckets``), which find the
    # subscribers here and hand each change over once.

    def storage_subscribers(self, bucket: str, kind: str) -> list[GcpPool]:
        """The functions whose gcs trigger is on ``bucket`` for ``kind`` (``finalized`` unless set)."""
        return [
            pool
            for pool in self._pools.values()
            if _trigger(pool.spec, "gcs")
            and pool.spec.trigger is not None
            and pool.spec.trigger.bucket == bucket
            and (pool.spec.trigger.event or "finalized") == kind
        ]

    def deliver_storage(self, pool: GcpPool, change: StorageChange) -> asyncio.Task[None]:
        """``change`` to ``pool``'s function, in the form its signature takes, retried until acknowledged."""
        project = pool.spec.project or self._settings.project
        event_id = str(secrets.randbits(52))
        c = change
        args = (c.kind, project, c.bucket, c.name, c.data, c.content_type, c.generation, 1, c.time, event_id, c.created)
        if signature_of(pool.spec) == "event":
            headers, body = list(_JSON), gcp_events.storage_legacy_event(*args)  # type: ignore[arg-type]
        else:
            event = gcp_events.storage_object_event(*args)  # type: ignore[arg-type]
            headers, body = event.binary_headers(), event.data
        return self._delivery.deliver(pool, headers, body, f"storage {c.kind} gs://{c.bucket}/{c.name}")


def _trigger(spec: FunctionSpec, kind: str) -> bool:
    return spec.trigger is not None and spec.trigger.kind == kind
