"""SNS's query protocol with plain data: forms read and checked, XML answers, one test per error-table row."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from emulator import errors
from emulator.wire import sns_query
from emulator.wire.sns_query import NAMESPACE, Notification, TopicArn

ARN = "arn:aws:sns:us-east-1:123456789012:orders"
NS = {"sns": NAMESPACE}


def test_form_and_topic_arn() -> None:
    params = sns_query.parse_form(b"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aorders&Message=")
    assert params == {"Action": "Publish", "TopicArn": ARN, "Message": ""}
    assert sns_query.topic_arn(params) == TopicArn("us-east-1", "123456789012", "orders")
    assert sns_query.topic_arn({"TargetArn": ARN + ".fifo"}).name == "orders.fifo"


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "TopicArn or TargetArn"),
        ({"TopicArn": "orders"}, "Invalid parameter: TopicArn"),
        ({"TopicArn": "arn:aws:sqs:us-east-1:123456789012:orders"}, "Invalid parameter: TopicArn"),
        ({"PhoneNumber": "+15555550100"}, "PhoneNumber"),
    ],
)
def test_targets_sns_refuses(params, fragment) -> None:
    with pytest.raises(errors.InvalidParameter, match=fragment):
        sns_query.topic_arn(params)


def test_a_publish_with_every_attribute_type() -> None:
    params = {
        "Message": "hi", "Subject": "Greeting",
        "MessageAttributes.entry.1.Name": "s", "MessageAttributes.entry.1.Value.DataType": "String",
        "MessageAttributes.entry.1.Value.StringValue": "v",
        "MessageAttributes.entry.2.Name": "n", "MessageAttributes.entry.2.Value.DataType": "Number",
        "MessageAttributes.entry.2.Value.StringValue": "1.5",
        "MessageAttributes.entry.3.Name": "b", "MessageAttributes.entry.3.Value.DataType": "Binary",
        "MessageAttributes.entry.3.Value.BinaryValue": "AAE=",
        "MessageAttributes.entry.4.Name": "a", "MessageAttributes.entry.4.Value.DataType": "String.Array",
        "MessageAttributes.entry.4.Value.StringValue": '["x", 1]',
    }
    note = sns_query.notification(params, "", fifo=False)
    assert (note.message, note.subject) == ("hi", "Greeting")
    assert note.attributes == {
        "s": {"Type": "String", "Value": "v"}, "n": {"Type": "Number", "Value": "1.5"},
        "b": {"Type": "Binary", "Value": "AAE="}, "a": {"Type": "String.Array", "Value": '["x", 1]'},
    }


def test_message_structure_json_gives_each_protocol_its_message() -> None:
    note = sns_query.notification({"Message": '{"default": "d", "lambda": "l", "sqs": 5}', "MessageStructure": "json"}, "", False)
    assert note.message == "d"
    assert note.message_for("lambda") == "l" and note.message_for("email") == "d"
    assert Notification("plain").message_for("lambda") == "plain"


@pytest.mark.parametrize(
    ("params", "fifo", "fragment"),
    [
        ({}, False, "Message Reason: no value"),
        ({"Message": ""}, False, "Empty message"),
        ({"Message": "x" * (sns_query.MESSAGE_LIMIT + 1)}, False, "Message too long"),
        ({"Message": "x", "Subject": ""}, False, "Subject"),
        ({"Message": "x", "Subject": "two\nlines"}, False, "Subject"),
        ({"Message": "x", "Subject": "s" * 101}, False, "Subject"),
        ({"Message": "{}", "MessageStructure": "json"}, False, "No default entry"),
        ({"Message": "not json", "MessageStructure": "json"}, False, "failed to parse"),
        ({"Message": "x", "MessageStructure": "xml"}, False, "MessageStructure"),
        ({"Message": "x", "MessageAttributes.entry.1.Name": "a", "MessageAttributes.entry.1.Value.DataType": "Float",
          "MessageAttributes.entry.1.Value.StringValue": "1"}, False, "supported type prefixes"),
        ({"Message": "x", "MessageAttributes.entry.1.Name": "a", "MessageAttributes.entry.1.Value.DataType": "String"},
         False, "non-empty"),
        ({"Message": "x", "MessageAttributes.entry.1.Name": "a", "MessageAttributes.entry.1.Value.DataType": "Number",
          "MessageAttributes.entry.1.Value.StringValue": "ten"}, False, "to number"),
        ({"Message": "x", "MessageAttributes.entry.1.Name": "a", "MessageAttributes.entry.1.Value.DataType": "String.Array",
          "MessageAttributes.entry.1.Value.StringValue": "x"}, False, "JSON array"),
        ({"Message": "x"}, True, "MessageGroupId parameter is required"),
        ({"Message": "x", "MessageDeduplicationId": "d"}, False, "MessageDeduplicationId"),
    ],
)
def test_publishes_sns_refuses(params, fifo, fragment) -> None:
    with pytest.raises(errors.InvalidParameter, match=fragment):
        sns_query.notification(params, "", fifo)


def entries(*ids: str) -> dict[str, str]:
    params = {}
    for index, entry_id in enumerate(ids, 1):
        params[f"PublishBatchRequestEntries.member.{index}.Id"] = entry_id
        params[f"PublishBatchRequestEntries.member.{index}.Message"] = f"m{index}"
    return params


def test_batch_entries_and_their_notifications() -> None:
    params = entries("a", "b")
    prefixes = sns_query.batch_prefixes(params)
    assert prefixes == [("a", "PublishBatchRequestEntries.member.1."), ("b", "PublishBatchRequestEntries.member.2.")]
    assert [sns_query.notification(params, prefix, False).message for _, prefix in prefixes] == ["m1", "m2"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, errors.EmptyBatch),
        (entries(*[str(i) for i in range(11)]), errors.TooManyEntriesInBatch),
        (entries("a", "a"), errors.BatchIdsNotDistinct),
        (entries("a.b"), errors.InvalidBatchId),
        ({**entries("a", "b"), "PublishBatchRequestEntries.member.1.Message": "x" * 200_000,
          "PublishBatchRequestEntries.member.2.Message": "x" * 200_000}, errors.BatchTooLong),
    ],
)
def test_batches_sns_refuses(params, error) -> None:
    with pytest.raises(error):
        sns_query.batch_prefixes(params)


def test_publish_and_batch_answers_are_sns_xml() -> None:
    root = ElementTree.fromstring(sns_query.publish_response("mid", "rid"))
    assert root.tag == f"{{{NAMESPACE}}}PublishResponse"
    assert root.findtext("sns:PublishResult/sns:MessageId", namespaces=NS) == "mid"
    assert root.findtext("sns:ResponseMetadata/sns:RequestId", namespaces=NS) == "rid"

    body = sns_query.publish_batch_response([("a", "m1", None)], [("b", errors.InvalidParameter("Invalid parameter: Empty message"))], "rid")
    result = ElementTree.fromstring(body).find("sns:PublishBatchResult", NS)
    assert result is not None
    assert result.findtext("sns:Successful/sns:member/sns:MessageId", namespaces=NS) == "m1"
    failed = result.find("sns:Failed/sns:member", NS)
    assert failed is not None
    assert [failed.findtext(f"sns:{k}", namespaces=NS) for k in ("Id", "Code", "SenderFault")] == ["b", "InvalidParameter", "true"]

    topics = ElementTree.fromstring(sns_query.list_topics_response([ARN], "rid"))
    assert topics.findtext("sns:ListTopicsResult/sns:Topics/sns:member/sns:TopicArn", namespaces=NS) == ARN


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (errors.NoSuchTopic(ARN), 404, "NotFound"),
        (errors.InvalidParameter("Invalid parameter: Empty message"), 400, "InvalidParameter"),
        (errors.MissingParameter("TopicArn"), 400, "InvalidParameter"),
        (errors.EmptyBatch(), 400, "EmptyBatchRequest"),
        (errors.TooManyEntriesInBatch(), 400, "TooManyEntriesInBatchRequest"),
        (errors.BatchIdsNotDistinct("a"), 400, "BatchEntryIdsNotDistinct"),
        (errors.InvalidBatchId("a.b"), 400, "InvalidBatchEntryId"),
        (errors.BatchTooLong(1), 400, "BatchRequestTooLong"),
        (errors.UnknownAction("Subscribe"), 400, "InvalidAction"),
    ],
)
def test_error_table(exc, status, code) -> None:
    got_status, headers, body = sns_query.error(exc, "rid")
    root = ElementTree.fromstring(body)
    assert got_status == status
    assert dict(headers)[b"x-amzn-requestid"] == b"rid"
    assert root.tag == f"{{{NAMESPACE}}}ErrorResponse"
    assert root.findtext("sns:Error/sns:Code", namespaces=NS) == code
    assert root.findtext("sns:Error/sns:Type", namespaces=NS) == "Sender"
    assert root.findtext("sns:Error/sns:Message", namespaces=NS) == str(exc)
    assert root.findtext("sns:RequestId", namespaces=NS) == "rid"
