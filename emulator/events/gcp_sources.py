"""Google's event sources, locally: Pub/Sub topics and Cloud Storage buckets.

Each turns a publish or an object change into the event every subscribed
function should get, in the shape its signature takes: a CloudEvent in binary
mode for CloudEvent (and HTTP) functions, the legacy background-event JSON for
``event`` functions. Subscribers are found from the functions' ``trigger``.
"""

from __future__ import annotations

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
class StoredObject:
    size: int
    data: bytes
    content_type: str | None
    generation: int
    created: datetime


class GcpSources:
    def __init__(self, pools: dict[str, GcpPool], settings: Settings, delivery: EventDelivery, console: Console) -> None:
        self._pools = pools
        self._settings = settings
        self._delivery = delivery
        self._console = console
        self._message_ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)
        self._objects: dict[tuple[str, str], StoredObject] = {}

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

    def upload(self, bucket: str, name: str, data: bytes, content_type: str | None) -> StoredObject:
        now = datetime.now(timezone.utc)
        previous = self._objects.get((bucket, name))
        stored = StoredObject(len(data), data, content_type, time.time_ns() // 1000, previous.created if previous else now)
        self._objects[(bucket, name)] = stored
        self._notify("finalized", bucket, name, stored, now)
        return stored

    def delete(self, bucket: str, name: str) -> StoredObject | None:
        stored = self._objects.pop((bucket, name), None)
        if stored is not None:
            self._notify("deleted", bucket, name, stored, datetime.now(timezone.utc))
        return stored

    def _notify(self, kind: str, bucket: str, name: str, obj: StoredObject, now: datetime) -> None:
        for pool in self._pools.values():
            trigger = pool.spec.trigger
            if not _trigger(pool.spec, "gcs") or trigger is None or trigger.bucket != bucket or (trigger.event or "finalized") != kind:
                continue
            project = pool.spec.project or self._settings.project
            event_id = str(secrets.randbits(52))
            args = (kind, project, bucket, name, obj.data, obj.content_type, obj.generation, 1, now, event_id, obj.created)
            if signature_of(pool.spec) == "event":
                headers, body = list(_JSON), gcp_events.storage_legacy_event(*args)  # type: ignore[arg-type]
            else:
                event = gcp_events.storage_object_event(*args)  # type: ignore[arg-type]
                headers, body = event.binary_headers(), event.data
            self._delivery.deliver(pool, headers, body, f"storage {kind} gs://{bucket}/{name}")


def _trigger(spec: FunctionSpec, kind: str) -> bool:
    return spec.trigger is not None and spec.trigger.kind == kind
