"""SAM's ``Events`` into the triggers emu.yaml's ``events:`` makes.

Owns the mapping from each SAM event type's properties onto emu's triggers; the
checks themselves are ``aws_events``', so both files are held to the same rules and
errors quote the template's own keys (``Events.Upload.Properties.Bucket``).

    S3        Bucket, Events, Filter.S3Key.Rules [{Name: prefix | suffix, Value}]
    SQS       Queue, BatchSize (default 10), Enabled
    SNS       Topic
    Schedule  Schedule, Input, Enabled or State
    Api       Path, Method                          a REST API route, payload 1.0
    HttpApi   Path, Method, PayloadFormatVersion    an HTTP API route, payload 2.0 unless set;
                                                    no Path is the $default route

A bucket, queue or topic given as a reference to a resource in the same template
(``!Ref Bucket``, ``!GetAtt Queue.Arn``) takes that resource's name property. Without
one, CloudFormation would generate a name no local run can know; emu uses the
logical id instead (in lower case for a bucket, whose names are lower case).
Other event types (Kinesis, DynamoDB, EventBridgeRule...) are ignored: emu has no
source for them.

Follows docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-eventsource.html.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emulator.config import aws_events
from emulator.config.intrinsics import NO_VALUE, IntrinsicError, Intrinsics
from emulator.config.model import (
    DEFAULT_ROUTE,
    ApiGateway,
    AwsTrigger,
    PayloadVersion,
    S3Trigger,
    ScheduleTrigger,
    SnsTrigger,
    SqsTrigger,
)
from emulator.config.validate import Where, describe, require_mapping

_ABSENT: Any = object()


class _Event:
    """One event's Properties, resolved on demand; errors name ``Events.<name>.Properties.<key>``."""

    def __init__(self, where: Where, key: str, properties: Mapping[str, Any], intrinsics: Intrinsics) -> None:
        self.where = where
        self.key = key
        self._properties = properties
        self._intrinsics = intrinsics

    def label(self, name: str) -> str:
        return f"{self.key}.{name}"

    def get(self, name: str, default: Any = _ABSENT) -> Any:
        if name not in self._properties:
            return default
        try:
            value = self._intrinsics.resolve(self._properties[name])
        except IntrinsicError as exc:
            raise self.where.error(self.label(name), str(exc)) from exc
        return default if value is NO_VALUE else value

    def required(self, name: str) -> Any:
        value = self.get(name)
        if value is _ABSENT:
            raise self.where.error(self.label(name), "is required")
        return value

    def enabled(self, name: str = "Enabled") -> bool:
        value = self.get(name, True)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise self.where.error(self.label(name), f"must be true or false, got {describe(value)}")
        return value

    def resource_name(self, name: str, resource_type: str, name_property: str, lower: bool = False) -> Any:
        """The named resource's name when the property refers to one in this template, else the value."""
        raw = self._properties.get(name, _ABSENT)
        logical_id = _referenced_id(raw)
        declaration = self._intrinsics.resource(logical_id) if logical_id else None
        if declaration is None or declaration.get("Type") != resource_type:
            return self.required(name)
        properties = declaration.get("Properties")
        if isinstance(properties, Mapping) and name_property in properties:
            try:
                value = self._intrinsics.resolve(properties[name_property])
            except IntrinsicError as exc:
                raise self.where.error(self.label(name), f"{logical_id}.{name_property}: {exc}") from exc
            if value is not NO_VALUE:
                return value
        assert logical_id is not None
        return logical_id.lower() if lower else logical_id


def _referenced_id(raw: Any) -> str | None:
    """The logical id in ``{Ref: X}`` or ``{Fn::GetAtt: [X, attr]}`` (or ``"X.attr"``), else None."""
    if not isinstance(raw, Mapping) or len(raw) != 1:
        return None
    if isinstance(raw.get("Ref"), str):
        return raw["Ref"]
    target = raw.get("Fn::GetAtt")
    if isinstance(target, str):
        return target.split(".", 1)[0]
    if isinstance(target, list) and target and isinstance(target[0], str):
        return target[0]
    return None


def read_sam_events(where: Where, value: Any, intrinsics: Intrinsics) -> tuple[AwsTrigger, ...]:
    """The triggers of one function's ``Events`` property (a mapping of name -> event)."""
    if value is None:
        return ()
    events = require_mapping(where, "Events", value)
    triggers: list[AwsTrigger] = []
    for name, body in events.items():
        key = f"Events.{name}"
        body = require_mapping(where, key, body)
        reader = _READERS.get(body.get("Type"))
        if reader is None:
            continue
        properties = require_mapping(where, f"{key}.Properties", body.get("Properties") or {})
        trigger = reader(_Event(where, f"{key}.Properties", properties, intrinsics))
        if trigger is not None:
            triggers.append(trigger)
    return tuple(triggers)


def _s3(event: _Event) -> S3Trigger:
    bucket = event.resource_name("Bucket", "AWS::S3::Bucket", "BucketName", lower=True)
    prefix, suffix = _key_filter(event)
    return S3Trigger(
        bucket=aws_events.bucket_name(event.where, event.label("Bucket"), bucket),
        events=aws_events.s3_event_types(event.where, event.label("Events"), event.required("Events")),
        prefix=prefix,
        suffix=suffix,
    )


def _key_filter(event: _Event) -> tuple[str, str]:
    found = {"prefix": "", "suffix": ""}
    key = event.label("Filter.S3Key.Rules")
    raw = event.get("Filter", {})
    rules = require_mapping(event.where, event.label("Filter"), raw).get("S3Key", {})
    rules = require_mapping(event.where, event.label("Filter.S3Key"), rules).get("Rules", [])
    if not isinstance(rules, list):
        raise event.where.error(key, f"must be a list of {{Name, Value}}, got {describe(rules)}")
    for rule in rules:
        rule = require_mapping(event.where, key, rule)
        name = rule.get("Name")
        if not isinstance(name, str) or name.lower() not in found:
            raise event.where.error(key, f"a rule's Name is prefix or suffix, got {describe(name)}")
        found[name.lower()] = aws_events.key_filter(event.where, key, rule.get("Value"))
    return found["prefix"], found["suffix"]


def _sqs(event: _Event) -> SqsTrigger | None:
    if not event.enabled():
        return None
    queue = event.resource_name("Queue", "AWS::SQS::Queue", "QueueName")
    queue = aws_events.queue_name(event.where, event.label("Queue"), queue)
    size = aws_events.batch_size(event.where, event.label("BatchSize"), _number(event.get("BatchSize", 10)), queue)
    return SqsTrigger(queue=queue, batch_size=size)


def _sns(event: _Event) -> SnsTrigger:
    topic = event.resource_name("Topic", "AWS::SNS::Topic", "TopicName")
    return SnsTrigger(topic=aws_events.topic_name(event.where, event.label("Topic"), topic))


def _schedule(event: _Event) -> ScheduleTrigger | None:
    state = event.get("State", "ENABLED")
    if not event.enabled() or (isinstance(state, str) and state.upper() == "DISABLED"):
        return None
    raw_input = event.get("Input", None)
    return aws_events.schedule(
        event.where, event.label("Schedule"), event.required("Schedule"), raw_input, event.label("Input")
    )


def _api(gateway: ApiGateway) -> Callable[[_Event], AwsTrigger]:
    def read(event: _Event) -> AwsTrigger:
        payload: PayloadVersion = "1.0"
        if gateway == "http":
            payload = aws_events.payload_version(
                event.where, event.label("PayloadFormatVersion"), event.get("PayloadFormatVersion", "2.0")
            )
        if gateway == "http" and event.get("Path", None) is None:
            path = DEFAULT_ROUTE
        else:
            path = aws_events.api_path(event.where, event.label("Path"), event.required("Path"), gateway)
        method = event.required("Method") if gateway == "rest" else event.get("Method", "ANY")
        method = aws_events.api_method(event.where, event.label("Method"), method)
        return aws_events.api_trigger(path, method, payload, gateway)

    return read


_READERS: Mapping[str, Callable[[_Event], AwsTrigger | None]] = {
    "S3": _s3,
    "SQS": _sqs,
    "SNS": _sns,
    "Schedule": _schedule,
    "Api": _api("rest"),
    "HttpApi": _api("http"),
}


def _number(value: Any) -> Any:
    # CloudFormation takes numbers as strings too.
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value
