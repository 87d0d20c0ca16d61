"""Google Cloud events as bytes: the CloudEvents Eventarc delivers, and the legacy bodies 1st gen posts.

This module owns the shape of every Pub/Sub and Cloud Storage event emu hands
to a GCP function, in both wire formats:

- ``CloudEvent`` with its two HTTP renderings (binary ``ce-*`` headers, or one
  structured JSON body), for ``cloudevent`` functions;
- the legacy background-event JSON (``{"context": …, "data": …}``) for 1st-gen
  ``event`` functions.

It is sans-io: plain functions from values to bytes and headers, no sockets.
Triggers decide when and for whom; surfaces send what these functions return.

The shapes follow the sources cited beside each table, cross-checked against the
functions-framework conformance fixtures (``../shared/conformance-events``) and
against functions-framework's own ``event_conversion``, which must turn each
legacy body here into the CloudEvent built here for the same inputs.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, Mapping
from urllib.parse import quote

# HTTP Protocol Binding for CloudEvents 1.0.2, §3.2.1: the media type of a structured-mode body.
STRUCTURED_CONTENT_TYPE = b"application/cloudevents+json; charset=utf-8"

# Core attribute names an extension must not shadow (CloudEvents 1.0.2 spec, "Context Attributes").
_CORE_ATTRIBUTES = frozenset(
    {"id", "source", "type", "specversion", "subject", "time", "datacontenttype", "dataschema", "data", "data_base64"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudEvent:
    """One CloudEvent, its data already encoded as the bytes ``datacontenttype`` names."""

    id: str
    source: str
    type: str
    specversion: str = "1.0"
    subject: str | None = None
    time: str
    datacontenttype: str | None = None
    data: bytes = b""
    extensions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # CloudEvents 1.0.2, "Attribute Naming Convention": lower-case ASCII letters and digits.
        for name in self.extensions:
            if not (name.isascii() and name.isalnum() and name == name.lower()) or name in _CORE_ATTRIBUTES:
                raise ValueError(f"invalid CloudEvent extension attribute name: {name!r}")

    def binary_headers(self) -> list[tuple[bytes, bytes]]:
        """Binary content mode: attributes as ``ce-*`` headers; ``data`` is sent as the body unchanged."""
        headers = [
            (b"ce-id", _header_value(self.id)),
            (b"ce-source", _header_value(self.source)),
            (b"ce-type", _header_value(self.type)),
            (b"ce-specversion", _header_value(self.specversion)),
        ]
        if self.subject is not None:
            headers.append((b"ce-subject", _header_value(self.subject)))
        headers.append((b"ce-time", _header_value(self.time)))
        headers.extend((b"ce-" + name.encode(), _header_value(value)) for name, value in self.extensions.items())
        if self.datacontenttype is not None:
            # HTTP binding §3.1.1: datacontenttype travels as Content-Type, not as ce-datacontenttype.
            headers.append((b"content-type", self.datacontenttype.encode("latin-1")))
        return headers

    def structured_body(self) -> bytes:
        """Structured content mode: the whole event as one JSON Event Format 1.0.2 document."""
        doc: dict[str, Any] = {"specversion": self.specversion, "id": self.id, "source": self.source, "type": self.type}
        if self.subject is not None:
            doc["subject"] = self.subject
        doc["time"] = self.time
        if self.datacontenttype is not None:
            doc["datacontenttype"] = self.datacontenttype
        doc.update(self.extensions)
        if self.data:
            # JSON format §3.1: JSON data is embedded as a JSON value; any other bytes go as data_base64.
            parsed = _json_value(self.data) if is_json(self.datacontenttype) else _NOT_JSON
            if parsed is _NOT_JSON:
                doc["data_base64"] = base64.b64encode(self.data).decode("ascii")
            else:
                doc["data"] = parsed
        return _dumps(doc)


def is_json(content_type: str | None) -> bool:
    """Whether a media type declares JSON: ``application/json`` or any ``*/*+json`` (JSON format §3.1)."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` and milliseconds, as Pub/Sub and GCS print their timestamps.

    Real pushes show ``2021-02-26T19:13:55.749Z`` (Eventarc "CloudEvents - JSON event format" page)
    and objects ``2020-04-23T07:38:57.230Z``; an instant without a zone is refused, not guessed.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("event times must be timezone-aware datetimes")
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------------
# Pub/Sub
#
# CloudEvent: Eventarc "CloudEvents format - HTTP protocol binding", section Pub/Sub: type
# google.cloud.pubsub.topic.v1.messagePublished, source //pubsub.googleapis.com/projects/P/topics/T,
# ce-time = publish time, JSON body {"message": PubsubMessage, "subscription": …}. The message
# fields follow the REST PubsubMessage resource, empty ones left out as proto3 JSON does; Pub/Sub
# push bodies ("Receive messages from push subscriptions") also carry message_id/publish_time, so
# both spellings are sent.
# Legacy: the GCF 1st-gen background event, as in the conformance fixtures pubsub_text/pubsub_binary
# *-legacy-input.json (no "attributes" when there are none): eventId = message id, timestamp =
# publish time, and the message without messageId/publishTime, which functions-framework also
# strips when it converts a CloudEvent to this form.

PUBSUB_MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
PUBSUB_LEGACY_EVENT_TYPE = "google.pubsub.topic.publish"
_PUBSUB_SERVICE = "pubsub.googleapis.com"
_PUBSUB_MESSAGE_TYPE = "type.googleapis.com/google.pubsub.v1.PubsubMessage"


def pubsub_message_published(
    project: str,
    topic: str,
    data: bytes,
    attributes: Mapping[str, str],
    ordering_key: str | None,
    message_id: str,
    publish_time: datetime,
    subscription: str,
) -> CloudEvent:
    """The CloudEvent a 2nd-gen function receives for one message on ``projects/project/topics/topic``."""
    published = format_time(publish_time)
    message: dict[str, Any] = {"data": base64.b64encode(data).decode("ascii")}
    if attributes:
        message["attributes"] = dict(attributes)
    message |= {"messageId": message_id, "message_id": message_id, "publishTime": published, "publish_time": published}
    if ordering_key:
        message["orderingKey"] = ordering_key
    if not subscription.startswith("projects/"):
        subscription = f"projects/{project}/subscriptions/{subscription}"
    return CloudEvent(
        id=message_id,
        source=f"//{_PUBSUB_SERVICE}/{_topic_name(project, topic)}",
        type=PUBSUB_MESSAGE_PUBLISHED,
        time=published,
        datacontenttype="application/json",
        data=_dumps({"message": message, "subscription": subscription}),
    )


def pubsub_legacy_event(
    project: str,
    topic: str,
    data: bytes,
    attributes: Mapping[str, str],
    ordering_key: str | None,
    message_id: str,
    publish_time: datetime,
) -> bytes:
    """The legacy background-event body a 1st-gen ``event`` function receives for the same message."""
    message: dict[str, Any] = {"@type": _PUBSUB_MESSAGE_TYPE, "data": base64.b64encode(data).decode("ascii")}
    if attributes:
        message["attributes"] = dict(attributes)
    if ordering_key:
        message["orderingKey"] = ordering_key
    resource = {"service": _PUBSUB_SERVICE, "name": _topic_name(project, topic), "type": _PUBSUB_MESSAGE_TYPE}
    return _legacy_body(message_id, format_time(publish_time), PUBSUB_LEGACY_EVENT_TYPE, resource, message)


def _topic_name(project: str, topic: str) -> str:
    return f"projects/{project}/topics/{topic}"


# ---------------------------------------------------------------------------------------------
# Cloud Storage
#
# CloudEvent types and data: google-cloudevents proto/google/events/cloud/storage/v1/events.proto
# (StorageObjectData); attributes: Eventarc "CloudEvents format" page, section Cloud Storage
# (source //storage.googleapis.com/projects/_/buckets/B, subject objects/NAME). Field spellings
# and value formats follow the JSON API Object resource (int64s as strings, bytes as base64).
# Legacy event types: GCF "Cloud Storage triggers (1st gen)"; pairs as in functions-framework's
# _BACKGROUND_TO_CE_TYPE (functions-framework-conformance docs/mapping.md).

StorageKind = Literal["finalized", "deleted", "archived", "metadataUpdated"]

STORAGE_LEGACY_EVENT_TYPES: dict[str, str] = {
    "finalized": "google.storage.object.finalize",
    "deleted": "google.storage.object.delete",
    "archived": "google.storage.object.archive",
    "metadataUpdated": "google.storage.object.metadataUpdate",
}
_STORAGE_SERVICE = "storage.googleapis.com"
_JSON_API = "https://www.googleapis.com"


def storage_object_event(
    kind: StorageKind,
    project: str,
    bucket: str,
    name: str,
    data: bytes | None,
    content_type: str | None,
    generation: int,
    metageneration: int,
    time: datetime,
    event_id: str,
    created: datetime | None = None,
) -> CloudEvent:
    """The CloudEvent a 2nd-gen function receives when object ``name`` in ``bucket`` changes.

    ``data`` is the object's bytes (``None`` when they are gone, e.g. for a delete: size and
    hashes are then left out rather than invented). ``created`` is when this generation was
    written; it defaults to ``time``, right for ``finalized``. ``project`` is accepted for
    symmetry with Pub/Sub but unused: GCS names buckets globally, as ``projects/_``.
    """
    return CloudEvent(
        id=event_id,
        source=f"//{_STORAGE_SERVICE}/projects/_/buckets/{bucket}",
        type=f"google.cloud.storage.object.v1.{_storage_kind(kind)}",
        subject=f"objects/{name}",
        time=format_time(time),
        datacontenttype="application/json",
        data=_dumps(_object_data(kind, bucket, name, data, content_type, generation, metageneration, time, created)),
        # Eventarc's Cloud Storage triggers filter on a "bucket" event attribute, and Firebase's
        # StorageEvent (a CloudEvent as delivered) has a bucket property: sent as an extension.
        extensions={"bucket": bucket},
    )


def storage_legacy_event(
    kind: StorageKind,
    project: str,
    bucket: str,
    name: str,
    data: bytes | None,
    content_type: str | None,
    generation: int,
    metageneration: int,
    time: datetime,
    event_id: str,
    created: datetime | None = None,
) -> bytes:
    """The legacy background-event body a 1st-gen ``event`` function receives for the same change."""
    object_name = f"projects/_/buckets/{bucket}/objects/{name}"
    resource = {"service": _STORAGE_SERVICE, "name": object_name, "type": "storage#object"}
    obj = _object_data(kind, bucket, name, data, content_type, generation, metageneration, time, created)
    return _legacy_body(event_id, format_time(time), STORAGE_LEGACY_EVENT_TYPES[_storage_kind(kind)], resource, obj)


def _storage_kind(kind: str) -> str:
    if kind not in STORAGE_LEGACY_EVENT_TYPES:
        raise ValueError(f"unknown Cloud Storage event kind: {kind!r}")
    return kind


def _object_data(
    kind: str,
    bucket: str,
    name: str,
    data: bytes | None,
    content_type: str | None,
    generation: int,
    metageneration: int,
    time: datetime,
    created: datetime | None,
) -> dict[str, Any]:
    """StorageObjectData as the JSON API Object resource spells it."""
    escaped = quote(name, safe="")
    born = format_time(created or time)
    obj: dict[str, Any] = {
        "kind": "storage#object",
        "id": f"{bucket}/{name}/{generation}",
        "selfLink": f"{_JSON_API}/storage/v1/b/{bucket}/o/{escaped}",
        "mediaLink": f"{_JSON_API}/download/storage/v1/b/{bucket}/o/{escaped}?generation={generation}&alt=media",
        "name": name,
        "bucket": bucket,
        "generation": str(generation),
        "metageneration": str(metageneration),
        # An object stored without a Content-Type is served as application/octet-stream (StorageObjectData).
        "contentType": content_type or "application/octet-stream",
        "storageClass": "STANDARD",
    }
    if data is not None:
        obj["size"] = str(len(data))
        obj["md5Hash"] = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")
        obj["crc32c"] = base64.b64encode(crc32c(data).to_bytes(4, "big")).decode("ascii")
    obj["etag"] = _etag(generation, metageneration)
    obj["timeCreated"] = born
    obj["updated"] = format_time(time) if kind == "metadataUpdated" else born
    obj["timeStorageClassUpdated"] = born
    if kind == "archived":
        # JSON API Object.timeDeleted: set only on a version that is no longer live but still kept,
        # which is what "archived" means; a plain delete leaves no version behind to carry it.
        obj["timeDeleted"] = format_time(time)
    return obj


def _etag(generation: int, metageneration: int) -> str:
    """GCS object etags are base64 of a tiny protobuf: field 1 = generation, field 2 = metageneration.

    Not documented; read off real events, e.g. ``CNHZkbuF/ugCEAE=`` for generation 1587627537231057,
    metageneration 1 in the conformance storage fixture.
    """
    return base64.b64encode(b"\x08" + _varint(generation) + b"\x10" + _varint(metageneration)).decode("ascii")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


# CRC32C (Castagnoli, RFC 3720 appendix B.4): reflected polynomial 0x82F63B78, as GCS uses for its
# crc32c field ("Hashes and ETags: best practices"). zlib only offers the IEEE polynomial.
def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC32C of ``data``; pass a previous result as ``crc`` to continue over a later chunk."""
    table = _CRC32C_TABLE
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------


def _legacy_body(event_id: str, timestamp: str, event_type: str, resource: dict[str, str], data: Any) -> bytes:
    context = {"eventId": event_id, "timestamp": timestamp, "eventType": event_type, "resource": resource}
    return _dumps({"context": context, "data": data})


def _header_value(value: str) -> bytes:
    """HTTP binding 1.0.2 §3.1.3.2: space, ``"``, ``%`` and anything outside 0x21-0x7E is percent-encoded."""
    if all("!" <= ch <= "~" and ch not in '"%' for ch in value):
        return value.encode("ascii")
    return quote(value, safe="!#$&'()*+,/:;<=>?@[\\]^`{|}~").encode("ascii")


_NOT_JSON = object()


def _json_value(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _NOT_JSON


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()

