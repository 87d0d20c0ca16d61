"""A Lambda function's triggers: the ``events:`` of emu.yaml, and the checks SAM's Events share.

Owns the rules for each event source (bucket, queue and topic names, S3 event types,
batch sizes, API methods and paths) as small checks that take a value and the key it
came from, so emu.yaml and SAM (``sam_events``) build the same triggers and both
name the key the user wrote. Schedule expressions are ``schedule``'s. Also owns the
one cross-function rule: no two ``api`` events may claim the same route.

emu.yaml, as a list or as a mapping of name -> event:

    events:
      - s3: {bucket: photos, prefix: uploads/, suffix: .jpg, events: [ObjectCreated, ObjectRemoved]}
      - s3: photos                                  every ObjectCreated in the bucket
      - sqs: {queue: orders, batch_size: 10}        or sqs: orders; a queue ARN works too
      - sns: {topic: orders}                        or sns: orders; a topic ARN works too
      - schedule: rate(5 minutes)                   or cron(0 2 * * ? *), or
      - schedule: {expression: rate(1 hour), input: '{"job": "report"}', enabled: true}
      - api: {path: "/items/{id}", method: GET, payload: "2.0"}  or api: GET /items/{id}
    url: true                                       a Function URL

(Inside a flow mapping ``{...}``, YAML needs a path with braces quoted.)

``payload: "1.0"`` is a REST API route (SAM's ``Api``): v1 events and REST's strict
response rules. ``"2.0"``, the default, is an HTTP API route (SAM's ``HttpApi``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, cast

from emulator.config.model import (
    DEFAULT_ROUTE,
    PAYLOAD_VERSIONS,
    ApiGateway,
    ApiTrigger,
    AwsTrigger,
    FunctionSpec,
    PayloadVersion,
    S3Trigger,
    ScheduleTrigger,
    SnsTrigger,
    SqsTrigger,
)
from emulator.config.schedule import ScheduleError, parse_schedule
from emulator.config.validate import (
    Where,
    describe,
    reject_unknown_keys,
    require_bool,
    require_choice,
    require_int,
    require_mapping,
    require_string,
)

EVENT_KINDS = ("s3", "sqs", "sns", "schedule", "api")
_KEYS: Mapping[str, tuple[str, ...]] = {
    "s3": ("bucket", "prefix", "suffix", "events"),
    "sqs": ("queue", "batch_size"),
    "sns": ("topic",),
    "schedule": ("expression", "input", "enabled"),
    "api": ("path", "method", "payload"),
}

# docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
S3_EVENT_TYPES = frozenset({
    "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*", "s3:Replication:OperationFailedReplication", "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold", "s3:Replication:OperationNotTracked",
    "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition", "s3:IntelligentTiering",
    "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete", "s3:ObjectAcl:Put",
})
# docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose buckets).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUCKET_RULE = "use 3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit"
# SQS CreateQueue and SNS CreateTopic: letters, digits, '-' and '_', FIFO names end in .fifo.
_QUEUE = re.compile(r"[A-Za-z0-9_-]{1,75}(\.fifo)?|[A-Za-z0-9_-]{1,80}")
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,251}(\.fifo)?|[A-Za-z0-9_-]{1,256}")
_ARN = re.compile(r"arn:aws[a-z-]*:(?P<service>[a-z0-9]+):[a-z0-9-]*:\d{12}:(?P<name>[^:/]+)")
# Lambda event source mappings: up to 10,000 for a standard queue, 10 for a FIFO one.
SQS_BATCH_SIZE = (1, 10000)
SQS_FIFO_BATCH_SIZE = (1, 10)

HTTP_METHODS = ("ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_STATIC_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*,;=:@%-]+")
_PARAM_SEGMENT = re.compile(r"\{(?P<name>[A-Za-z0-9_.-]+)(?P<greedy>\+?)\}")


# -- emu.yaml ---------------------------------------------------------------------------


def read_events(where: Where, value: Any) -> tuple[AwsTrigger, ...]:
    """emu.yaml's ``events:``: a list, or a mapping of name -> event (as SAM's Events is)."""
    if value is None:
        return ()
    if isinstance(value, list):
        items: Iterable[tuple[str, Any]] = ((f"events[{index}]", item) for index, item in enumerate(value))
    elif isinstance(value, Mapping):
        items = ((f"events.{name}", item) for name, item in value.items())
    else:
        raise where.error("events", f"must be a list of events, got {describe(value)}")
    triggers = (_event(where, key, item) for key, item in items)
    return tuple(trigger for trigger in triggers if trigger is not None)


def _event(where: Where, key: str, item: Any) -> AwsTrigger | None:
    event = require_mapping(where, key, item)
    kinds = [kind for kind in event if kind in EVENT_KINDS]
    if len(event) != 1 or len(kinds) != 1:
        reject_unknown_keys(where, event, EVENT_KINDS, section=key)
        raise where.error(key, f"give exactly one of {', '.join(EVENT_KINDS)} per event, got {len(event)}")
    kind = kinds[0]
    key, body = f"{key}.{kind}", event[kind]
    if isinstance(body, Mapping):
        reject_unknown_keys(where, body, _KEYS[kind], section=key)
    if kind == "s3":
        fields = body if isinstance(body, Mapping) else {"bucket": body}
        return S3Trigger(
            bucket=bucket_name(where, f"{key}.bucket", fields.get("bucket")),
            events=s3_event_types(where, f"{key}.events", fields.get("events", ["ObjectCreated"])),
            prefix=key_filter(where, f"{key}.prefix", fields.get("prefix", "")),
            suffix=key_filter(where, f"{key}.suffix", fields.get("suffix", "")),
        )
    if kind == "sqs":
        fields = body if isinstance(body, Mapping) else {"queue": body}
        queue = queue_name(where, f"{key}.queue", fields.get("queue"))
        return SqsTrigger(queue, batch_size(where, f"{key}.batch_size", fields.get("batch_size", 10), queue))
    if kind == "sns":
        fields = body if isinstance(body, Mapping) else {"topic": body}
        return SnsTrigger(topic_name(where, f"{key}.topic", fields.get("topic")))
    if kind == "schedule":
        if not isinstance(body, Mapping):
            return schedule(where, key, body)
        if not require_bool(where, f"{key}.enabled", body.get("enabled", True)):
            return None  # configured but never delivered, as a disabled rule is
        return schedule(where, f"{key}.expression", body.get("expression"), body.get("input"), f"{key}.input")
    return _api(where, key, body)


def _api(where: Where, key: str, body: Any) -> ApiTrigger:
    if isinstance(body, str):
        method, _, path = body.strip().rpartition(" ")
        fields: Mapping[str, Any] = {"path": path, "method": method.strip() or "ANY"}
    else:
        fields = require_mapping(where, key, body)
    payload = payload_version(where, f"{key}.payload", fields.get("payload", "2.0"))
    gateway: ApiGateway = "rest" if payload == "1.0" else "http"
    path = api_path(where, f"{key}.path", fields.get("path"), gateway)
    return api_trigger(path, api_method(where, f"{key}.method", fields.get("method", "ANY")), payload, gateway)


def api_trigger(path: str, method: str, payload: PayloadVersion, gateway: ApiGateway) -> ApiTrigger:
    # $default catches every method: it has none of its own.
    return ApiTrigger(path=path, method="ANY" if path == DEFAULT_ROUTE else method, payload=payload, gateway=gateway)


# -- the checks, shared with SAM ----------------------------------------------------------


def bucket_name(where: Where, key: str, value: Any) -> str:
    name = require_string(where, key, value)
    if name.startswith("arn:"):
        name = name.rpartition(":")[2]  # arn:aws:s3:::bucket
    try:
        ipaddress.IPv4Address(name)
        is_address = True
    except ValueError:
        is_address = False
    if not _BUCKET.fullmatch(name) or ".." in name or is_address or name.startswith("xn--"):
        raise where.error(key, f"invalid bucket name {name!r}: {_BUCKET_RULE}")
    return name


def s3_event_types(where: Where, key: str, value: Any) -> tuple[str, ...]:
    """S3 event types; ``ObjectCreated`` is short for ``s3:ObjectCreated:*``."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise where.error(key, f"must be an S3 event type or a list of them, got {describe(value)}")
    types: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise where.error(key, f"event types are strings, got {describe(name)}")
        full = name if name.startswith("s3:") else f"s3:{name}"
        if full not in S3_EVENT_TYPES and f"{full}:*" in S3_EVENT_TYPES:
            full += ":*"
        if full not in S3_EVENT_TYPES:
            raise where.error(key, f"unknown S3 event type {name!r}; e.g. ObjectCreated, ObjectRemoved:Delete")
        if full not in types:
            types.append(full)
    return tuple(types)


def key_filter(where: Where, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise where.error(key, f"must be a string, got {describe(value)}")
    return value


def queue_name(where: Where, key: str, value: Any) -> str:
    return _name_or_arn(where, key, value, "sqs", _QUEUE, "use 1-80 letters, digits, '-' or '_' (a FIFO queue ends in .fifo)")


def topic_name(where: Where, key: str, value: Any) -> str:
    return _name_or_arn(where, key, value, "sns", _TOPIC, "use 1-256 letters, digits, '-' or '_' (a FIFO topic ends in .fifo)")


def _name_or_arn(where: Where, key: str, value: Any, service: str, pattern: re.Pattern[str], rule: str) -> str:
    name = require_string(where, key, value)
    if name.startswith("arn:"):
        match = _ARN.fullmatch(name)
        if match is None or match["service"] != service:
            raise where.error(key, f"{name!r} is not an {service.upper()} ARN")
        name = match["name"]
    if not pattern.fullmatch(name):
        raise where.error(key, f"invalid name {name!r}: {rule}")
    return name


def batch_size(where: Where, key: str, value: Any, queue: str) -> int:
    if queue.endswith(".fifo"):
        return require_int(where, key, value, *SQS_FIFO_BATCH_SIZE, context=" for a FIFO queue")
    return require_int(where, key, value, *SQS_BATCH_SIZE)


def schedule(where: Where, key: str, value: Any, input: Any = None, input_key: str = "") -> ScheduleTrigger:
    expression = require_string(where, key, value)
    if input is not None and not isinstance(input, str):
        raise where.error(input_key, f"must be a JSON string, got {describe(input)}")
    if input is not None:
        try:
            json.loads(input)  # a rule target's Input must be valid JSON text
        except ValueError as exc:
            raise where.error(input_key, f"must be valid JSON text: {exc}") from None
    try:
        return parse_schedule(expression, input)
    except ScheduleError as exc:
        raise where.error(key, str(exc)) from None


def payload_version(where: Where, key: str, value: Any) -> PayloadVersion:
    # YAML reads an unquoted 1.0 as a float.
    if isinstance(value, float):
        value = f"{value:.1f}"
    return cast(PayloadVersion, require_choice(where, key, value, PAYLOAD_VERSIONS))


def api_method(where: Where, key: str, value: Any) -> str:
    method = require_string(where, key, value).upper()
    return require_choice(where, key, method, HTTP_METHODS)


def api_path(where: Where, key: str, value: Any, gateway: ApiGateway) -> str:
    """``/items/{id}``, ``/files/{path+}`` (greedy, last segment only), ``/``, or an HTTP API's ``$default``."""
    path = require_string(where, key, value)
    if path == DEFAULT_ROUTE:
        if gateway == "rest":
            raise where.error(key, "$default is an HTTP API route; a REST API (payload 1.0) needs a path")
        return path
    if not path.startswith("/"):
        raise where.error(key, f"must start with '/', got {path!r}")
    if path == "/":
        return path
    segments = path[1:].split("/")
    names: set[str] = set()
    for index, segment in enumerate(segments):
        param = _PARAM_SEGMENT.fullmatch(segment)
        if param is None:
            if not segment:
                raise where.error(key, f"{path!r} has an empty segment (a '//' or a trailing '/')")
            if not _STATIC_SEGMENT.fullmatch(segment):
                raise where.error(key, f"{path!r}: a path parameter is a whole segment, like /items/{{id}}")
            continue
        if param["greedy"] and index != len(segments) - 1:
            raise where.error(key, f"{path!r}: a greedy parameter {{{param['name']}+}} must be the last segment")
        if param["name"] in names:
            raise where.error(key, f"{path!r} names parameter {param['name']!r} twice")
        names.add(param["name"])
    return path


# -- across functions ---------------------------------------------------------------------


def check_routes(where: Where, functions: Mapping[str, FunctionSpec], key: str = "events") -> None:
    """Refuse two api events on one route: emu serves every API on one host, as one route table."""
    seen: dict[tuple[str, str], str] = {}
    for name, spec in functions.items():
        for trigger in spec.events:
            if not isinstance(trigger, ApiTrigger):
                continue
            shape = _PARAM_SEGMENT.sub(lambda m: "{+}" if m["greedy"] else "{}", trigger.path)
            route = (trigger.method, shape)
            if route in seen:
                other = seen[route]
                whose = "it is listed twice" if other == name else f"function '{other}' has it too"
                raise Where(where.file, name).error(key, f"route {trigger.route_key!r} is taken: {whose}")
            seen[route] = name
