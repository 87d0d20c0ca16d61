"""SQS's JSON protocol with plain data: requests read and checked, digests, and one test per error-table row."""

from __future__ import annotations

import base64
import json

import pytest

from emulator import errors
from emulator.wire import sqs_json
from emulator.wire.sqs_json import OutgoingMessage, md5_of_attributes


def test_queue_name_is_the_last_segment_of_the_url() -> None:
    assert sqs_json.queue_name({"QueueUrl": "http://127.0.0.1:9000/123456789012/orders"}) == "orders"
    assert sqs_json.queue_name({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo"}) == "jobs.fifo"
    with pytest.raises(errors.MissingParameter):
        sqs_json.queue_name({})
    with pytest.raises(errors.NoSuchQueue):
        sqs_json.queue_name({"QueueUrl": "orders"})


def test_a_message_with_attributes() -> None:
    doc = {
        "MessageBody": "hello",
        "MessageAttributes": {
            "n": {"DataType": "Number", "StringValue": "42"},
            "s": {"DataType": "String.custom", "StringValue": "x"},
            "b": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x00\x01").decode()},
        },
        "DelaySeconds": 5,
    }
    message = sqs_json.message(doc, fifo=False)
    assert message.body == "hello" and message.delay_seconds == 5
    assert message.attributes["b"] == {"DataType": "Binary", "BinaryValue": "AAE="}
    assert message.md5_of_body == "5d41402abc4b2a76b9719d911017c592"
    assert message.md5_of_attributes == md5_of_attributes(message.attributes)
    assert OutgoingMessage("x").md5_of_attributes is None


@pytest.mark.parametrize(
    ("attributes", "digest"),
    [
        # Digests computed by SQS (and by other SDKs' checks) for these attributes.
        ({"timestamp": {"DataType": "Number", "StringValue": "1493147359900"}}, "235c5c510d26fb653d073faed50ae77c"),
        ({"SellerName": {"DataType": "String", "StringValue": "Example Store"}}, "cd28f3b68aeee4b2eac9c66f2f694b58"),
        (
            {"ordinal": {"DataType": "Number", "StringValue": "1"}, "category": {"DataType": "String", "StringValue": "test"}},
            "d21ae90c49061e927f57df5f5d72be1f",
        ),
    ],
)
def test_md5_of_message_attributes(attributes, digest) -> None:
    assert md5_of_attributes(attributes) == digest


@pytest.mark.parametrize(
    ("doc", "fifo", "error", "fragment"),
    [
        ({}, False, errors.MissingParameter, "MessageBody"),
        ({"MessageBody": ""}, False, errors.MissingParameter, "MessageBody"),
        ({"MessageBody": "bad \x00 char"}, False, errors.InvalidMessageContents, "Invalid characters"),
        ({"MessageBody": "x" * (sqs_json.MESSAGE_LIMIT + 1)}, False, errors.InvalidParameter, "shorter than 1048576"),
        ({"MessageBody": "x", "DelaySeconds": 901}, False, errors.InvalidParameter, "DelaySeconds"),
        ({"MessageBody": "x", "MessageAttributes": {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}},
         False, errors.InvalidParameter, "exceeds the allowed maximum [10]"),
        ({"MessageBody": "x", "MessageAttributes": {"AWS.x": {"DataType": "String", "StringValue": "v"}}},
         False, errors.InvalidParameter, "name 'AWS.x' is invalid"),
        ({"MessageBody": "x", "MessageAttributes": {"a": {"DataType": "Float", "StringValue": "1"}}},
         False, errors.InvalidParameter, "supported type prefixes"),
        ({"MessageBody": "x", "MessageAttributes": {"a": {"DataType": "String"}}},
         False, errors.InvalidParameter, "non-empty value of type 'String'"),
        ({"MessageBody": "x", "MessageAttributes": {"a": {"DataType": "Number", "StringValue": "ten"}}},
         False, errors.InvalidParameter, "to number"),
        ({"MessageBody": "x", "MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": "!!"}}},
         False, errors.InvalidParameter, "type 'Binary'"),
        ({"MessageBody": "x"}, True, errors.MissingParameter, "MessageGroupId"),
        ({"MessageBody": "x", "MessageGroupId": "g", "DelaySeconds": 3}, True, errors.InvalidParameter, "not valid for this queue type"),
        ({"MessageBody": "x", "MessageDeduplicationId": "d"}, False, errors.InvalidParameter, "not valid for this queue type"),
    ],
)
def test_messages_sqs_refuses(doc, fifo, error, fragment) -> None:
    with pytest.raises(error) as raised:
        sqs_json.message(doc, fifo)
    assert type(raised.value) is error and fragment in str(raised.value)


@pytest.mark.parametrize(
    ("entries", "error"),
    [
        ([], errors.EmptyBatch),
        ([{"Id": str(i), "MessageBody": "x"} for i in range(11)], errors.TooManyEntriesInBatch),
        ([{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}], errors.BatchIdsNotDistinct),
        ([{"Id": "no spaces", "MessageBody": "x"}], errors.InvalidBatchId),
        ([{"Id": "a", "MessageBody": "x" * 600_000}, {"Id": "b", "MessageBody": "x" * 600_000}], errors.BatchTooLong),
    ],
)
def test_batches_sqs_refuses(entries, error) -> None:
    with pytest.raises(error):
        sqs_json.batch_entries({"Entries": entries})


def test_a_good_batch_passes_whole() -> None:
    entries = [{"Id": "a-1", "MessageBody": "x"}, {"Id": "b_2", "MessageBody": "y"}]
    assert sqs_json.batch_entries({"Entries": entries}) == entries


@pytest.mark.parametrize(
    ("exc", "shape", "query_code"),
    [
        (errors.NoSuchQueue("q"), "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"),
        (errors.InvalidParameter("bad"), "InvalidParameterValue", "InvalidParameterValue"),
        (errors.MissingParameter("MessageBody"), "MissingParameter", "MissingParameter"),
        (errors.InvalidMessageContents(), "InvalidMessageContents", "InvalidMessageContents"),
        (errors.EmptyBatch(), "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest"),
        (errors.TooManyEntriesInBatch(), "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
        (errors.BatchIdsNotDistinct("a"), "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
        (errors.InvalidBatchId("a b"), "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId"),
        (errors.BatchTooLong(1), "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong"),
        (errors.UnknownAction("PurgeQueue"), "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation"),
    ],
)
def test_error_table(exc, shape, query_code) -> None:
    status, headers, body = sqs_json.error(exc, "rid")
    assert status == 400
    assert dict(headers)[b"x-amzn-query-error"] == f"{query_code};Sender".encode()
    assert dict(headers)[b"x-amzn-requestid"] == b"rid"
    assert json.loads(body) == {"__type": f"com.amazonaws.sqs#{shape}", "message": str(exc)}
    assert sqs_json.failed_entry("e1", exc) == {"Id": "e1", "SenderFault": True, "Code": query_code, "Message": str(exc)}


def test_sent_result() -> None:
    message = OutgoingMessage("hello", {"k": {"DataType": "String", "StringValue": "v"}})
    assert sqs_json.sent("id-1", message, None) == {
        "MessageId": "id-1", "MD5OfMessageBody": message.md5_of_body, "MD5OfMessageAttributes": message.md5_of_attributes,
    }
    assert sqs_json.sent("id-2", OutgoingMessage("x"), "0001")["SequenceNumber"] == "0001"
