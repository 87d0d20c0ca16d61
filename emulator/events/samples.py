"""Sample events: what the clouds' services send to functions, freshly made, for ``emu event``.

AWS events are data: JSON templates under ``samples/events/aws/`` whose ``{{name}}``
placeholders this module fills. A string that is only a placeholder takes any JSON
value (a number, an object, ``null``; ``OMIT`` drops the key); a placeholder inside a
longer string is spliced in as text. Every fill brings current timestamps and fresh
ids, in the formats each service prints them.

GCP events are not templated again here: they come from ``emulator.wire.gcp_events``,
the same builders emu's own Pub/Sub and Cloud Storage use, so a sample is exactly what
a subscribed function receives. Each is returned in both wire forms (CloudEvent and the
1st-gen legacy body) with the same id and time; the caller picks one.

Sans-io apart from reading the templates: values in, dicts (or CloudEvents) out.
API Gateway requests are made beside this module, in ``apigw_samples``, by the same
token from ``emulator.wire.apigw_events``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence
from urllib.parse import quote_plus

from emulator.config.model import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_GCP_PROJECT,
    DEFAULT_GCP_REGION,
    DEFAULT_REGION,
    Settings,
)
from emulator.wire import gcp_events
from emulator.wire.gcp_events import CloudEvent, StorageKind

# The templates sit with the runnable samples at the repository root (emu runs from a checkout).
# Shipped inside the package so an installed emu finds them; samples/events links here.
TEMPLATES = Path(__file__).resolve().parent / "templates"

S3Action = Literal["put", "delete"]
DynamoDBAction = Literal["insert", "modify", "remove"]

# The loopback address stands for the caller: these events are "sent" from this machine.
SOURCE_IP = "127.0.0.1"
# A stream label is the time its stream was enabled; it stays put while the stream lives.
DEFAULT_STREAM_LABEL = "2024-01-01T00:00:00.000"


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()
"""A placeholder value that removes its key (or list item): fields a service leaves out when empty."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where sample events come from: the AWS account and region, the GCP project and region."""

    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    project: str = DEFAULT_GCP_PROJECT
    gcp_region: str = DEFAULT_GCP_REGION

    @classmethod
    def from_settings(cls, settings: Settings) -> Origin:
        return cls(settings.region, settings.account_id, settings.project, settings.gcp_region)


# -- templates ------------------------------------------------------------------------------

_WHOLE = re.compile(r"^\{\{(\w+)\}\}$")
_PART = re.compile(r"\{\{(\w+)\}\}")


def load_template(name: str) -> Any:
    """The parsed template ``samples/events/{name}.json``, placeholders still in it."""
    return json.loads((TEMPLATES / f"{name}.json").read_text(encoding="utf-8"))


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """A copy of ``template`` with every ``{{name}}`` replaced from ``values``.

    Values are inserted, never scanned again, so user text that happens to contain
    ``{{…}}`` stays as it was. A placeholder without a value is a KeyError: a template
    and its generator disagree, which is emu's bug.
    """
    if isinstance(template, str):
        if whole := _WHOLE.match(template):
            return values[whole[1]]
        return _PART.sub(lambda part: str(values[part[1]]), template)
    if isinstance(template, list):
        return [item for item in (fill(t, values) for t in template) if item is not OMIT]
    if isinstance(template, dict):
        return {k: v for k, v in ((k, fill(t, values)) for k, t in template.items()) if v is not OMIT}
    return template


def _render(name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    return fill(load_template(name), values)


def _records(name: str, each: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An event of ``Records``, one filled from the template's single record per ``each`` entry."""
    template = load_template(name)
    [record] = template["Records"]
    return {**template, "Records": [fill(record, values) for values in each]}


# -- formats and ids ---------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def iso_ms(moment: datetime) -> str:
    """``2024-05-01T10:00:00.123Z``: how S3, SNS and Lambda print an instant."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_s(moment: datetime) -> str:
    """``2024-05-01T10:00:00Z``: EventBridge's ``time``, to the second."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _principal(account_id: str) -> str:
    """An IAM user's unique id (``AIDA…``), stable per account, as the caller of a sample."""
    return "AIDA" + hashlib.sha256(account_id.encode()).hexdigest().upper()[:17]


def _b64(size: int) -> str:
    return base64.b64encode(secrets.token_bytes(size)).decode("ascii")


# -- S3 -----------------------------------------------------------------------------------------
# Event structure: Amazon S3 User Guide, "Event message structure" (eventVersion 2.1); a delete
# carries only key and sequencer. Keys are URL-encoded as application/x-www-form-urlencoded
# ("red flower.jpg" becomes "red+flower.jpg", same page), except that S3 leaves "/" as it is.


def s3_key(key: str) -> str:
    """An object key as S3 writes it into an event: form-encoded, spaces as ``+``, ``/`` kept.

    The form serializer keeps ``*-._`` and alphanumerics and encodes ``~``, where Python's
    ``quote_plus`` does the reverse for ``*`` and ``~``.
    """
    return quote_plus(key, safe="/*").replace("~", "%7E")


def s3_event(
    origin: Origin,
    action: S3Action,
    bucket: str,
    key: str,
    size: int = 1024,
    etag: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An S3 notification for one object: ``ObjectCreated:Put`` or ``ObjectRemoved:Delete``."""
    moment = _now(now)
    owner = _principal(origin.account_id)
    return _render(f"aws/s3-{action}", {
        "region": origin.region,
        "event_time": iso_ms(moment),
        "principal_id": f"AWS:{owner}",
        "source_ip": SOURCE_IP,
        "request_id": secrets.token_hex(8).upper(),
        "host_id": _b64(48),
        "configuration_id": "emu-notification",
        "bucket": bucket,
        "owner_id": "A" + owner[4:17],
        "key": s3_key(key),
        "size": size,
        # For a single-part upload the ETag is the MD5 of the bytes; a sample has none to hash.
        "etag": etag or secrets.token_hex(16),
        # A hex string that grows with each event on a key; time in nanoseconds does that.
        "sequencer": f"{int(moment.timestamp() * 1_000_000_000):018X}"[-18:],
    })


# -- SQS ----------------------------------------------------------------------------------------
# Lambda Developer Guide, "Using Lambda with Amazon SQS": a batch is one event of Records.
# A record's message attributes are in the poller's spelling (stringValue, binaryValue as
# base64, dataType) and md5OfMessageAttributes is there only when the message has some;
# a FIFO queue adds MessageGroupId, MessageDeduplicationId and SequenceNumber to attributes.


@dataclass(frozen=True, slots=True)
class SqsReceipt:
    """One message as a queue hands it to Lambda: what it was sent with, and its receipt."""

    message_id: str
    receipt_handle: str
    body: str
    sent_ms: int
    first_receive_ms: int
    receive_count: int = 1
    sender_id: str = ""
    # SendMessage's form: name -> {"DataType", "StringValue" | "BinaryValue" (base64)}.
    message_attributes: Mapping[str, Mapping[str, str]] | None = None
    md5_of_message_attributes: str | None = None
    fifo: Mapping[str, str] | None = None  # MessageGroupId, MessageDeduplicationId, SequenceNumber


def sqs_receipt_handle() -> str:
    return "AQEB" + _b64(120)


def sqs_batch(origin: Origin, queue: str, receipts: Sequence[SqsReceipt]) -> dict[str, Any]:
    """The event Lambda's SQS poller hands a function for ``receipts``, in order."""
    event = _records("aws/sqs", [
        {
            "message_id": r.message_id,
            "receipt_handle": r.receipt_handle,
            "body": r.body,
            "receive_count": str(r.receive_count),
            "sent_timestamp": str(r.sent_ms),
            "sender_id": r.sender_id or _principal(origin.account_id),
            "first_receive_timestamp": str(r.first_receive_ms),
            "message_attributes": {name: _record_attribute(value) for name, value in (r.message_attributes or {}).items()},
            "md5_of_message_attributes": r.md5_of_message_attributes or OMIT,
            "md5_of_body": hashlib.md5(r.body.encode(), usedforsecurity=False).hexdigest(),
            "region": origin.region,
            "account_id": origin.account_id,
            "queue": queue,
        }
        for r in receipts
    ])
    for record, receipt in zip(event["Records"], receipts):
        record["attributes"].update(receipt.fifo or {})
    return event


def _record_attribute(value: Mapping[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if "StringValue" in value:
        record["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        record["binaryValue"] = value["BinaryValue"]
    return {**record, "stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}


def sqs_event(origin: Origin, bodies: Sequence[str], queue: str = "emu-queue", now: datetime | None = None) -> dict[str, Any]:
    """An SQS batch: one record per body, each with its own id, receipt handle and MD5."""
    sent = epoch_ms(_now(now))
    receipts = [SqsReceipt(str(uuid.uuid4()), sqs_receipt_handle(), body, sent, sent + 1) for body in bodies]
    return sqs_batch(origin, queue, receipts)


# -- SNS ----------------------------------------------------------------------------------------
# Lambda Developer Guide, "Using Lambda with Amazon SNS": Subject is null when none was set;
# MessageAttributes map each name to {"Type", "Value"} (a Binary value in base64).


def sns_subscription_id(topic: str, function: str) -> str:
    """A subscription's id, the same for a function and topic every time emu runs."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sns:{topic}:{function}"))


def sns_event(
    origin: Origin,
    message: str,
    subject: str | None = None,
    attributes: Mapping[str, str | Mapping[str, str]] | None = None,
    topic: str = "emu-topic",
    now: datetime | None = None,
    message_id: str | None = None,
    subscription_id: str | None = None,
) -> dict[str, Any]:
    """An SNS notification as a Lambda subscriber receives it.

    An attribute is a plain string (type String) or already ``{"Type", "Value"}``.
    """
    return _records("aws/sns", [{
        "region": origin.region,
        "account_id": origin.account_id,
        "topic": topic,
        "subscription_id": subscription_id or str(uuid.uuid4()),
        "message_id": message_id or str(uuid.uuid4()),
        "subject": subject,
        "message": message,
        "timestamp": iso_ms(_now(now)),
        "signature": _b64(256),
        "certificate_id": secrets.token_hex(16),
        "message_attributes": {
            k: {"Type": "String", "Value": v} if isinstance(v, str) else dict(v) for k, v in (attributes or {}).items()
        },
    }])


# -- DynamoDB Streams -----------------------------------------------------------------------------
# Lambda Developer Guide, "Using Lambda with DynamoDB"; item images in DynamoDB's typed JSON
# (DynamoDB API Reference, "AttributeValue"). Images always hold the key attributes.


def to_attribute_value(value: Any) -> dict[str, Any]:
    """One plain JSON value as a DynamoDB ``AttributeValue``: S, N, BOOL, NULL, L or M.

    Numbers travel as strings, normalised as DynamoDB stores them (``1.50`` is ``1.5``).
    JSON cannot tell a set from a list, so lists are always ``L``.
    """
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise ValueError(f"DynamoDB numbers must be finite, got {value!r}")
        return {"N": _number(number)}
    if isinstance(value, list):
        return {"L": [to_attribute_value(v) for v in value]}
    if isinstance(value, dict):
        return {"M": to_item(value)}
    raise ValueError(f"cannot store {type(value).__name__} {value!r} in DynamoDB")


def to_item(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A plain JSON object as a DynamoDB item: each attribute typed."""
    return {str(name): to_attribute_value(v) for name, v in values.items()}


def _number(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def dynamodb_event(
    origin: Origin,
    action: DynamoDBAction,
    keys: Mapping[str, Any],
    new: Mapping[str, Any] | None = None,
    old: Mapping[str, Any] | None = None,
    table: str = "emu-table",
    now: datetime | None = None,
) -> dict[str, Any]:
    """A DynamoDB stream record (view type NEW_AND_OLD_IMAGES) for one item change."""
    moment = _now(now)
    typed_keys = to_item(keys)
    new_image = {**to_item(new or {}), **typed_keys} if action != "remove" else OMIT
    old_image = {**to_item(old or {}), **typed_keys} if action != "insert" else OMIT
    images = [image for image in (typed_keys, new_image, old_image) if image is not OMIT]
    return _records(f"aws/dynamodb-{action}", [{
        "event_id": secrets.token_hex(16),
        "region": origin.region,
        "account_id": origin.account_id,
        "created": int(moment.timestamp()),
        "keys": typed_keys,
        "new_image": new_image,
        "old_image": old_image,
        # Stream sequence numbers are decimal strings that grow within a shard.
        "sequence_number": f"{int(moment.timestamp() * 1_000_000)}{secrets.randbelow(10**12):012d}",
        # An estimate: the typed JSON's length stands in for DynamoDB's item-size arithmetic.
        "size_bytes": len(json.dumps(images, separators=(",", ":"))),
        "table": table,
        "stream_label": DEFAULT_STREAM_LABEL,
    }])


# -- EventBridge -----------------------------------------------------------------------------------
# Amazon EventBridge User Guide, "Creating a rule that runs on a schedule": source aws.events,
# detail-type "Scheduled Event", an empty detail, the rule's ARN in resources.


def schedule_event(origin: Origin, rule: str = "emu-schedule", now: datetime | None = None) -> dict[str, Any]:
    """The event an EventBridge schedule rule sends its target."""
    return _render("aws/schedule", {
        "id": str(uuid.uuid4()),
        "account_id": origin.account_id,
        "time": iso_s(_now(now)),
        "region": origin.region,
        "rule": rule,
    })


# -- Cloud Scheduler --------------------------------------------------------------------------------
# A job with an HTTP target (cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs,
# HttpTarget.headers): POST by default, these headers, and application/octet-stream for a body
# whose job sets no Content-Type.


def cloud_scheduler_request(job: str, scheduled: datetime, body: bytes = b"") -> list[tuple[bytes, bytes]]:
    """The headers of the request a Cloud Scheduler job makes at its ``scheduled`` time."""
    headers = [
        (b"user-agent", b"Google-Cloud-Scheduler"),
        (b"x-cloudscheduler", b"true"),
        (b"x-cloudscheduler-jobname", job.encode()),
        (b"x-cloudscheduler-scheduletime", iso_s(_now(scheduled)).encode()),
    ]
    if body:
        headers.append((b"content-type", b"application/octet-stream"))
    return headers


# -- Google Cloud -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GcpSample:
    """One Google event in both wire forms, sharing id and time."""

    cloud_event: CloudEvent
    legacy: bytes

    def as_json(self, legacy: bool = False) -> Any:
        """The event as one JSON document: structured-mode CloudEvent, or the legacy body."""
        return json.loads(self.legacy if legacy else self.cloud_event.structured_body())


def _gcp_id() -> str:
    # Pub/Sub message ids and GCS event ids are decimal strings of about 16 digits.
    return str(10**15 + secrets.randbelow(9 * 10**15))


def pubsub_event(
    origin: Origin,
    topic: str,
    data: bytes,
    attributes: Mapping[str, str] | None = None,
    subscription: str | None = None,
    now: datetime | None = None,
) -> GcpSample:
    """A message published on ``topic``, as a subscribed function receives it."""
    moment = _now(now)
    message_id = _gcp_id()
    attrs = dict(attributes or {})
    sub = subscription or f"eventarc-{origin.gcp_region}-{topic}-sub"
    return GcpSample(
        gcp_events.pubsub_message_published(origin.project, topic, data, attrs, None, message_id, moment, sub),
        gcp_events.pubsub_legacy_event(origin.project, topic, data, attrs, None, message_id, moment),
    )


def gcs_event(
    origin: Origin,
    kind: StorageKind,
    bucket: str,
    name: str,
    data: bytes,
    content_type: str | None = None,
    now: datetime | None = None,
) -> GcpSample:
    """A change to object ``name`` in ``bucket`` whose bytes are ``data``.

    A finalized object was created just now; for the other kinds it was written a minute
    earlier. The generation is the creation time in microseconds, as GCS makes it.
    """
    moment = _now(now)
    created = moment if kind == "finalized" else moment - timedelta(minutes=1)
    generation = int(created.timestamp() * 1_000_000)
    metageneration = 2 if kind == "metadataUpdated" else 1
    args = (kind, origin.project, bucket, name, data, content_type, generation, metageneration, moment, _gcp_id(), created)
    return GcpSample(gcp_events.storage_object_event(*args), gcp_events.storage_legacy_event(*args))
