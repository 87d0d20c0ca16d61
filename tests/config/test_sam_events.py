"""SAM ``Events`` and ``FunctionUrlConfig`` onto emu's triggers: resource references, defaults, errors."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from emulator.config import load_project
from emulator.config.model import ApiTrigger, S3Trigger, ScheduleTrigger, SnsTrigger, SqsTrigger
from emulator.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures"
HEAD = "Transform: AWS::Serverless-2016-10-31\n"
FUNCTION = "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: python3.12\n      CodeUri: src\n"


def template(tmp_path: Path, text: str) -> Path:
    (tmp_path / "src").mkdir(exist_ok=True)
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def with_events(events: str, resources: str = "", properties: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(events), " " * 8)
    extra = textwrap.indent(textwrap.dedent(properties), " " * 6)
    return HEAD + "Resources:\n" + textwrap.indent(textwrap.dedent(resources), "  ") + FUNCTION + extra + "      Events:\n" + body


def triggers(tmp_path: Path, events: str, resources: str = "", properties: str = ""):
    return load_project(template(tmp_path, with_events(events, resources, properties))).functions["Fn"].events


def load_error(tmp_path: Path, events: str, resources: str = "") -> ConfigError:
    path = template(tmp_path, with_events(events, resources))
    with pytest.raises(ConfigError) as info:
        load_project(path)
    assert info.value.file == str(path)
    return info.value


def test_orders_template_events(tmp_path):
    shutil.copy(FIXTURES / "orders_template.yaml", tmp_path / "template.yaml")
    for name in ("create_order", "process_order", "report", "resize"):
        (tmp_path / "src" / name).mkdir(parents=True)
    functions = load_project(tmp_path / "template.yaml").functions
    assert functions["CreateOrderFunction"].events == (
        ApiTrigger(path="/orders", method="POST", payload="1.0", gateway="rest"),
    )
    # !GetAtt OrdersQueue.Arn on a queue without QueueName: the logical id stands in.
    assert functions["ProcessOrderFunction"].events == (SqsTrigger(queue="OrdersQueue", batch_size=10),)
    assert functions["ReportFunction"].events == (
        ScheduleTrigger(expression="cron(0 2 * * ? *)", cron=("0", "2", "*", "*", "?", "*")),
    )
    assert functions["ResizeFunction"].events == ()


def test_resources_give_their_names(tmp_path):
    resources = """\
    Photos:
      Type: AWS::S3::Bucket
      Properties:
        BucketName: !Sub "${AWS::AccountId}-photos"
    Unnamed:
      Type: AWS::S3::Bucket
    Jobs:
      Type: AWS::SQS::Queue
      Properties: {QueueName: jobs.fifo}
    Alerts:
      Type: AWS::SNS::Topic
      Properties: {TopicName: alerts}
    Plain:
      Type: AWS::SNS::Topic
    """
    events = """\
    Upload:
      Type: S3
      Properties:
        Bucket: !Ref Photos
        Events: [s3:ObjectCreated:*, s3:ObjectRemoved:Delete]
        Filter:
          S3Key:
            Rules:
              - {Name: prefix, Value: uploads/}
              - {Name: Suffix, Value: .jpg}
    Other:
      Type: S3
      Properties: {Bucket: !Ref Unnamed, Events: s3:ObjectCreated:Put}
    Queue:
      Type: SQS
      Properties: {Queue: !GetAtt Jobs.Arn, BatchSize: "5"}
    Topic:
      Type: SNS
      Properties: {Topic: !Ref Alerts}
    PlainTopic:
      Type: SNS
      Properties: {Topic: !Ref Plain}
    External:
      Type: SQS
      Properties: {Queue: "arn:aws:sqs:us-east-1:123456789012:outside"}
    """
    assert triggers(tmp_path, events, resources) == (
        S3Trigger(
            bucket="123456789012-photos",
            events=("s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"),
            prefix="uploads/",
            suffix=".jpg",
        ),
        S3Trigger(bucket="unnamed", events=("s3:ObjectCreated:Put",)),
        SqsTrigger(queue="jobs.fifo", batch_size=5),
        SnsTrigger(topic="alerts"),
        SnsTrigger(topic="Plain"),
        SqsTrigger(queue="outside", batch_size=10),
    )


def test_api_and_http_api_routes(tmp_path):
    events = """\
    Get:
      Type: Api
      Properties: {Path: "/items/{id}", Method: get, RestApiId: !Ref SomeApi}
    Any:
      Type: Api
      Properties: {Path: "/{proxy+}", Method: any}
    Http:
      Type: HttpApi
      Properties: {Path: /orders, Method: POST}
    HttpOld:
      Type: HttpApi
      Properties: {Path: /old, PayloadFormatVersion: "1.0"}
    Catchall:
      Type: HttpApi
    """
    assert triggers(tmp_path, events) == (
        ApiTrigger(path="/items/{id}", method="GET", payload="1.0", gateway="rest"),
        ApiTrigger(path="/{proxy+}", method="ANY", payload="1.0", gateway="rest"),
        ApiTrigger(path="/orders", method="POST", payload="2.0", gateway="http"),
        ApiTrigger(path="/old", method="ANY", payload="1.0", gateway="http"),
        ApiTrigger(path="$default", method="ANY", payload="2.0", gateway="http"),
    )


def test_disabled_and_unsupported_events_are_skipped(tmp_path):
    events = """\
    Off:
      Type: Schedule
      Properties: {Schedule: rate(1 day), Enabled: false}
    OffByState:
      Type: Schedule
      Properties: {Schedule: rate(1 day), State: DISABLED}
    OffQueue:
      Type: SQS
      Properties: {Queue: "arn:aws:sqs:us-east-1:123456789012:q", Enabled: "false"}
    Stream:
      Type: Kinesis
      Properties: {Stream: !GetAtt Stream.Arn, StartingPosition: LATEST, Odd: {"Fn::Nope": 1}}
    Table:
      Type: DynamoDB
    On:
      Type: Schedule
      Properties: {Schedule: rate(1 hour), Input: '{"a": 1}'}
    """
    assert triggers(tmp_path, events) == (
        ScheduleTrigger(expression="rate(1 hour)", rate_seconds=3600, input='{"a": 1}'),
    )


def test_function_url_config_from_the_function_or_globals(tmp_path):
    path = template(
        tmp_path,
        HEAD
        + "Globals:\n  Function:\n    FunctionUrlConfig: {AuthType: NONE}\n"
        + "Resources:\n"
        + FUNCTION
        + FUNCTION.replace("  Fn:", "  Other:")
        + "      FunctionUrlConfig: !Ref AWS::NoValue\n"
        + FUNCTION.replace("  Fn:", "  Third:"),
    )
    functions = load_project(path).functions
    assert functions["Fn"].url is True and functions["Third"].url is True
    assert functions["Other"].url is False


@pytest.mark.parametrize(
    ("events", "key", "fragment"),
    [
        ("Up: {Type: S3, Properties: {Events: s3:ObjectCreated:*}}", "Events.Up.Properties.Bucket", "is required"),
        ("Up: {Type: S3, Properties: {Bucket: b01}}", "Events.Up.Properties.Events", "is required"),
        ("Up: {Type: S3, Properties: {Bucket: Bad_Name, Events: s3:ObjectCreated:*}}", "Events.Up.Properties.Bucket", "invalid bucket name"),
        ("Up: {Type: S3, Properties: {Bucket: b01, Events: s3:Nope}}", "Events.Up.Properties.Events", "unknown S3 event type"),
        (
            "Up: {Type: S3, Properties: {Bucket: b01, Events: s3:ObjectCreated:*, Filter: {S3Key: {Rules: [{Name: middle, Value: x}]}}}}",
            "Events.Up.Properties.Filter.S3Key.Rules", "prefix or suffix",
        ),
        ("Q: {Type: SQS, Properties: {Queue: q, BatchSize: 20000}}", "Events.Q.Properties.BatchSize", "between 1 and 10000"),
        ("Q: {Type: SQS, Properties: {}}", "Events.Q.Properties.Queue", "is required"),
        ("T: {Type: SNS, Properties: {Topic: 'arn:aws:sqs:us-east-1:123456789012:q'}}", "Events.T.Properties.Topic", "not an SNS ARN"),
        ("S: {Type: Schedule, Properties: {Schedule: rate(5 minute)}}", "Events.S.Properties.Schedule", "the unit is 'minutes'"),
        ("S: {Type: Schedule, Properties: {Schedule: rate(1 day), Enabled: maybe}}", "Events.S.Properties.Enabled", "true or false"),
        ("A: {Type: Api, Properties: {Path: /x}}", "Events.A.Properties.Method", "is required"),
        ("A: {Type: Api, Properties: {Method: get}}", "Events.A.Properties.Path", "is required"),
        ("A: {Type: Api, Properties: {Path: '/{a+}/b', Method: get}}", "Events.A.Properties.Path", "last segment"),
        ("H: {Type: HttpApi, Properties: {Path: /x, Method: TRACE}}", "Events.H.Properties.Method", "must be one of"),
        ("H: {Type: HttpApi, Properties: {Path: /x, PayloadFormatVersion: '3.0'}}", "Events.H.Properties.PayloadFormatVersion", "1.0, 2.0"),
        ("H: {Type: HttpApi, Properties: {Path: {'Fn::Select': [5, [a]]}}}", "Events.H.Properties.Path", "out of range"),
        ("H: [not, a, mapping]", "Events.H", "must be a mapping"),
    ],
)
def test_invalid_events_name_the_template_key(tmp_path, events, key, fragment):
    error = load_error(tmp_path, events)
    assert (error.function, error.key) == ("Fn", key), str(error)
    assert fragment in str(error), str(error)


def test_two_functions_on_one_route(tmp_path):
    path = template(
        tmp_path,
        HEAD
        + "Resources:\n"
        + FUNCTION
        + "      Events:\n        A: {Type: Api, Properties: {Path: /x, Method: get}}\n"
        + FUNCTION.replace("  Fn:", "  Other:")
        + "      Events:\n        B: {Type: HttpApi, Properties: {Path: /x, Method: GET}}\n",
    )
    with pytest.raises(ConfigError) as info:
        load_project(path)
    assert (info.value.function, info.value.key) == ("Other", "Events")
    assert "route 'GET /x' is taken: function 'Fn' has it too" in str(info.value)
