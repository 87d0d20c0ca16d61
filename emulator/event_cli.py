"""``emu event``: make a sample event, then print it or send it to a running emu.

``cli.py`` registers this command and hands it its arguments; the rest is here:
the options of each source, which generator in ``emulator.events`` makes the event,
and printing. Sending is ``event_delivery``'s job. Every failure is one line on
stderr and an exit code: 2 for what the user asked wrong, 1 for what went wrong.

With ``--print`` the event goes to stdout and nowhere else; with ``--to FUNCTION``
to that function alone; otherwise to the functions whose triggers match.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import mimetypes
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn

from emulator.config import Project, find_config, load_project
from emulator.config.model import STORAGE_EVENTS
from emulator.errors import ConfigError
from emulator.events import samples
from emulator.events.apigw_samples import apigw_event
from emulator.events.samples import GcpSample, Origin

if TYPE_CHECKING:
    from emulator.event_delivery import Delivered

DEFAULT_URL = "http://127.0.0.1:9000"
# Lambda reads at most 10,000 SQS messages into one batch.
_SQS_MAX_BATCH = 10_000
# The most emu's stand-in upload takes (emulator.surfaces.gcp_services).
_GCS_MAX_SIZE = 64 * 1024 * 1024


class _Unreadable(Exception):
    """A file named by an option cannot be read."""


class _Parser(argparse.ArgumentParser):
    """A parser whose usage errors are one line, naming where to read more."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


# -- options --------------------------------------------------------------------------------


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _non_negative(text: str) -> int:
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _count(text: str) -> int:
    value = _whole(text)
    if not 1 <= value <= _SQS_MAX_BATCH:
        raise argparse.ArgumentTypeError(f"must be between 1 and {_SQS_MAX_BATCH}, got {value}")
    return value


def _size(text: str) -> int:
    value = _whole(text)
    if not 0 <= value <= _GCS_MAX_SIZE:
        raise argparse.ArgumentTypeError(f"must be between 0 and {_GCS_MAX_SIZE}, got {value}")
    return value


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``emu event`` and its sources to ``emu``'s sub-commands."""
    event = commands.add_parser(
        "event",
        help="make a sample event; print it or send it to a running emu",
        description="Make the event a cloud service would send, with fresh ids and the current time. "
        "--print shows it; --to FUNCTION invokes one function; otherwise it goes to the functions whose triggers match.",
    )
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_mutually_exclusive_group()
    where.add_argument("--print", action="store_true", help="print the event as JSON and stop")
    where.add_argument("--to", metavar="FUNCTION", help="send the event to this function only")
    common.add_argument("--url", default=DEFAULT_URL, help=f"the running emu (default {DEFAULT_URL})")
    common.add_argument("-c", "--config", type=Path, help="take region, account and project from this config (default: found in the current folder)")
    gcp = argparse.ArgumentParser(add_help=False, parents=[common])
    gcp.add_argument("--legacy", action="store_true", help="the 1st-gen background-event body instead of a CloudEvent (with --print or --to)")

    sources = event.add_subparsers(dest="source", required=True, metavar="SOURCE", parser_class=_Parser)
    add = sources.add_parser

    s3 = add("s3", parents=[common], help="S3 object created or removed")
    s3.add_argument("action", nargs="?", choices=("put", "delete"), default="put", metavar="ACTION", help="put (ObjectCreated:Put, the default) or delete (ObjectRemoved:Delete)")
    s3.add_argument("--bucket", default="emu-bucket")
    s3.add_argument("--key", default="example.txt", help="the object key, as stored (emu URL-encodes it as S3 does)")
    s3.add_argument("--size", type=_non_negative, default=1024, help="the object's size in bytes (default 1024)")

    sqs = add("sqs", parents=[common], help="an SQS batch")
    sqs.add_argument("--body", action="append", help="a message body; repeat for a batch")
    sqs.add_argument("--count", type=_count, help="how many messages (default: one per --body); bodies are reused in turn")
    sqs.add_argument("--queue", default="emu-queue")

    sns = add("sns", parents=[common], help="an SNS notification")
    sns.add_argument("--message", default="Hello from SNS!")
    sns.add_argument("--subject")
    sns.add_argument("--attr", type=_pair, action="append", default=[], metavar="NAME=VALUE", help="a message attribute (String)")
    sns.add_argument("--topic", default="emu-topic")

    ddb = add("dynamodb", parents=[common], help="a DynamoDB stream record")
    ddb.add_argument("action", nargs="?", choices=("insert", "modify", "remove"), default="insert", metavar="ACTION", help="insert (the default), modify or remove")
    ddb.add_argument("--keys", type=_json_object, default={"id": "1"}, help='the key attributes as plain JSON (default {"id": "1"})')
    ddb.add_argument("--new", type=_json_object, help="the new item as plain JSON (insert, modify)")
    ddb.add_argument("--old", type=_json_object, help="the old item as plain JSON (modify, remove)")
    ddb.add_argument("--table", default="emu-table")

    schedule = add("schedule", parents=[common], help="an EventBridge scheduled event")
    schedule.add_argument("--rule", default="emu-schedule")

    api = add("apigw", parents=[common], help="an API Gateway proxy request")
    version = api.add_mutually_exclusive_group()
    version.add_argument("--v1", dest="version", action="store_const", const="1.0", help="REST API, payload 1.0 (the default)")
    version.add_argument("--v2", dest="version", action="store_const", const="2.0", help="HTTP API, payload 2.0")
    api.add_argument("--method", default="GET")
    api.add_argument("--path", default="/", help="the request path, a ?query allowed (default /)")
    api.add_argument("--body", help="the request body, as text")
    api.add_argument("--header", type=_pair, action="append", default=[], metavar="NAME=VALUE", help="a request header; repeat for more")
    api.add_argument("--query", type=_pair, action="append", default=[], metavar="NAME=VALUE", help="a query parameter; repeat for more")
    api.add_argument("--resource", help="the route's pattern, e.g. /items/{id} (default: the path with --v1, the $default route with --v2)")
    api.set_defaults(version="1.0")

    gcs = add("gcs", parents=[gcp], help="a Cloud Storage object change")
    gcs.add_argument(
        "action", nargs="?", choices=STORAGE_EVENTS, default="finalized", metavar="ACTION", help=f"one of {', '.join(STORAGE_EVENTS)} (default finalized)"
    )
    gcs.add_argument("--bucket", default="emu-bucket")
    gcs.add_argument("--name", default="example.txt", help="the object name")
    content = gcs.add_mutually_exclusive_group()
    content.add_argument("--size", type=_size, default=1024, help="the object's size; its bytes are zeros")
    content.add_argument("--file", type=Path, help="take the object's bytes from this file")
    gcs.add_argument("--content-type")

    pubsub = add("pubsub", parents=[gcp], help="a Pub/Sub message")
    pubsub.add_argument("--topic", default="emu-topic")
    pubsub.add_argument("--data", default="Hello from Pub/Sub!", help="the message data, as text")
    pubsub.add_argument("--attr", type=_pair, action="append", default=[], metavar="NAME=VALUE", help="a message attribute")


# -- making the event -------------------------------------------------------------------------


def _sqs_bodies(args: argparse.Namespace) -> list[str]:
    if not args.body:
        return [f"message {i}" for i in range(1, (args.count or 1) + 1)]
    count = args.count or len(args.body)
    return [args.body[i % len(args.body)] for i in range(count)]


def _gcs_content(args: argparse.Namespace) -> tuple[bytes, str | None]:
    """The object's bytes (``--file``, or ``--size`` zeros) and its content type."""
    if args.file is None:
        return bytes(args.size), args.content_type
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise _Unreadable(f"cannot read {args.file}: {exc.strerror}") from exc
    return data, args.content_type or mimetypes.guess_type(args.file.name)[0]


def _gcs(args: argparse.Namespace, origin: Origin) -> GcpSample:
    data, content_type = _gcs_content(args)
    return samples.gcs_event(origin, args.action, args.bucket, args.name, data, content_type)


def _pubsub(args: argparse.Namespace, origin: Origin) -> GcpSample:
    subscription = f"eventarc-{origin.gcp_region}-{args.to}-sub" if args.to else None
    return samples.pubsub_event(origin, args.topic, args.data.encode(), dict(args.attr), subscription)


_BUILDERS: dict[str, Callable[[argparse.Namespace, Origin], Any]] = {
    "s3": lambda a, o: samples.s3_event(o, a.action, a.bucket, a.key, a.size),
    "sqs": lambda a, o: samples.sqs_event(o, _sqs_bodies(a), a.queue),
    "sns": lambda a, o: samples.sns_event(o, a.message, a.subject, dict(a.attr), a.topic),
    "dynamodb": lambda a, o: samples.dynamodb_event(o, a.action, a.keys, a.new, a.old, a.table),
    "schedule": lambda a, o: samples.schedule_event(o, a.rule),
    "apigw": lambda a, o: apigw_event(o, a.version, a.method, a.path, a.body, a.header, a.query, a.resource),
    "gcs": _gcs,
    "pubsub": _pubsub,
}


def _project(config: Path | None) -> Project | None:
    """The project whose settings name region, account and project; None means emu's defaults."""
    if config is None:
        try:
            config = find_config(Path.cwd())
        except ConfigError:
            return None
    return load_project(config)


def _origin(project: Project | None, function: str | None) -> Origin:
    """The config's region, account and project; a GCP function may name a project of its own."""
    if project is None:
        return Origin()
    origin = Origin.from_settings(project.settings)
    spec = project.functions.get(function) if function else None
    if spec is not None and spec.provider == "gcp" and spec.project:
        origin = dataclasses.replace(origin, project=spec.project)
    return origin


# -- the command ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    try:
        project = _project(args.config)
        origin = _origin(project, args.to)
        sample = _BUILDERS[args.source](args, origin)
    except ConfigError as exc:
        print(f"emu: {exc}", file=sys.stderr)
        return 2
    except (ValueError, _Unreadable) as exc:  # a value the event cannot carry, e.g. a NaN DynamoDB number
        print(f"emu event {args.source}: {exc}", file=sys.stderr)
        return 2
    if args.print:
        shown = sample.as_json(args.legacy) if isinstance(sample, GcpSample) else sample
        print(json.dumps(shown, indent=2, ensure_ascii=False))
        return 0

    from emulator.event_delivery import EventError  # requests, only once something is sent

    try:
        delivered = _deliver(args, project, origin, sample)
    except EventError as exc:
        print(f"emu: {exc}", file=sys.stderr)
        return exc.exit_code
    _show(delivered.body)
    print(delivered.summary, file=sys.stderr)
    return delivered.exit_code


def _deliver(args: argparse.Namespace, project: Project | None, origin: Origin, sample: Any) -> Delivered:
    from emulator import event_delivery as send

    emu = send.EmuClient(args.url)
    if args.to:
        spec = project.functions.get(args.to) if project else None
        return send.to_function(emu, args.to, args.source, sample, args.legacy if isinstance(sample, GcpSample) else False, spec)
    if args.source == "pubsub":
        return send.publish(emu, origin.project, args.topic, args.data.encode(), dict(args.attr))
    if args.source == "gcs":
        data, content_type = _gcs_content(args)
        return send.gcs_change(emu, args.action, args.bucket, args.name, data, content_type)
    return send.aws_subscribers(emu, args.source, sample)


def _show(body: bytes) -> None:
    """An answer's body on stdout: JSON indented, anything else as text."""
    if not body:
        return
    try:
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        text = body.decode("utf-8", "replace").rstrip("\n")
    print(text)
