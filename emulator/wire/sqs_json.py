"""SQS on the wire, as botocore speaks it: the JSON protocol, sans-io.

botocore's SQS model (``sqs/2012-11-05/service-2.json``) says ``"protocol": "json"``:
a POST to ``/`` with ``X-Amz-Target: AmazonSQS.<Operation>`` and a JSON body. The
service is ``awsQueryCompatible``, so an error names its shape in ``__type`` and its
old query code in ``x-amzn-query-error`` (``AWS.SimpleQueueService.NonExistentQueue;Sender``);
botocore raises the modelled exception from that pair (``client.exceptions.QueueDoesNotExist``).

Owns reading requests into ``OutgoingMessage`` (with SQS's checks, from the SendMessage
API reference: body characters and size, message attributes, DelaySeconds, FIFO
parameters, batch entry rules), the MD5 digests SQS returns, and the error table.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
from dataclasses import dataclass, field
from typing import Any, Mapping

from emulator import errors

TARGET_PREFIX = "AmazonSQS."
CONTENT_TYPE = b"application/x-amz-json-1.0"

MESSAGE_LIMIT = 1_048_576  # bytes of body and attributes, per message and per batch
MAX_ATTRIBUTES = 10
MAX_BATCH = 10
MAX_DELAY_S = 900

# The characters a message may hold (SendMessage's MessageBody).
_INVALID_CHARS = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_TYPE_PREFIXES = ("String", "Number", "Binary")
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

# (shape name for __type, query error code) per domain error; every one is the sender's fault, HTTP 400.
_ERRORS: Mapping[type[errors.MessagingError], tuple[str, str]] = {
    errors.NoSuchQueue: ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"),
    errors.InvalidParameter: ("InvalidParameterValue", "InvalidParameterValue"),
    errors.MissingParameter: ("MissingParameter", "MissingParameter"),
    errors.InvalidMessageContents: ("InvalidMessageContents", "InvalidMessageContents"),
    errors.EmptyBatch: ("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest"),
    errors.TooManyEntriesInBatch: ("TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
    errors.BatchIdsNotDistinct: ("BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
    errors.InvalidBatchId: ("InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId"),
    errors.BatchTooLong: ("BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong"),
    errors.UnknownAction: ("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation"),
}


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message as sent: checked, with its attributes in SendMessage's form (binary as base64)."""

    body: str
    attributes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    delay_seconds: int = 0
    group_id: str | None = None
    deduplication_id: str | None = None

    @property
    def md5_of_body(self) -> str:
        return hashlib.md5(self.body.encode(), usedforsecurity=False).hexdigest()

    @property
    def md5_of_attributes(self) -> str | None:
        return md5_of_attributes(self.attributes) if self.attributes else None


def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise errors.InvalidParameter("The request body is not valid JSON.") from None
    if not isinstance(doc, dict):
        raise errors.InvalidParameter("The request body must be a JSON object.")
    return doc


def queue_name(doc: Mapping[str, Any]) -> str:
    """The queue a request names by its ``QueueUrl`` (``http://host/123456789012/orders``): the last segment."""
    url = doc.get("QueueUrl")
    if not isinstance(url, str) or not url:
        raise errors.MissingParameter("QueueUrl")
    name = url.rstrip("/").rpartition("/")[2]
    if not name or "/" not in url:
        raise errors.NoSuchQueue(url)
    return name


def message(doc: Mapping[str, Any], fifo: bool) -> OutgoingMessage:
    """One SendMessage request (or batch entry) for a queue of the given kind."""
    body = doc.get("MessageBody")
    if not isinstance(body, str) or not body:
        raise errors.MissingParameter("MessageBody")
    if _INVALID_CHARS.search(body):
        raise errors.InvalidMessageContents()
    attributes = _attributes(doc.get("MessageAttributes") or {})
    size = len(body.encode()) + sum(_attribute_size(name, value) for name, value in attributes.items())
    if size > MESSAGE_LIMIT:
        raise errors.InvalidParameter(
            f"One or more parameters are invalid. Reason: Message must be shorter than {MESSAGE_LIMIT} bytes."
        )
    delay = doc.get("DelaySeconds")
    group_id, dedup_id = doc.get("MessageGroupId"), doc.get("MessageDeduplicationId")
    if delay is not None and (not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY_S):
        raise errors.InvalidParameter(
            f"Value {delay} for parameter DelaySeconds is invalid. Reason: must be between 0 and {MAX_DELAY_S}, if provided."
        )
    if fifo:
        if delay:
            raise errors.InvalidParameter(_not_for_queue_type("DelaySeconds", delay))
        if not group_id:
            raise errors.MissingParameter("MessageGroupId")
    elif dedup_id is not None:
        raise errors.InvalidParameter(_not_for_queue_type("MessageDeduplicationId", dedup_id))
    for name, value in (("MessageGroupId", group_id), ("MessageDeduplicationId", dedup_id)):
        if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 128):
            raise errors.InvalidParameter(f"Value {value} for parameter {name} is invalid. Reason: 1 to 128 characters.")
    return OutgoingMessage(body, attributes, delay or 0, group_id, dedup_id)


def batch_entries(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """SendMessageBatch's ``Entries``, checked as a whole: count, distinct and valid ids, total size."""
    entries = doc.get("Entries")
    if not isinstance(entries, list) or not entries:
        raise errors.EmptyBatch()
    if len(entries) > MAX_BATCH:
        raise errors.TooManyEntriesInBatch(MAX_BATCH)
    seen: set[str] = set()
    size = 0
    for entry in entries:
        entry_id = entry.get("Id") if isinstance(entry, dict) else None
        if not isinstance(entry_id, str) or not _BATCH_ID.fullmatch(entry_id):
            raise errors.InvalidBatchId(str(entry_id))
        if entry_id in seen:
            raise errors.BatchIdsNotDistinct(entry_id)
        seen.add(entry_id)
        body = entry.get("MessageBody")
        size += len(body.encode()) if isinstance(body, str) else 0
    if size > MESSAGE_LIMIT:
        raise errors.BatchTooLong(MESSAGE_LIMIT)
    return entries


def _not_for_queue_type(name: str, value: object) -> str:
    return f"Value {value} for parameter {name} is invalid. Reason: The request includes a parameter that is not valid for this queue type."


def _attributes(raw: Any) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        raise errors.InvalidParameter("MessageAttributes must be a map of name to value.")
    if len(raw) > MAX_ATTRIBUTES:
        raise errors.InvalidParameter(
            f"Number of message attributes [{len(raw)}] exceeds the allowed maximum [{MAX_ATTRIBUTES}]."
        )
    checked: dict[str, dict[str, str]] = {}
    for name, value in raw.items():
        lowered = name.lower()
        if (
            not _ATTRIBUTE_NAME.fullmatch(name)
            or lowered.startswith(("aws.", "amazon."))
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            raise errors.InvalidParameter(f"Message (user) attribute name '{name}' is invalid.")
        data_type = value.get("DataType") if isinstance(value, dict) else None
        if not isinstance(data_type, str) or data_type.split(".", 1)[0] not in _TYPE_PREFIXES:
            raise errors.InvalidParameter(
                f"The type of message (user) attribute '{name}' is invalid. You must use only the following "
                "supported type prefixes: Binary, Number, String."
            )
        checked[name] = _attribute_value(name, data_type, value)
    return checked


def _attribute_value(name: str, data_type: str, value: Mapping[str, Any]) -> dict[str, str]:
    prefix = data_type.split(".", 1)[0]
    if prefix == "Binary":
        binary = value.get("BinaryValue")
        try:
            if not isinstance(binary, str) or not base64.b64decode(binary, validate=True):
                raise ValueError
        except (binascii.Error, ValueError):
            raise errors.InvalidParameter(f"Message (user) attribute '{name}' must contain a non-empty value of type 'Binary'.") from None
        return {"DataType": data_type, "BinaryValue": binary}
    text = value.get("StringValue")
    if not isinstance(text, str) or not text:
        raise errors.InvalidParameter(f"Message (user) attribute '{name}' must contain a non-empty value of type '{prefix}'.")
    if prefix == "Number" and not _NUMBER.fullmatch(text):
        raise errors.InvalidParameter(f"Could not cast message attribute '{name}' value to number.")
    return {"DataType": data_type, "StringValue": text}


def _attribute_size(name: str, value: Mapping[str, str]) -> int:
    payload = base64.b64decode(value["BinaryValue"]) if "BinaryValue" in value else value["StringValue"].encode()
    return len(name.encode()) + len(value["DataType"].encode()) + len(payload)


def md5_of_attributes(attributes: Mapping[str, Mapping[str, str]]) -> str:
    """SQS's digest of message attributes (Developer Guide, "Calculating the MD5 message digest
    for message attributes"): by name, each of name, type and value length-prefixed, with a
    transport byte (1 string, 2 binary) before the value."""
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        for part in (name.encode(), value["DataType"].encode()):
            digest.update(struct.pack(">I", len(part)) + part)
        if "BinaryValue" in value:
            payload, transport = base64.b64decode(value["BinaryValue"]), 2
        else:
            payload, transport = value["StringValue"].encode(), 1
        digest.update(bytes([transport]) + struct.pack(">I", len(payload)) + payload)
    return digest.hexdigest()


# -- responses -------------------------------------------------------------------------------------


def sent(message_id: str, outgoing: OutgoingMessage, sequence_number: str | None) -> dict[str, str]:
    """SendMessage's result, also a SendMessageBatch ``Successful`` entry once ``Id`` is added."""
    result = {"MessageId": message_id, "MD5OfMessageBody": outgoing.md5_of_body}
    if outgoing.md5_of_attributes is not None:
        result["MD5OfMessageAttributes"] = outgoing.md5_of_attributes
    if sequence_number is not None:
        result["SequenceNumber"] = sequence_number
    return result


def failed_entry(entry_id: str, exc: errors.MessagingError) -> dict[str, Any]:
    """A SendMessageBatch ``Failed`` entry for one refused message."""
    return {"Id": entry_id, "SenderFault": True, "Code": _ERRORS[type(exc)][1], "Message": str(exc)}


def ok(result: Mapping[str, Any], request_id: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return 200, _headers(request_id), json.dumps(result).encode()


def error(exc: errors.MessagingError, request_id: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    shape, query_code = _ERRORS[type(exc)]
    headers = [*_headers(request_id), (b"x-amzn-query-error", f"{query_code};Sender".encode())]
    body = {"__type": f"com.amazonaws.sqs#{shape}", "message": str(exc)}
    return 400, headers, json.dumps(body).encode()


def _headers(request_id: str) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", CONTENT_TYPE), (b"x-amzn-requestid", request_id.encode())]
