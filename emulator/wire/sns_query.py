"""SNS on the wire, as botocore speaks it: the AWS query protocol, sans-io.

botocore's SNS model (``sns/2010-03-31/service-2.json``) says ``"protocol": "query"``:
a form-encoded POST to ``/`` with ``Action=Publish&Version=2010-03-31&…``, lists as
``Name.member.N`` and maps as ``Name.entry.N.Name`` / ``.Value``. Answers are XML in
SNS's namespace; an error is an ``ErrorResponse`` whose ``Code`` botocore maps to the
modelled exception (``NotFound`` -> ``client.exceptions.NotFoundException``).

Owns reading Publish and PublishBatch into ``Notification``s with SNS's checks (Publish
API reference: message size and emptiness, Subject, MessageStructure, message
attributes, FIFO parameters, batch rules), the XML answers, and the error table.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from emulator import errors

NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"
MESSAGE_LIMIT = 262_144  # 256 KiB of message and attributes, per message and per batch
MAX_BATCH = 10

_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<name>[A-Za-z0-9_.-]+)")
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
_TYPE_PREFIXES = ("String", "Number", "Binary")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

# (HTTP status, Code) per domain error; botocore finds the exception by Code.
_ERRORS: Mapping[type[errors.MessagingError], tuple[int, str]] = {
    errors.NoSuchTopic: (404, "NotFound"),
    errors.InvalidParameter: (400, "InvalidParameter"),
    errors.MissingParameter: (400, "InvalidParameter"),
    errors.EmptyBatch: (400, "EmptyBatchRequest"),
    errors.TooManyEntriesInBatch: (400, "TooManyEntriesInBatchRequest"),
    errors.BatchIdsNotDistinct: (400, "BatchEntryIdsNotDistinct"),
    errors.InvalidBatchId: (400, "InvalidBatchEntryId"),
    errors.BatchTooLong: (400, "BatchRequestTooLong"),
    errors.UnknownAction: (400, "InvalidAction"),
}


@dataclass(frozen=True, slots=True)
class TopicArn:
    region: str
    account: str
    name: str


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to publish: checked, with attributes as Lambda events carry them ({"Type", "Value"})."""

    message: str
    subject: str | None = None
    attributes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    group_id: str | None = None
    deduplication_id: str | None = None
    # MessageStructure=json: the JSON's per-protocol messages; ``message`` is its "default".
    per_protocol: Mapping[str, str] | None = None

    def message_for(self, protocol: str) -> str:
        """What a subscriber of ``protocol`` (``lambda``, ``sqs``…) receives."""
        return (self.per_protocol or {}).get(protocol, self.message)


def parse_form(raw: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise errors.InvalidParameter("The request body is not UTF-8 form data.") from None


def topic_arn(params: Mapping[str, str]) -> TopicArn:
    """Publish's target: ``TopicArn`` or ``TargetArn``. A phone number is not a topic emu has."""
    if "PhoneNumber" in params and not (params.get("TopicArn") or params.get("TargetArn")):
        raise errors.InvalidParameter("Invalid parameter: PhoneNumber Reason: emu delivers to topics only")
    arn = params.get("TopicArn") or params.get("TargetArn")
    if not arn:
        raise errors.InvalidParameter("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
    match = _TOPIC_ARN.fullmatch(arn)
    if match is None:
        raise errors.InvalidParameter("Invalid parameter: TopicArn")
    return TopicArn(match["region"], match["account"], match["name"])


def notification(params: Mapping[str, str], prefix: str, fifo: bool) -> Notification:
    """One Publish request, or one batch entry (``prefix`` ``PublishBatchRequestEntries.member.N.``)."""
    message = params.get(prefix + "Message")
    if message is None:
        raise errors.InvalidParameter("Invalid parameter: Message Reason: no value for required parameter")
    if not message:
        raise errors.InvalidParameter("Invalid parameter: Empty message")
    per_protocol = None
    if params.get(prefix + "MessageStructure") == "json":
        per_protocol = _structure(message)
        message = per_protocol["default"]
    elif prefix + "MessageStructure" in params:
        raise errors.InvalidParameter("Invalid parameter: MessageStructure")
    subject = params.get(prefix + "Subject")
    if subject is not None and (not subject or len(subject) > 100 or not subject.isprintable() or not subject.isascii()):
        raise errors.InvalidParameter("Invalid parameter: Subject")
    attributes = _attributes(params, prefix + "MessageAttributes.entry.")
    size = len(message.encode()) + sum(len(n) + len(v["Type"]) + len(v["Value"]) for n, v in attributes.items())
    if size > MESSAGE_LIMIT:
        raise errors.InvalidParameter("Invalid parameter: Message too long")
    group_id = params.get(prefix + "MessageGroupId")
    dedup_id = params.get(prefix + "MessageDeduplicationId")
    if fifo and not group_id:
        raise errors.InvalidParameter("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    if not fifo and dedup_id is not None:
        raise errors.InvalidParameter(
            "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter "
            "that is not valid for this topic type"
        )
    return Notification(message, subject, attributes, group_id, dedup_id, per_protocol)


def batch_prefixes(params: Mapping[str, str]) -> list[tuple[str, str]]:
    """PublishBatch's entries as ``(Id, key prefix)``, checked as a whole: count, ids, total size."""
    prefixes: list[tuple[str, str]] = []
    seen: set[str] = set()
    size = 0
    while f"PublishBatchRequestEntries.member.{len(prefixes) + 1}.Id" in params:
        prefix = f"PublishBatchRequestEntries.member.{len(prefixes) + 1}."
        entry_id = params[prefix + "Id"]
        if not _BATCH_ID.fullmatch(entry_id):
            raise errors.InvalidBatchId(entry_id)
        if entry_id in seen:
            raise errors.BatchIdsNotDistinct(entry_id)
        seen.add(entry_id)
        size += len(params.get(prefix + "Message", "").encode())
        prefixes.append((entry_id, prefix))
    if not prefixes:
        raise errors.EmptyBatch()
    if len(prefixes) > MAX_BATCH:
        raise errors.TooManyEntriesInBatch(MAX_BATCH)
    if size > MESSAGE_LIMIT:
        raise errors.BatchTooLong(MESSAGE_LIMIT)
    return prefixes


def _structure(message: str) -> dict[str, str]:
    try:
        doc = json.loads(message)
    except ValueError:
        raise errors.InvalidParameter("Invalid parameter: Message Structure - JSON message body failed to parse") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("default"), str):
        raise errors.InvalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
    return {k: v for k, v in doc.items() if isinstance(v, str)}


def _attributes(params: Mapping[str, str], prefix: str) -> dict[str, dict[str, str]]:
    attributes: dict[str, dict[str, str]] = {}
    index = 1
    while f"{prefix}{index}.Name" in params:
        entry = f"{prefix}{index}."
        name = params[entry + "Name"]
        data_type = params.get(entry + "Value.DataType", "")
        if data_type.split(".", 1)[0] not in _TYPE_PREFIXES:
            raise errors.InvalidParameter(
                f"Invalid parameter: MessageAttributes Reason: The message attribute '{name}' has an invalid message "
                "attribute type, the set of supported type prefixes is Binary, Number, and String."
            )
        attributes[name] = {"Type": data_type, "Value": _attribute_value(name, data_type, params, entry)}
        index += 1
    return attributes


def _attribute_value(name: str, data_type: str, params: Mapping[str, str], entry: str) -> str:
    if data_type.startswith("Binary"):
        value = params.get(entry + "Value.BinaryValue", "")
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error:
            value = ""
    else:
        value = params.get(entry + "Value.StringValue", "")
    if not value:
        raise errors.InvalidParameter(
            f"Invalid parameter: MessageAttributes Reason: The message attribute '{name}' must contain non-empty message attribute value."
        )
    if data_type.startswith("Number") and not _NUMBER.fullmatch(value):
        raise errors.InvalidParameter(
            f"Invalid parameter: MessageAttributes Reason: Could not cast message attribute '{name}' value to number."
        )
    if data_type == "String.Array":
        try:
            if not isinstance(json.loads(value), list):
                raise ValueError
        except ValueError:
            raise errors.InvalidParameter(
                f"Invalid parameter: MessageAttributes Reason: The message attribute '{name}' of type String.Array is not a JSON array."
            ) from None
    return value


# -- responses -------------------------------------------------------------------------------------


def publish_response(message_id: str, request_id: str, sequence_number: str | None = None) -> bytes:
    sequence = f"<SequenceNumber>{sequence_number}</SequenceNumber>" if sequence_number else ""
    return _response("Publish", f"<MessageId>{message_id}</MessageId>{sequence}", request_id)


def publish_batch_response(
    successful: list[tuple[str, str, str | None]], failed: list[tuple[str, errors.MessagingError]], request_id: str
) -> bytes:
    """``successful``: (Id, MessageId, SequenceNumber); ``failed``: (Id, why)."""
    ok = "".join(
        f"<member><Id>{escape(entry_id)}</Id><MessageId>{message_id}</MessageId>"
        + (f"<SequenceNumber>{sequence}</SequenceNumber>" if sequence else "")
        + "</member>"
        for entry_id, message_id, sequence in successful
    )
    refused = "".join(
        f"<member><Id>{escape(entry_id)}</Id><Code>{_ERRORS[type(exc)][1]}</Code>"
        f"<Message>{escape(str(exc))}</Message><SenderFault>true</SenderFault></member>"
        for entry_id, exc in failed
    )
    return _response("PublishBatch", f"<Successful>{ok}</Successful><Failed>{refused}</Failed>", request_id)


def list_topics_response(arns: list[str], request_id: str) -> bytes:
    members = "".join(f"<member><TopicArn>{escape(arn)}</TopicArn></member>" for arn in arns)
    return _response("ListTopics", f"<Topics>{members}</Topics>", request_id)


def _response(action: str, result: str, request_id: str) -> bytes:
    return (
        f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{result}</{action}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    ).encode()


def error(exc: errors.MessagingError, request_id: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    status, code = _ERRORS[type(exc)]
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{escape(str(exc))}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return status, headers(request_id), body


def headers(request_id: str) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"text/xml"), (b"x-amzn-requestid", request_id.encode())]
