"""Google's service endpoints that raise events: Pub/Sub publish and a stand-in for GCS uploads.

- ``POST /v1/projects/{project}/topics/{topic}:publish`` takes Pub/Sub's REST body
  and answers ``{"messageIds": [...]}``, as pubsub.googleapis.com does; a bad body
  gets Google's error shape.
- ``POST /_emu/gcs/{bucket}/{object}`` (the body is the object) stands for an
  upload: it writes the object's file into the local bucket (``events.buckets``),
  which raises ``finalized`` once; ``DELETE`` on the same path removes the file and
  raises ``deleted``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from emulator.errors import NoSuchBucket, NoSuchKey, StorageError
from emulator.events.bucket_store import BUCKET_NAME
from emulator.events.buckets import LocalBuckets
from emulator.events.gcp_sources import GcpSources, Message
from emulator.surfaces.asgi import JSON, BodyTooLarge, Receive, Scope, Send, header, read_body, respond

PUBLISH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/topics/(?P<topic>[^/:]+):publish$")
# Pub/Sub's request limit is 10 MB.
_PUBLISH_LIMIT = 10 * 1024 * 1024
# A stand-in upload may be as large as a test needs, within reason.
_UPLOAD_LIMIT = 64 * 1024 * 1024


def _google_error(code: int, status: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()


class PubSubSurface:
    def __init__(self, sources: GcpSources) -> None:
        self.sources = sources

    async def __call__(self, scope: Scope, receive: Receive, send: Send, project: str, topic: str) -> None:
        if scope["method"] != "POST":
            await respond(send, 405, [JSON], _google_error(405, "METHOD_NOT_ALLOWED", "Use POST to publish."))
            return
        try:
            raw = await read_body(receive, _PUBLISH_LIMIT)
            messages = _parse_publish(raw)
        except BodyTooLarge:
            await respond(send, 400, [JSON], _google_error(400, "INVALID_ARGUMENT", "Request payload size exceeds the limit: 10485760 bytes."))
            return
        except ValueError as exc:
            await respond(send, 400, [JSON], _google_error(400, "INVALID_ARGUMENT", str(exc)))
            return
        ids = self.sources.publish(project, topic, messages)
        await respond(send, 200, [JSON], json.dumps({"messageIds": ids}).encode())


def _parse_publish(raw: bytes) -> list[Message]:
    try:
        body: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"Invalid JSON payload received. {exc}") from None
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise ValueError("The request must contain at least one message.")
    messages = []
    for i, item in enumerate(body["messages"]):
        if not isinstance(item, dict):
            raise ValueError(f"Invalid value at 'messages[{i}]': expected an object.")
        data_b64 = item.get("data", "")
        attributes = item.get("attributes") or {}
        if not isinstance(data_b64, str):
            raise ValueError(f"Invalid value at 'messages[{i}].data' (TYPE_BYTES): expected base64 text.")
        try:
            data = base64.b64decode(data_b64, validate=True)
        except binascii.Error:
            raise ValueError(f"Invalid value at 'messages[{i}].data' (TYPE_BYTES), Base64 decoding failed.") from None
        if not isinstance(attributes, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()):
            raise ValueError(f"Invalid value at 'messages[{i}].attributes': expected a map of strings.")
        if not data and not attributes:
            raise ValueError("Some messages are empty: a message needs data or at least one attribute.")
        key = item.get("orderingKey") or None
        messages.append(Message(data, dict(attributes), key if isinstance(key, str) else None))
    return messages


class GcsSurface:
    """The stand-in: writes and deletes the object's file in the local bucket, which raises the event."""

    def __init__(self, buckets: LocalBuckets) -> None:
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        bucket, _, name = rest.partition("/")
        if not bucket or not name:
            await respond(send, 400, [JSON], _google_error(400, "INVALID_ARGUMENT", "Use /_emu/gcs/BUCKET/OBJECT."))
            return
        if not BUCKET_NAME.fullmatch(bucket):
            await respond(send, 400, [JSON], _google_error(400, "INVALID_ARGUMENT", f"Invalid bucket name: '{bucket}'"))
            return
        try:
            await self._object(scope, receive, send, bucket, name)
        except StorageError as exc:
            status, reason = (404, "NOT_FOUND") if isinstance(exc, (NoSuchBucket, NoSuchKey)) else (400, "INVALID_ARGUMENT")
            await respond(send, status, [JSON], _google_error(status, reason, str(exc)))

    async def _object(self, scope: Scope, receive: Receive, send: Send, bucket: str, name: str) -> None:
        if scope["method"] in ("POST", "PUT"):
            try:
                data = await read_body(receive, _UPLOAD_LIMIT)
            except BodyTooLarge:
                await respond(send, 413, [JSON], _google_error(413, "INVALID_ARGUMENT", "Object too large for emu's stand-in upload."))
                return
            # Like a GCS upload, into any bucket: one no trigger names is made on the way.
            stored = self.buckets.put(bucket, name, data, header(scope, b"content-type"), create_bucket=True)
            body = {"bucket": bucket, "name": name, "size": str(stored.size), "generation": str(stored.generation)}
            await respond(send, 200, [JSON], json.dumps(body).encode())
        elif scope["method"] == "DELETE":
            if not self.buckets.is_known(bucket) or self.buckets.delete(bucket, name) is None:
                await respond(send, 404, [JSON], _google_error(404, "NOT_FOUND", f"No such object: {bucket}/{name}"))
            else:
                await respond(send, 204, [])
        else:
            await respond(send, 405, [JSON], _google_error(405, "METHOD_NOT_ALLOWED", "Use POST, PUT or DELETE."))
