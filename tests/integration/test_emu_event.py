"""``emu event`` as a user runs it: a subprocess beside a real ``emu up``.

It runs in the project's folder, so it finds the same emu.yaml and takes region,
account and project from its settings. The GCP subscribers append what they get to
a file of their own; the AWS function echoes its event back.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import EmuProcess, free_port

CONFIG = """
settings:
  region: eu-west-1
  account_id: "111122223333"
  project: demo-project
functions:
  hello:
    runtime: python3.11
    handler: app.handler
    code: ./hello
  raises:
    runtime: python3.11
    handler: app.handler
    code: ./raises
  orders:
    provider: gcp
    runtime: python311
    entry_point: on_cloud_event
    code: ./events
    trigger: {pubsub: orders}
    environment: {EVENT_LOG: ../orders.jsonl}
  uploads:
    provider: gcp
    runtime: python311
    entry_point: on_cloud_event
    code: ./events
    trigger: {gcs: emu-bucket, event: finalized}
    environment: {EVENT_LOG: ../uploads.jsonl}
  direct:
    provider: gcp
    runtime: python311
    entry_point: on_cloud_event
    code: ./events
    environment: {EVENT_LOG: ../direct.jsonl}
  legacy:
    provider: gcp
    runtime: python311
    entry_point: on_legacy_event
    code: ./events
    signature: event
    generation: 1
    environment: {EVENT_LOG: ../legacy.jsonl}
"""


@pytest.fixture(scope="module")
def emu(emu_module_server: Callable[..., EmuProcess]) -> EmuProcess:
    return emu_module_server(CONFIG, {"hello": "hello", "raises": "raises", "events": "gcp_events"})


def emu_event(cwd: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "emulator", "event", *args]
    if url is not None:
        command += ["--url", url]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def records(emu: EmuProcess, function: str) -> list[dict[str, Any]]:
    path = emu.root / f"{function}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line] if path.exists() else []


def wait_for_record(emu: EmuProcess, function: str, check: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in records(emu, function):
            if check(record):
                return record
        time.sleep(0.05)
    raise AssertionError(f"{function} never received the event; it has {records(emu, function)}\n{emu.log()}")


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got: {text!r}"
    return lines[0]


def message_data(record: dict[str, Any]) -> bytes:
    return base64.b64decode(record["data"]["message"]["data"])


# -- --print ---------------------------------------------------------------------------------------

PRINTED = [
    pytest.param(["s3", "put", "--bucket", "b", "--key", "a b.txt"], lambda e: e["Records"][0]["s3"]["object"]["key"] == "a+b.txt", id="s3-put"),
    pytest.param(["s3", "delete"], lambda e: e["Records"][0]["eventName"] == "ObjectRemoved:Delete", id="s3-delete"),
    pytest.param(["sqs", "--body", "a", "--body", "b"], lambda e: [r["body"] for r in e["Records"]] == ["a", "b"], id="sqs"),
    pytest.param(["sqs", "--count", "3"], lambda e: len(e["Records"]) == 3, id="sqs-count"),
    pytest.param(["sns", "--message", "m", "--subject", "s", "--attr", "k=v"], lambda e: e["Records"][0]["Sns"]["MessageAttributes"]["k"]["Value"] == "v", id="sns"),
    pytest.param(["dynamodb", "modify", "--keys", '{"id": 1}', "--new", '{"n": 2.50}', "--old", '{"n": 1}'],
                 lambda e: e["Records"][0]["dynamodb"]["NewImage"] == {"n": {"N": "2.5"}, "id": {"N": "1"}}, id="dynamodb"),
    pytest.param(["schedule", "--rule", "nightly"], lambda e: e["resources"][0].endswith(":rule/nightly"), id="schedule"),
    pytest.param(["apigw", "--v1", "--method", "POST", "--path", "/items", "--body", "{}", "--query", "a=1"],
                 lambda e: e["httpMethod"] == "POST" and e["queryStringParameters"] == {"a": "1"}, id="apigw-v1"),
    pytest.param(["apigw", "--v2", "--header", "Cookie=a=1"], lambda e: e["version"] == "2.0" and e["cookies"] == ["a=1"], id="apigw-v2"),
    pytest.param(["gcs", "archived", "--name", "x.txt", "--size", "3"],
                 lambda e: e["type"] == "google.cloud.storage.object.v1.archived" and e["data"]["size"] == "3", id="gcs"),
    pytest.param(["gcs", "deleted", "--legacy"], lambda e: e["context"]["eventType"] == "google.storage.object.delete", id="gcs-legacy"),
    pytest.param(["pubsub", "--topic", "t", "--data", "hi"],
                 lambda e: base64.b64decode(e["data"]["message"]["data"]) == b"hi" and e["source"].endswith("/projects/demo-project/topics/t"), id="pubsub"),
]


@pytest.mark.parametrize(("args", "check"), PRINTED)
def test_print_writes_the_event_as_json(emu: EmuProcess, args: list[str], check: Callable[[Any], bool]) -> None:
    result = emu_event(emu.root, *args, "--print")
    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout)
    assert check(event)
    assert result.stderr == ""


def test_print_takes_region_and_account_from_the_config(emu: EmuProcess, tmp_path: Path) -> None:
    [record] = json.loads(emu_event(emu.root, "sqs", "--print").stdout)["Records"]
    assert record["eventSourceARN"] == "arn:aws:sqs:eu-west-1:111122223333:emu-queue"
    # Without a config in sight, emu's defaults.
    [record] = json.loads(emu_event(tmp_path, "sqs", "--print").stdout)["Records"]
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:emu-queue"


# -- --to an AWS function --------------------------------------------------------------------------


def test_to_an_aws_function_invokes_it_with_the_event(emu: EmuProcess) -> None:
    result = emu_event(emu.root, "s3", "put", "--bucket", "photos", "--key", "cats/tom & jerry.jpg", "--to", "hello", url=emu.url)
    assert result.returncode == 0, result.stderr
    echoed = json.loads(result.stdout)["event"]
    [record] = echoed["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == "eu-west-1"
    assert record["s3"]["bucket"]["name"] == "photos"
    assert record["s3"]["object"]["key"] == "cats/tom+%26+jerry.jpg"
    assert one_line(result.stderr) == "hello: StatusCode 200"


def test_a_function_error_is_shown_and_exits_1(emu: EmuProcess) -> None:
    result = emu_event(emu.root, "sqs", "--body", "x", "--to", "raises", url=emu.url)
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert payload["errorType"] == "OrderError" and payload["errorMessage"] == "order 42 is broken"
    assert one_line(result.stderr) == "raises: StatusCode 200, FunctionError Unhandled"


# -- GCP -------------------------------------------------------------------------------------------


def test_pubsub_without_to_publishes_to_the_topic_and_reaches_its_subscriber(emu: EmuProcess) -> None:
    data = f"order {uuid.uuid4()}"
    result = emu_event(emu.root, "pubsub", "--topic", "orders", "--data", data, "--attr", "table=4", url=emu.url)
    assert result.returncode == 0, result.stderr
    [message_id] = json.loads(result.stdout)["messageIds"]
    assert one_line(result.stderr) == "published to projects/demo-project/topics/orders"

    record = wait_for_record(emu, "orders", lambda r: r["attributes"]["id"] == message_id)
    assert record["mode"] == "binary"
    assert record["attributes"]["source"] == "//pubsub.googleapis.com/projects/demo-project/topics/orders"
    assert message_data(record) == data.encode()
    assert record["data"]["message"]["attributes"] == {"table": "4"}


def test_gcs_finalized_without_to_goes_through_the_stand_in_bucket(emu: EmuProcess) -> None:
    name = f"incoming/{uuid.uuid4()} report.csv"
    result = emu_event(emu.root, "gcs", "finalized", "--bucket", "emu-bucket", "--name", name, "--size", "9", url=emu.url)
    assert result.returncode == 0, result.stderr
    stored = json.loads(result.stdout)
    assert stored["name"] == name and stored["size"] == "9"

    record = wait_for_record(emu, "uploads", lambda r: r["data"]["name"] == name)
    assert record["attributes"]["type"] == "google.cloud.storage.object.v1.finalized"
    assert record["data"]["bucket"] == "emu-bucket" and record["data"]["size"] == "9"
    assert record["data"]["generation"] == stored["generation"]

    deleted = emu_event(emu.root, "gcs", "deleted", "--bucket", "emu-bucket", "--name", name, url=emu.url)
    assert deleted.returncode == 0, deleted.stderr
    again = emu_event(emu.root, "gcs", "deleted", "--bucket", "emu-bucket", "--name", name, url=emu.url)
    assert again.returncode == 1 and "not in the emu's stand-in bucket" in one_line(again.stderr)


def test_to_a_gcp_function_posts_a_binary_cloud_event(emu: EmuProcess) -> None:
    data = f"direct {uuid.uuid4()}"
    result = emu_event(emu.root, "pubsub", "--topic", "orders", "--data", data, "--to", "direct", url=emu.url)
    assert result.returncode == 0, result.stderr
    assert one_line(result.stderr) == "direct: 200 OK (CloudEvent)"
    record = wait_for_record(emu, "direct", lambda r: message_data(r) == data.encode())
    assert record["mode"] == "binary"
    assert record["attributes"]["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert record["data"]["subscription"] == "projects/demo-project/subscriptions/eventarc-us-central1-direct-sub"


def test_to_a_legacy_gcp_function_posts_the_legacy_body(emu: EmuProcess) -> None:
    result = emu_event(emu.root, "gcs", "metadataUpdated", "--bucket", "b", "--name", "legacy.txt", "--to", "legacy", url=emu.url)
    assert result.returncode == 0, result.stderr
    assert one_line(result.stderr) == "legacy: 200 OK (legacy event)"
    record = wait_for_record(emu, "legacy", lambda r: r["data"].get("name") == "legacy.txt")
    assert record["kind"] == "legacy"
    assert record["context"]["eventType"] == "google.storage.object.metadataUpdate"
    assert record["data"]["metageneration"] == "2"


# -- errors: one line, non-zero ---------------------------------------------------------------------


def test_an_unknown_function_is_one_line(emu: EmuProcess) -> None:
    result = emu_event(emu.root, "s3", "--to", "nope", url=emu.url)
    assert result.returncode == 1
    assert one_line(result.stderr).startswith(f"emu: no function 'nope' in the emu at {emu.url}")
    assert result.stdout == ""


def test_an_event_for_the_other_cloud_is_refused(emu: EmuProcess) -> None:
    result = emu_event(emu.root, "s3", "--to", "orders", url=emu.url)
    assert result.returncode == 2
    assert one_line(result.stderr) == "emu: orders is a gcp function; s3 events go to aws functions"


def test_aws_events_without_to_need_a_subscriber(emu: EmuProcess) -> None:
    # No function here subscribes to S3, whether or not this emu can route AWS events yet.
    result = emu_event(emu.root, "s3", "put", url=emu.url)
    assert result.returncode == 1
    assert "--to FUNCTION" in one_line(result.stderr)


def test_gcs_kinds_the_stand_in_cannot_raise_need_to(emu: EmuProcess) -> None:
    result = emu_event(emu.root, "gcs", "archived", url=emu.url)
    assert result.returncode == 2
    assert "--to FUNCTION" in one_line(result.stderr)


def test_no_emu_running_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = emu_event(tmp_path, "sqs", "--to", "hello", url=url)
    assert result.returncode == 1
    assert one_line(result.stderr) == f"emu: no emu answers at {url}: start one with `emu up`, or point --url at it"


@pytest.mark.parametrize(
    "args",
    [
        ["s3", "--size", "big"],
        ["sns", "--attr", "no-equals"],
        ["dynamodb", "--keys", "[1, 2]"],
        ["sqs", "--count", "0"],
        ["gcs", "bogus"],
        ["apigw", "--v1", "--v2"],
        ["s3", "--print", "--to", "hello"],
    ],
    ids=["not-a-number", "attr-without-equals", "keys-not-an-object", "count-zero", "unknown-action", "both-versions", "print-and-to"],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = emu_event(tmp_path, *args)
    assert result.returncode == 2
    assert one_line(result.stderr).startswith(f"emu event {args[0]}: ")


def test_a_broken_config_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "emu.yaml").write_text("settings: {region: 5}\nfunctions: {}\n")
    result = emu_event(tmp_path, "sqs", "--print")
    assert result.returncode == 2
    assert one_line(result.stderr).startswith("emu: ")
