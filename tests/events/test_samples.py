"""Sample events as plain data: the fields each service sends, fresh ids, the current time.

No sockets: every generator is called directly and its result read as a function
would read it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from emulator.config.model import Settings
from emulator.events import samples
from emulator.events.apigw_samples import apigw_event
from emulator.events.samples import OMIT, Origin

ORIGIN = Origin(region="eu-west-1", account_id="111122223333", project="demo-project", gcp_region="europe-west1")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REQUEST_TIME = re.compile(r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$")


def is_recent(moment: datetime) -> bool:
    """Made just now: within a generous minute of this test's clock, never in the future by more."""
    now = datetime.now(timezone.utc)
    return now - timedelta(minutes=1) <= moment <= now + timedelta(seconds=1)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def from_ms(ms: int | str) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, timezone.utc)


def is_uuid(text: str) -> bool:
    return str(uuid.UUID(text)) == text


# -- templates -----------------------------------------------------------------------------------


def test_every_template_is_json_and_every_placeholder_is_filled_by_its_generator() -> None:
    templates = sorted(p.relative_to(samples.TEMPLATES).with_suffix("").as_posix() for p in samples.TEMPLATES.rglob("*.json"))
    assert templates == [
        "aws/dynamodb-insert", "aws/dynamodb-modify", "aws/dynamodb-remove",
        "aws/s3-delete", "aws/s3-put", "aws/schedule", "aws/sns", "aws/sqs",
    ]
    events = [
        samples.dynamodb_event(ORIGIN, "insert", {"id": 1}), samples.dynamodb_event(ORIGIN, "modify", {"id": 1}),
        samples.dynamodb_event(ORIGIN, "remove", {"id": 1}),
        samples.s3_event(ORIGIN, "delete", "b", "k"), samples.s3_event(ORIGIN, "put", "b", "k"),
        samples.schedule_event(ORIGIN), samples.sns_event(ORIGIN, "m"), samples.sqs_event(ORIGIN, ["b"]),
    ]
    for event in events:
        assert "{{" not in json.dumps(event)


def test_fill_types_whole_placeholders_splices_partial_ones_and_omits() -> None:
    template = {"n": "{{n}}", "arn": "arn:{{region}}:{{n}}", "gone": "{{gone}}", "list": ["{{n}}", "{{gone}}"], "fixed": None}
    filled = samples.fill(template, {"n": 5, "region": "eu", "gone": OMIT})
    assert filled == {"n": 5, "arn": "arn:eu:5", "list": [5], "fixed": None}


def test_fill_leaves_placeholders_inside_values_alone() -> None:
    assert samples.fill({"body": "{{body}}"}, {"body": "{{region}}"}) == {"body": "{{region}}"}


def test_fill_refuses_a_placeholder_without_a_value() -> None:
    with pytest.raises(KeyError):
        samples.fill({"a": "x-{{missing}}"}, {})


def test_origin_comes_from_the_config_settings() -> None:
    settings = Settings(region="ap-south-1", account_id="999988887777", project="p", gcp_region="asia-south1")
    assert Origin.from_settings(settings) == Origin("ap-south-1", "999988887777", "p", "asia-south1")
    assert Origin() == Origin.from_settings(Settings())


# -- S3 --------------------------------------------------------------------------------------------


def test_s3_put_has_the_fields_s3_sends() -> None:
    event = samples.s3_event(ORIGIN, "put", "photos", "cats/tom.jpg", size=2048)
    [record] = event["Records"]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "eu-west-1"
    assert record["eventName"] == "ObjectCreated:Put"
    assert ISO_MS.match(record["eventTime"]) and is_recent(instant(record["eventTime"]))
    assert record["userIdentity"]["principalId"].startswith("AWS:")
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert re.fullmatch(r"[0-9A-F]{16}", record["responseElements"]["x-amz-request-id"])
    assert record["responseElements"]["x-amz-id-2"]
    s3 = record["s3"]
    assert s3["s3SchemaVersion"] == "1.0" and s3["configurationId"]
    assert s3["bucket"]["name"] == "photos"
    assert s3["bucket"]["arn"] == "arn:aws:s3:::photos"
    assert s3["bucket"]["ownerIdentity"]["principalId"]
    obj = s3["object"]
    assert obj["key"] == "cats/tom.jpg"
    assert obj["size"] == 2048 and isinstance(obj["size"], int)
    assert re.fullmatch(r"[0-9a-f]{32}", obj["eTag"])
    assert re.fullmatch(r"[0-9A-F]{18}", obj["sequencer"])


def test_s3_delete_carries_only_key_and_sequencer() -> None:
    [record] = samples.s3_event(ORIGIN, "delete", "photos", "cats/tom.jpg")["Records"]
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert set(record["s3"]["object"]) == {"key", "sequencer"}


def test_s3_events_get_fresh_ids_and_growing_sequencers() -> None:
    first, second = (samples.s3_event(ORIGIN, "put", "b", "k")["Records"][0] for _ in range(2))
    assert first["responseElements"]["x-amz-request-id"] != second["responseElements"]["x-amz-request-id"]
    assert first["s3"]["object"]["eTag"] != second["s3"]["object"]["eTag"]
    assert int(first["s3"]["object"]["sequencer"], 16) <= int(second["s3"]["object"]["sequencer"], 16)


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("red flower.jpg", "red+flower.jpg"),  # the S3 User Guide's own example
        ("a/b/c.txt", "a/b/c.txt"),
        ("dt=2018-05-04/_SUCCESS", "dt%3D2018-05-04/_SUCCESS"),
        ("c++ notes.txt", "c%2B%2B+notes.txt"),
        ("(1) copy.png", "%281%29+copy.png"),
        ("10:47:07.log", "10%3A47%3A07.log"),
        ("café.txt", "caf%C3%A9.txt"),
        ("100%.txt", "100%25.txt"),
        ("~home*star-._", "%7Ehome*star-._"),
    ],
)
def test_s3_keys_are_url_encoded_as_s3_does(key: str, encoded: str) -> None:
    [record] = samples.s3_event(ORIGIN, "put", "b", key)["Records"]
    assert record["s3"]["object"]["key"] == encoded
    assert unquote_plus(encoded) == key  # what a handler does to get the key back


# -- SQS -------------------------------------------------------------------------------------------


def test_sqs_batch_has_one_record_per_body_with_what_sqs_sends() -> None:
    bodies = ["first", '{"order": 2}', "third"]
    records = samples.sqs_event(ORIGIN, bodies, queue="orders")["Records"]
    assert [r["body"] for r in records] == bodies
    assert len({r["messageId"] for r in records}) == 3 and all(is_uuid(r["messageId"]) for r in records)
    assert len({r["receiptHandle"] for r in records}) == 3
    for record, body in zip(records, bodies):
        assert record["md5OfBody"] == hashlib.md5(body.encode()).hexdigest()
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == "arn:aws:sqs:eu-west-1:111122223333:orders"
        assert record["awsRegion"] == "eu-west-1"
        assert record["messageAttributes"] == {}
        attributes = record["attributes"]
        assert set(attributes) == {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}
        assert attributes["ApproximateReceiveCount"] == "1"
        assert is_recent(from_ms(attributes["SentTimestamp"]))
        assert int(attributes["ApproximateFirstReceiveTimestamp"]) >= int(attributes["SentTimestamp"])


# -- SNS -------------------------------------------------------------------------------------------


def test_sns_notification_has_what_sns_sends() -> None:
    [record] = samples.sns_event(ORIGIN, "hello", "Greeting", {"color": "blue"}, topic="news")["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    sns = record["Sns"]
    topic_arn = "arn:aws:sns:eu-west-1:111122223333:news"
    assert sns["TopicArn"] == topic_arn
    assert record["EventSubscriptionArn"].startswith(topic_arn + ":")
    assert is_uuid(record["EventSubscriptionArn"].rsplit(":", 1)[1])
    assert sns["Type"] == "Notification"
    assert is_uuid(sns["MessageId"])
    assert sns["Message"] == "hello" and sns["Subject"] == "Greeting"
    assert ISO_MS.match(sns["Timestamp"]) and is_recent(instant(sns["Timestamp"]))
    assert sns["SignatureVersion"] == "1" and base64.b64decode(sns["Signature"])
    assert sns["SigningCertUrl"].startswith("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-")
    assert sns["UnsubscribeUrl"].endswith("SubscriptionArn=" + record["EventSubscriptionArn"])
    assert sns["MessageAttributes"] == {"color": {"Type": "String", "Value": "blue"}}


def test_sns_without_subject_or_attributes_sends_null_and_an_empty_map() -> None:
    first, second = (samples.sns_event(ORIGIN, "m")["Records"][0]["Sns"] for _ in range(2))
    assert first["Subject"] is None
    assert first["MessageAttributes"] == {}
    assert first["MessageId"] != second["MessageId"]


# -- DynamoDB --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "typed"),
    [
        ("text", {"S": "text"}),
        (42, {"N": "42"}),
        (-7, {"N": "-7"}),
        (1.5, {"N": "1.5"}),
        (Decimal("1.50"), {"N": "1.5"}),
        (Decimal("0.10000000000000000001"), {"N": "0.10000000000000000001"}),
        (0.0, {"N": "0"}),
        (1e20, {"N": "100000000000000000000"}),
        (True, {"BOOL": True}),
        (False, {"BOOL": False}),
        (None, {"NULL": True}),
        ([1, "a", None], {"L": [{"N": "1"}, {"S": "a"}, {"NULL": True}]}),
        ({"inner": {"deep": True}}, {"M": {"inner": {"M": {"deep": {"BOOL": True}}}}}),
    ],
)
def test_plain_json_becomes_dynamodb_json(value: Any, typed: dict[str, Any]) -> None:
    assert samples.to_attribute_value(value) == typed


@pytest.mark.parametrize("value", [float("nan"), float("inf"), b"bytes", {1, 2}])
def test_values_dynamodb_cannot_hold_are_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        samples.to_attribute_value(value)


@pytest.mark.parametrize(
    ("action", "event_name", "images"),
    [("insert", "INSERT", {"NewImage"}), ("modify", "MODIFY", {"NewImage", "OldImage"}), ("remove", "REMOVE", {"OldImage"})],
)
def test_dynamodb_records_carry_the_images_of_their_kind(action: str, event_name: str, images: set[str]) -> None:
    keys = {"pk": "user#1", "sk": 7}
    [record] = samples.dynamodb_event(ORIGIN, action, keys, new={"name": "Ada", "age": 36}, old={"name": "Ad"}, table="users")["Records"]  # type: ignore[arg-type]
    assert record["eventName"] == event_name
    assert record["eventVersion"] == "1.1" and record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == "eu-west-1"
    assert re.fullmatch(r"[0-9a-f]{32}", record["eventID"])
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:eu-west-1:111122223333:table/users/stream/")
    stream = record["dynamodb"]
    assert set(stream) == {"ApproximateCreationDateTime", "Keys", "SequenceNumber", "SizeBytes", "StreamViewType"} | images
    assert stream["Keys"] == {"pk": {"S": "user#1"}, "sk": {"N": "7"}}
    assert stream["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert stream["SequenceNumber"].isdigit()
    assert isinstance(stream["SizeBytes"], int) and stream["SizeBytes"] > 0
    assert isinstance(stream["ApproximateCreationDateTime"], int)
    assert is_recent(datetime.fromtimestamp(stream["ApproximateCreationDateTime"] + 0.999, timezone.utc))
    # An image is the whole item: its key attributes always included.
    if "NewImage" in images:
        assert stream["NewImage"] == {"name": {"S": "Ada"}, "age": {"N": "36"}, **stream["Keys"]}
    if "OldImage" in images:
        assert stream["OldImage"] == {"name": {"S": "Ad"}, **stream["Keys"]}


def test_dynamodb_records_get_fresh_ids() -> None:
    first, second = (samples.dynamodb_event(ORIGIN, "insert", {"id": 1})["Records"][0] for _ in range(2))
    assert first["eventID"] != second["eventID"]
    assert first["dynamodb"]["SequenceNumber"] != second["dynamodb"]["SequenceNumber"]


# -- EventBridge -----------------------------------------------------------------------------------


def test_scheduled_event_has_what_eventbridge_sends() -> None:
    event = samples.schedule_event(ORIGIN, rule="nightly")
    assert event["version"] == "0"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["account"] == "111122223333" and event["region"] == "eu-west-1"
    assert event["resources"] == ["arn:aws:events:eu-west-1:111122223333:rule/nightly"]
    assert event["detail"] == {}
    assert ISO_S.match(event["time"]) and is_recent(instant(event["time"]) + timedelta(seconds=0.999))
    assert is_uuid(event["id"]) and event["id"] != samples.schedule_event(ORIGIN)["id"]


# -- API Gateway -----------------------------------------------------------------------------------
# Built by wire.apigw_events from a made-up request; these check the request is made up right.

HEADERS = [("Content-Type", "application/json"), ("X-Tag", "a"), ("X-Tag", "b"), ("Cookie", "session=1; theme=dark")]
QUERY = [("page", "2"), ("tag", "x"), ("tag", "y")]


def test_rest_api_v1_request_has_what_api_gateway_sends() -> None:
    event = apigw_event(ORIGIN, "1.0", "post", "/items/42", '{"n": 1}', HEADERS, QUERY, resource="/items/{id}")
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/items/42" and event["resource"] == "/items/{id}"
    assert event["body"] == '{"n": 1}' and event["isBase64Encoded"] is False
    headers, multi = event["headers"], event["multiValueHeaders"]
    assert headers["Content-Type"] == "application/json"  # case kept
    assert headers["X-Tag"] == "b" and multi["X-Tag"] == ["a", "b"]
    assert headers["Cookie"] == "session=1; theme=dark"
    assert {"Host", "User-Agent", "X-Amzn-Trace-Id", "X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto"} <= set(headers)
    assert set(headers) == set(multi)
    assert event["queryStringParameters"] == {"page": "2", "tag": "y"}
    assert event["multiValueQueryStringParameters"] == {"page": ["2"], "tag": ["x", "y"]}
    assert event["pathParameters"] is None and event["stageVariables"] is None
    context = event["requestContext"]
    assert context["httpMethod"] == "POST" and context["resourcePath"] == "/items/{id}"
    assert context["path"] == f"/{context['stage']}/items/42"
    assert context["accountId"] == "111122223333"
    assert context["domainName"] == f"{context['apiId']}.execute-api.eu-west-1.amazonaws.com"
    assert context["protocol"] == "HTTP/1.1"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert is_uuid(context["requestId"])
    assert REQUEST_TIME.match(context["requestTime"])
    assert is_recent(from_ms(context["requestTimeEpoch"]))


def test_rest_api_v1_without_query_or_body_sends_nulls() -> None:
    event = apigw_event(ORIGIN, "1.0")
    assert event["httpMethod"] == "GET" and event["path"] == "/" and event["resource"] == "/"
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["body"] is None


def test_http_api_v2_request_has_what_api_gateway_sends() -> None:
    event = apigw_event(ORIGIN, "2.0", "PUT", "/items/42?page=2", "body", HEADERS, [("tag", "x"), ("tag", "y")])
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "page=2&tag=x&tag=y"
    assert event["queryStringParameters"] == {"page": "2", "tag": "x,y"}
    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    assert headers["x-tag"] == "a,b" and headers["content-type"] == "application/json"
    assert headers["content-length"] == "4"
    assert "cookie" not in headers and event["cookies"] == ["session=1", "theme=dark"]
    assert event["body"] == "body" and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {"method": "PUT", "path": "/items/42", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": headers["user-agent"]}
    assert context["routeKey"] == "$default" and context["stage"] == "$default"
    assert context["accountId"] == "111122223333" and context["domainPrefix"] == context["apiId"]
    assert REQUEST_TIME.match(context["time"]) and is_recent(from_ms(context["timeEpoch"]))
    assert context["requestId"] != apigw_event(ORIGIN, "2.0")["requestContext"]["requestId"]


def test_http_api_v2_leaves_out_what_it_does_not_have() -> None:
    event = apigw_event(ORIGIN, "2.0", "GET", "/")
    assert not {"cookies", "queryStringParameters", "body", "pathParameters", "stageVariables"} & set(event)
    assert event["rawQueryString"] == ""


# -- Google Cloud ----------------------------------------------------------------------------------


def test_pubsub_message_as_cloud_event_and_legacy_share_id_and_time() -> None:
    sample = samples.pubsub_event(ORIGIN, "orders", b"two pizzas", {"table": "4"})
    event = sample.cloud_event
    assert event.type == "google.cloud.pubsub.topic.v1.messagePublished"
    assert event.source == "//pubsub.googleapis.com/projects/demo-project/topics/orders"
    assert ISO_MS.match(event.time) and is_recent(instant(event.time))
    assert event.id.isdigit()
    message = json.loads(event.data)["message"]
    assert base64.b64decode(message["data"]) == b"two pizzas"
    assert message["attributes"] == {"table": "4"}
    assert message["messageId"] == event.id
    assert json.loads(event.data)["subscription"].startswith("projects/demo-project/subscriptions/")
    legacy = sample.as_json(legacy=True)
    assert legacy["context"]["eventId"] == event.id and legacy["context"]["timestamp"] == event.time
    assert legacy["context"]["eventType"] == "google.pubsub.topic.publish"
    structured = sample.as_json()
    assert structured["id"] == event.id and structured["data"]["message"]["data"] == message["data"]
    assert samples.pubsub_event(ORIGIN, "orders", b"x").cloud_event.id != event.id


@pytest.mark.parametrize(
    ("kind", "legacy_type"),
    [
        ("finalized", "google.storage.object.finalize"),
        ("deleted", "google.storage.object.delete"),
        ("archived", "google.storage.object.archive"),
        ("metadataUpdated", "google.storage.object.metadataUpdate"),
    ],
)
def test_gcs_object_events_of_every_kind(kind: str, legacy_type: str) -> None:
    sample = samples.gcs_event(ORIGIN, kind, "uploads", "dir/a b.txt", b"123456789", "text/plain")  # type: ignore[arg-type]
    event = sample.cloud_event
    assert event.type == f"google.cloud.storage.object.v1.{kind}"
    assert event.source == "//storage.googleapis.com/projects/_/buckets/uploads"
    assert event.subject == "objects/dir/a b.txt"
    assert is_recent(instant(event.time))
    data = json.loads(event.data)
    assert data["bucket"] == "uploads" and data["name"] == "dir/a b.txt"
    assert data["size"] == "9" and data["contentType"] == "text/plain"
    assert data["md5Hash"] == base64.b64encode(hashlib.md5(b"123456789").digest()).decode()
    assert data["generation"].isdigit()
    assert data["metageneration"] == ("2" if kind == "metadataUpdated" else "1")
    assert instant(data["timeCreated"]) <= instant(event.time)
    legacy = sample.as_json(legacy=True)
    assert legacy["context"]["eventType"] == legacy_type
    assert legacy["context"]["eventId"] == event.id
    assert legacy["data"] == data
    assert samples.gcs_event(ORIGIN, kind, "uploads", "x", b"").cloud_event.id != event.id  # type: ignore[arg-type]


def test_templates_ship_in_the_package_and_samples_link_to_them() -> None:
    assert samples.TEMPLATES.is_relative_to(Path(samples.__file__).parent)
    linked = Path(__file__).resolve().parents[2] / "samples" / "events"
    assert linked.resolve() == samples.TEMPLATES.resolve()
    assert (linked / "aws" / "s3-put.json").is_file()


def test_api_gateway_paths_and_routes_as_a_client_and_a_route_make_them() -> None:
    event = apigw_event(ORIGIN, "2.0", "get", "/files/a b.txt?x=1", query=[("y", "2")], resource="/files/{name}")
    assert event["rawPath"] == "/files/a%20b.txt"
    assert event["rawQueryString"] == "x=1&y=2"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /files/{name}"
    rest = apigw_event(ORIGIN, "1.0", "GET", "/files/x", headers=[("user-agent", "curl/8")])
    assert rest["headers"]["User-Agent"] == "curl/8" and rest["requestContext"]["identity"]["userAgent"] == "curl/8"
