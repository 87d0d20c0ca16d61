"""AWS triggers in emu.yaml (``events:`` and ``url:``): each source's forms, then one test per rule."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from emulator.config import load_project
from emulator.config.model import ApiTrigger, S3Trigger, ScheduleTrigger, SnsTrigger, SqsTrigger
from emulator.errors import ConfigError

BASE = "runtime: python3.12\nhandler: app.handler\ncode: ./hello\n"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "hello").mkdir(exist_ok=True)
    path = tmp_path / "emu.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def function(extra: str, name: str = "hello") -> str:
    return f"  {name}:\n" + textwrap.indent(BASE + textwrap.dedent(extra), " " * 4)


def config(*functions: str) -> str:
    return "functions:\n" + "".join(functions)


def events(tmp_path: Path, extra: str):
    return load_project(write(tmp_path, config(function(extra)))).functions["hello"].events


def load_error(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_project(path)
    assert info.value.file == str(path)
    return info.value


def assert_error(tmp_path: Path, extra: str, key: str, fragment: str) -> None:
    error = load_error(tmp_path, config(function(extra)))
    assert (error.function, error.key) == ("hello", key), str(error)
    assert f"function 'hello': '{key}'" in str(error)
    assert fragment in str(error), str(error)


# -- every source, long and short forms ---------------------------------------------------


def test_every_source_as_a_list(tmp_path):
    assert events(
        tmp_path,
        """\
        events:
          - s3: {bucket: photos, prefix: uploads/, suffix: .jpg, events: [ObjectCreated, ObjectRemoved]}
          - sqs: {queue: orders, batch_size: 25}
          - sns: {topic: order-events}
          - schedule: rate(5 minutes)
          - api: {path: "/items/{id}", method: get, payload: "1.0"}
        """,
    ) == (
        S3Trigger(bucket="photos", events=("s3:ObjectCreated:*", "s3:ObjectRemoved:*"), prefix="uploads/", suffix=".jpg"),
        SqsTrigger(queue="orders", batch_size=25),
        SnsTrigger(topic="order-events"),
        ScheduleTrigger(expression="rate(5 minutes)", rate_seconds=300),
        ApiTrigger(path="/items/{id}", method="GET", payload="1.0", gateway="rest"),
    )


def test_short_forms_and_defaults(tmp_path):
    assert events(
        tmp_path,
        """\
        events:
          - s3: photos
          - sqs: orders
          - sns: arn:aws:sns:us-east-1:123456789012:alerts
          - api: GET /items/{id}
          - api: /health
          - api: {path: /orders}
        """,
    ) == (
        S3Trigger(bucket="photos", events=("s3:ObjectCreated:*",)),
        SqsTrigger(queue="orders", batch_size=10),
        SnsTrigger(topic="alerts"),
        ApiTrigger(path="/items/{id}", method="GET", payload="2.0", gateway="http"),
        ApiTrigger(path="/health", method="ANY"),
        ApiTrigger(path="/orders", method="ANY", payload="2.0", gateway="http"),
    )


def test_events_as_a_mapping_like_sam(tmp_path):
    assert events(
        tmp_path,
        """\
        events:
          Nightly:
            schedule: cron(0 2 * * ? *)
          Upload: {s3: {bucket: photos, events: "s3:ObjectCreated:Put"}}
        """,
    ) == (
        ScheduleTrigger(expression="cron(0 2 * * ? *)", cron=("0", "2", "*", "*", "?", "*")),
        S3Trigger(bucket="photos", events=("s3:ObjectCreated:Put",)),
    )


def test_schedule_long_form_input_and_disabled(tmp_path):
    assert events(
        tmp_path,
        """\
        events:
          - schedule: {expression: rate(1 hour), input: '{"job": "report"}'}
          - schedule: {expression: rate(1 day), enabled: false}
        """,
    ) == (ScheduleTrigger(expression="rate(1 hour)", rate_seconds=3600, input='{"job": "report"}'),)


def test_queue_arn_fifo_and_batch_limits(tmp_path):
    assert events(
        tmp_path,
        """\
        events:
          - sqs: {queue: "arn:aws:sqs:eu-west-1:123456789012:jobs.fifo", batch_size: 10}
          - sqs: {queue: big, batch_size: 10000}
        """,
    ) == (SqsTrigger(queue="jobs.fifo", batch_size=10), SqsTrigger(queue="big", batch_size=10000))


def test_http_api_default_route_and_unquoted_payload(tmp_path):
    assert events(
        tmp_path,
        """\
        events:
          - api: {path: $default, method: POST}
          - api: {path: "/files/{path+}", payload: 2.0}
          - api: {path: /legacy, payload: 1.0}
        """,
    ) == (
        ApiTrigger(path="$default", method="ANY"),
        ApiTrigger(path="/files/{path+}"),
        ApiTrigger(path="/legacy", payload="1.0", gateway="rest"),
    )


def test_route_key(tmp_path):
    triggers = events(tmp_path, "events:\n  - api: DELETE /items/{id}\n  - api: $default\n")
    assert [t.route_key for t in triggers] == ["DELETE /items/{id}", "$default"]


def test_s3_trigger_matches_names_and_keys():
    trigger = S3Trigger(bucket="b", events=("s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"), prefix="in/", suffix=".png")
    assert trigger.matches("s3:ObjectCreated:Put", "in/a.png")
    assert trigger.matches("s3:ObjectRemoved:Delete", "in/a.png")
    assert not trigger.matches("s3:ObjectRemoved:DeleteMarkerCreated", "in/a.png")
    assert not trigger.matches("s3:ObjectCreated:Put", "out/a.png")
    assert not trigger.matches("s3:ObjectCreated:Put", "in/a.jpg")


def test_url_and_no_events(tmp_path):
    spec = load_project(write(tmp_path, config(function("url: true\n")))).functions["hello"]
    assert (spec.url, spec.events) == (True, ())
    spec = load_project(write(tmp_path, config(function("events: []\n")))).functions["hello"]
    assert (spec.url, spec.events) == (False, ())


# -- one test per rule --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "key", "fragment"),
    [
        ("events: s3\n", "events", "must be a list of events"),
        ("events: [photos]\n", "events[0]", "must be a mapping"),
        ("events: [{shedule: x}]\n", "events[0].shedule", "unknown key (did you mean 'schedule'?)"),
        ("events: [{s3: a, sqs: b}]\n", "events[0]", "give exactly one of s3, sqs, sns, schedule, api"),
        ("events: {Up: {s3: {bucket: a, prefx: x}}}\n", "events.Up.s3.prefx", "did you mean 'prefix'?"),
        ("events: [{s3: {prefix: a/}}]\n", "events[0].s3.bucket", "must be a non-empty string"),
        ("events: [{s3: My_Bucket}]\n", "events[0].s3.bucket", "invalid bucket name 'My_Bucket'"),
        ("events: [{s3: ab}]\n", "events[0].s3.bucket", "3-63 lowercase"),
        ("events: [{s3: a..b}]\n", "events[0].s3.bucket", "invalid bucket name"),
        ("events: [{s3: 192.168.1.1}]\n", "events[0].s3.bucket", "invalid bucket name"),
        ("events: [{s3: {bucket: b01, events: [ObjectMoved]}}]\n", "events[0].s3.events", "unknown S3 event type 'ObjectMoved'"),
        ("events: [{s3: {bucket: b01, events: []}}]\n", "events[0].s3.events", "an S3 event type or a list"),
        ("events: [{s3: {bucket: b01, prefix: 3}}]\n", "events[0].s3.prefix", "must be a string"),
        ("events: [{sqs: {queue: 'my queue'}}]\n", "events[0].sqs.queue", "invalid name 'my queue'"),
        ("events: [{sqs: 'arn:aws:sns:us-east-1:123456789012:t'}]\n", "events[0].sqs.queue", "is not an SQS ARN"),
        ("events: [{sqs: {queue: q, batch_size: 0}}]\n", "events[0].sqs.batch_size", "between 1 and 10000"),
        ("events: [{sqs: {queue: q, batch_size: 10001}}]\n", "events[0].sqs.batch_size", "between 1 and 10000"),
        ("events: [{sqs: {queue: q.fifo, batch_size: 11}}]\n", "events[0].sqs.batch_size", "between 1 and 10 for a FIFO queue"),
        ("events: [{sqs: {queue: q, batch_size: '5'}}]\n", "events[0].sqs.batch_size", "must be an integer"),
        ("events: [{sns: {topic: ''}}]\n", "events[0].sns.topic", "non-empty string"),
        ("events: [{sns: a/b}]\n", "events[0].sns.topic", "invalid name 'a/b'"),
        ("events: [{schedule: daily}]\n", "events[0].schedule", "must be rate(...) or cron(...)"),
        ("events: [{schedule: rate(1 hours)}]\n", "events[0].schedule", "the unit is 'hour'"),
        ("events: [{schedule: {expression: 'cron(0 2 * * * *)'}}]\n", "events[0].schedule.expression", "must be '?'"),
        ("events: [{schedule: {expression: rate(1 day), input: {a: 1}}}]\n", "events[0].schedule.input", "JSON string"),
        ("events: [{schedule: {expression: rate(1 day), enabled: 'no'}}]\n", "events[0].schedule.enabled", "true or false"),
        ("events: [{api: {method: GET}}]\n", "events[0].api.path", "must be a non-empty string"),
        ("events: [{api: items}]\n", "events[0].api.path", "must start with '/'"),
        ("events: [{api: {path: /a//b}}]\n", "events[0].api.path", "empty segment"),
        ("events: [{api: {path: /a/}}]\n", "events[0].api.path", "empty segment"),
        ("events: [{api: {path: '/a/{id}.json'}}]\n", "events[0].api.path", "a path parameter is a whole segment"),
        ("events: [{api: {path: '/{proxy+}/x'}}]\n", "events[0].api.path", "must be the last segment"),
        ("events: [{api: {path: '/{id}/{id}'}}]\n", "events[0].api.path", "names parameter 'id' twice"),
        ("events: [{api: {path: $default, payload: '1.0'}}]\n", "events[0].api.path", "a REST API (payload 1.0) needs a path"),
        ("events: [{api: {path: /a, method: FETCH}}]\n", "events[0].api.method", "must be one of ANY, GET"),
        ("events: [{api: {path: /a, payload: '3.0'}}]\n", "events[0].api.payload", "must be one of 1.0, 2.0"),
        ("events: [{api: {path: /a, verb: GET}}]\n", "events[0].api.verb", "unknown key"),
        ("url: 'yes'\n", "url", "must be true or false"),
    ],
)
def test_invalid_events(tmp_path, extra, key, fragment):
    assert_error(tmp_path, extra, key, fragment)


def test_two_functions_on_one_route(tmp_path):
    error = load_error(
        tmp_path,
        config(
            function("events: [{api: 'GET /items/{id}'}]\n", "a"),
            function("events: [{api: 'GET /items/{key}'}]\n", "b"),
        ),
    )
    assert (error.function, error.key) == ("b", "events")
    assert "route 'GET /items/{key}' is taken: function 'a' has it too" in str(error)


def test_one_route_twice_in_one_function(tmp_path):
    assert_error(tmp_path, "events: [{api: GET /x}, {api: GET /x}]\n", "events", "it is listed twice")


def test_distinct_methods_and_any_share_a_path(tmp_path):
    triggers = events(tmp_path, "events: [{api: GET /x}, {api: POST /x}, {api: /x}]\n")
    assert [t.method for t in triggers] == ["GET", "POST", "ANY"]


@pytest.mark.parametrize(("extra", "key"), [("events: []\n", "events"), ("url: true\n", "url")])
def test_aws_only_keys_on_a_gcp_function(tmp_path, extra, key):
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "main.py").write_text("def hello(request):\n    return 'ok'\n")
    text = "functions:\n  hello:\n    provider: gcp\n    runtime: python311\n    code: ./hello\n    " + extra
    error = load_error(tmp_path, text)
    assert (error.function, error.key) == ("hello", key)
    assert "is an AWS-only key" in str(error)
