"""SNS and SQS through a real ``emu up``, driven with boto3 as a user (or a function) drives them.

Each function under test prints one ``EVENT {json}`` line per event it receives
(tests/functions/event_log), so what arrived, and how often, is read from emu's log.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import boto3
import pytest
import requests
from botocore.config import Config

from emulator.events import samples

CONFIG = """
settings:
  sqs_visibility_timeout: 0.2
functions:
  inventory:
    runtime: python3.11
    handler: app.handler
    code: ./log
    events: [{sns: orders}]
  email:
    runtime: python3.11
    handler: app.handler
    code: ./log
    events: [{sns: orders}]
  analytics:
    runtime: python3.11
    handler: app.handler
    code: ./log
    events: [{sns: {topic: "arn:aws:sns:us-east-1:123456789012:orders"}}]
  auditor:
    runtime: python3.11
    handler: app.handler
    code: ./log
    events: [{sns: audit}]
  worker:
    runtime: python3.11
    handler: app.handler
    code: ./log
    events: [{sqs: {queue: jobs, batch_size: 5}}]
  doomed:
    runtime: python3.11
    handler: app.handler
    code: ./fails
    events: [{sqs: poison}]
  publisher:
    runtime: python3.11
    handler: app.handler
    code: ./publisher
    timeout: 10
"""
FUNCTIONS = {"log": "event_log", "fails": "sqs_fails", "publisher": "sns_publisher"}
TOPIC = "arn:aws:sns:us-east-1:123456789012:orders"
# Long enough for a stray second delivery to have shown up in the log.
SETTLE_S = 0.5


def client(emu, service: str):
    return boto3.client(
        service,
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}),
    )


def events(emu) -> list[dict]:
    """Every ``EVENT`` line in the log: {"function": name, "event": the event it received}."""
    return [json.loads(line.split("| EVENT ", 1)[1]) for line in emu.log().splitlines() if "| EVENT " in line]


def wait_for_events(emu, count: int) -> list[dict]:
    emu.wait_for_log("| EVENT ", count=count)
    time.sleep(SETTLE_S)
    return events(emu)


@pytest.fixture
def emu(emu_server):
    return emu_server(CONFIG, FUNCTIONS)


def test_a_publish_reaches_every_subscriber_once_with_the_sns_event(emu):
    sns = client(emu, "sns")
    published = sns.publish(
        TopicArn=TOPIC,
        Message='{"order": 42}',
        Subject="New order",
        MessageAttributes={
            "priority": {"DataType": "Number", "StringValue": "1"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    seen = wait_for_events(emu, 3)
    assert sorted(e["function"] for e in seen) == ["analytics", "email", "inventory"]  # not the auditor
    subscriptions = set()
    for item in seen:
        [record] = item["event"]["Records"]
        assert (record["EventSource"], record["EventVersion"]) == ("aws:sns", "1.0")
        subscriptions.add(record["EventSubscriptionArn"])
        assert record["EventSubscriptionArn"].startswith(TOPIC + ":")
        sns_ = record["Sns"]
        assert sns_["MessageId"] == published["MessageId"]
        assert (sns_["Type"], sns_["TopicArn"], sns_["Subject"], sns_["Message"]) == ("Notification", TOPIC, "New order", '{"order": 42}')
        assert sns_["MessageAttributes"] == {"priority": {"Type": "Number", "Value": "1"}, "blob": {"Type": "Binary", "Value": "AAE="}}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sns_["Timestamp"])
        assert sns_["SignatureVersion"] == "1" and sns_["Signature"]
        assert sns_["SigningCertUrl"].startswith("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-")
        assert sns_["UnsubscribeUrl"].endswith("SubscriptionArn=" + record["EventSubscriptionArn"])
    assert len(subscriptions) == 3  # one subscription per function


def test_publish_batch_fans_out_each_good_entry_and_reports_the_bad(emu):
    sns = client(emu, "sns")
    answer = sns.publish_batch(
        TopicArn=TOPIC,
        PublishBatchRequestEntries=[{"Id": "a", "Message": "first"}, {"Id": "b", "Message": ""}, {"Id": "c", "Message": "third"}],
    )
    assert [entry["Id"] for entry in answer["Successful"]] == ["a", "c"]
    assert answer["Failed"] == [{"Id": "b", "Code": "InvalidParameter", "Message": "Invalid parameter: Empty message", "SenderFault": True}]
    seen = wait_for_events(emu, 6)
    messages = sorted((e["function"], e["event"]["Records"][0]["Sns"]["Message"]) for e in seen)
    assert messages == sorted((f, m) for f in ("analytics", "email", "inventory") for m in ("first", "third"))


def test_sns_errors_are_the_ones_boto3_models(emu):
    sns = client(emu, "sns")
    assert sns.list_topics()["Topics"] == [{"TopicArn": TOPIC}, {"TopicArn": TOPIC.replace("orders", "audit")}]
    for arn in (TOPIC.replace("orders", "nope"), TOPIC.replace("123456789012", "999999999999")):
        with pytest.raises(sns.exceptions.NotFoundException, match="Topic does not exist"):
            sns.publish(TopicArn=arn, Message="x")
    with pytest.raises(sns.exceptions.InvalidParameterException, match="Empty message"):
        sns.publish(TopicArn=TOPIC, Message="")
    with pytest.raises(sns.exceptions.InvalidParameterException, match="TopicArn"):
        sns.publish(TopicArn="orders", Message="x")
    with pytest.raises(sns.exceptions.TooManyEntriesInBatchRequestException):
        sns.publish_batch(TopicArn=TOPIC, PublishBatchRequestEntries=[{"Id": str(i), "Message": "m"} for i in range(11)])
    with pytest.raises(sns.exceptions.BatchEntryIdsNotDistinctException):
        sns.publish_batch(TopicArn=TOPIC, PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "n"}])
    with pytest.raises(sns.exceptions.ClientError, match="InvalidAction"):
        sns.create_topic(Name="orders")
    emu.wait_for_log("emu serves arn:aws:sns:us-east-1:123456789012:orders")


def test_a_function_publishes_with_boto3_and_no_endpoint_config(emu):
    response = emu.lambda_client().invoke(
        FunctionName="publisher", Payload=json.dumps({"topic_arn": TOPIC, "message": "from a function", "queue": "jobs"})
    )
    result = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, result
    # AWS_ENDPOINT_URL_SNS and _SQS point the function's boto3 at emu.
    assert result["sns_endpoint"] == result["sqs_endpoint"] == emu.url
    seen = wait_for_events(emu, 4)
    fanned = sorted(e["function"] for e in seen if "Sns" in e["event"]["Records"][0])
    assert fanned == ["analytics", "email", "inventory"]
    [queued] = [e for e in seen if e["function"] == "worker"]
    assert queued["event"]["Records"][0]["messageId"] == result["sqs_message_id"]
    attributes = next(e for e in seen if e["function"] == "email")["event"]["Records"][0]["Sns"]["MessageAttributes"]
    assert attributes == {"origin": {"Type": "String", "Value": "publisher"}}


def test_a_sent_message_reaches_the_queues_function_as_an_sqs_batch(emu):
    sqs = client(emu, "sqs")
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    assert url == f"{emu.url}/123456789012/jobs"
    assert sqs.list_queues()["QueueUrls"] == [url, f"{emu.url}/123456789012/poison"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="job 1", MessageAttributes={"kind": {"DataType": "String", "StringValue": "report"}})
    [item] = wait_for_events(emu, 1)
    assert item["function"] == "worker"
    [record] = item["event"]["Records"]
    assert (record["messageId"], record["body"]) == (sent["MessageId"], "job 1")
    assert record["receiptHandle"] and record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", "arn:aws:sqs:us-east-1:123456789012:jobs", "us-east-1")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert set(record["attributes"]) == {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}
    assert record["messageAttributes"] == {"kind": {"stringValue": "report", "stringListValues": [], "binaryListValues": [], "dataType": "String"}}
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def test_a_batch_send_arrives_in_batches_of_the_triggers_size(emu):
    sqs = client(emu, "sqs")
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    answer = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": f"job {i}"} for i in range(7)])
    assert len(answer["Successful"]) == 7 and not answer.get("Failed")
    seen = wait_for_events(emu, 2)
    assert sorted(len(e["event"]["Records"]) for e in seen) == [2, 5]
    bodies = sorted(r["body"] for e in seen for r in e["event"]["Records"])
    assert bodies == [f"job {i}" for i in range(7)]


def test_a_failing_batch_is_retried_then_dropped(emu):
    sqs = client(emu, "sqs")
    sent = sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="poison")["QueueUrl"], MessageBody="bad")
    message_id = sent["MessageId"]
    log = emu.wait_for_log(f"sqs message {message_id} from poison dropped after 3 receives")
    receives = [json.loads(line.split("| RECEIVED ", 1)[1]) for line in log.splitlines() if "| RECEIVED " in line]
    assert receives == [{"id": message_id, "count": str(n)} for n in (1, 2, 3)]
    assert log.count("sqs batch from poison failed (RuntimeError); 1 message(s) back on the queue in 0.2 s") == 2
    time.sleep(SETTLE_S)
    assert emu.log().count("| RECEIVED ") == 3  # dropped: not received again
    attributes = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName="poison")["QueueUrl"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_sqs_errors_are_the_ones_boto3_models(emu):
    sqs = client(emu, "sqs")
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="nope")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url.replace("jobs", "nope"), MessageBody="x")
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)])
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}])
    with pytest.raises(sqs.exceptions.ClientError, match="InvalidParameterValue"):
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    with pytest.raises(sqs.exceptions.UnsupportedOperation):
        sqs.purge_queue(QueueUrl=url)
    partly = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "ok", "MessageBody": "x"}, {"Id": "bad", "MessageBody": "\x00"}])
    assert [e["Id"] for e in partly["Successful"]] == ["ok"]
    assert [(e["Id"], e["Code"]) for e in partly["Failed"]] == [("bad", "InvalidMessageContents")]


def test_the_services_share_the_port_with_the_rest_of_emu(emu):
    # An unsigned form POST to / is nobody's SNS call: it stays with the HTTP routes (none here).
    answer = requests.post(emu.url + "/", data={"Action": "Publish", "TopicArn": TOPIC, "Message": "x"}, timeout=5)
    assert answer.status_code == 404
    assert emu.lambda_client().invoke(FunctionName="inventory", Payload=b"{}")["StatusCode"] == 200


def test_emu_events_endpoint_sends_sqs_and_sns_samples_through_the_queue_and_topic(emu):
    origin = samples.Origin()
    answer = requests.post(emu.url + "/_emu/events/aws/sqs", json=samples.sqs_event(origin, ["sample body"], queue="jobs"), timeout=5)
    assert answer.json() == {"functions": ["worker"]}
    answer = requests.post(emu.url + "/_emu/events/aws/sns", json=samples.sns_event(origin, "sample", topic="orders"), timeout=5)
    assert sorted(answer.json()["functions"]) == ["analytics", "email", "inventory"]
    nobody = requests.post(emu.url + "/_emu/events/aws/sqs", json=samples.sqs_event(origin, ["x"], queue="elsewhere"), timeout=5)
    assert nobody.json() == {"functions": []}
    seen = wait_for_events(emu, 4)
    assert [r["body"] for e in seen if e["function"] == "worker" for r in e["event"]["Records"]] == ["sample body"]
    assert sorted(e["function"] for e in seen if e["function"] != "worker") == ["analytics", "email", "inventory"]
    bad = requests.post(emu.url + "/_emu/events/aws/sqs", json={"Records": "no"}, timeout=5)
    assert bad.status_code == 400


def test_emu_event_without_to_sends_to_the_subscribers(emu):
    def emu_event(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "emulator", "event", *args, "--url", emu.url]
        return subprocess.run(command, cwd=emu.root, capture_output=True, text=True, timeout=120)

    sent = emu_event("sns", "--topic", "orders", "--message", "from the cli", "--attr", "k=v")
    assert sent.returncode == 0, sent.stderr
    assert "sent to inventory, email, analytics" in sent.stderr + sent.stdout
    queued = emu_event("sqs", "--queue", "jobs", "--body", "one", "--body", "two")
    assert queued.returncode == 0 and "sent to worker" in queued.stderr + queued.stdout
    nobody = emu_event("sns", "--topic", "elsewhere")
    assert nobody.returncode == 1 and "no function subscribes" in nobody.stderr
    seen = wait_for_events(emu, 4)
    assert sorted(r["body"] for e in seen if e["function"] == "worker" for r in e["event"]["Records"]) == ["one", "two"]
    notes = [e["event"]["Records"][0]["Sns"] for e in seen if e["function"] != "worker"]
    assert [(n["Message"], n["MessageAttributes"]) for n in notes] == [("from the cli", {"k": {"Type": "String", "Value": "v"}})] * 3
