"""Pub/Sub and Cloud Storage events through a real ``emu up``, to real functions.

Publishing goes through the Pub/Sub REST endpoint and uploads through emu's
``/_emu/gcs`` stand-in, with ``requests``. The subscribers append every event
they receive to a file of their own, which is what the tests read: the event's
attributes and data as the function saw them, and how many times it came.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from conftest import EmuProcess

PROJECT = "demo-project"
BUCKET = "emu-bucket"

CONFIG = """
settings:
  project: demo-project
functions:
  ce_orders:
    provider: gcp
    runtime: python311
    entry_point: on_cloud_event
    code: ./events
    trigger: {pubsub: orders}
    environment: {EVENT_LOG: ../ce_orders.jsonl}
  legacy_orders:
    provider: gcp
    runtime: python311
    entry_point: on_legacy_event
    code: ./events
    signature: event
    generation: 1
    trigger: {pubsub: orders}
    environment: {EVENT_LOG: ../legacy_orders.jsonl}
  failing_jobs:
    provider: gcp
    runtime: python311
    entry_point: on_cloud_event
    code: ./events
    trigger: {pubsub: jobs}
    environment: {EVENT_LOG: ../failing_jobs.jsonl}
  steady_jobs:
    provider: gcp
    runtime: python311
    entry_point: on_cloud_event
    code: ./events
    trigger: {pubsub: jobs}
    environment: {EVENT_LOG: ../steady_jobs.jsonl, FAIL_ON: never}
  uploads:
    provider: gcp
    runtime: python311
    entry_point: on_cloud_event
    code: ./events
    trigger: {gcs: emu-bucket, event: finalized}
    environment: {EVENT_LOG: ../uploads.jsonl}
  legacy_uploads:
    provider: gcp
    runtime: python311
    entry_point: on_legacy_event
    code: ./events
    signature: event
    generation: 1
    trigger: {gcs: emu-bucket}
    environment: {EVENT_LOG: ../legacy_uploads.jsonl}
  deletes:
    provider: gcp
    runtime: python311
    entry_point: on_cloud_event
    code: ./events
    trigger: {gcs: emu-bucket, event: deleted}
    environment: {EVENT_LOG: ../deletes.jsonl}
"""


@pytest.fixture(scope="module")
def emu(emu_module_server: Callable[..., EmuProcess]) -> EmuProcess:
    return emu_module_server(CONFIG, {"events": "gcp_events"})


def records(emu: EmuProcess, function: str) -> list[dict[str, Any]]:
    path: Path = emu.root / f"{function}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def wait_for_records(emu: EmuProcess, function: str, check: Callable[[list[dict]], bool], timeout: float = 15) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check(found := records(emu, function)):
            return found
        time.sleep(0.05)
    raise AssertionError(f"{function} never received the events expected; it has {records(emu, function)}\n{emu.log()}")


def with_id(event_id: str) -> Callable[[list[dict]], list[dict]]:
    def select(found: list[dict]) -> list[dict]:
        return [r for r in found if r.get("attributes", {}).get("id") == event_id or r.get("context", {}).get("eventId") == event_id]

    return select


def publish(emu: EmuProcess, topic: str, body: Any, project: str = PROJECT) -> requests.Response:
    url = f"{emu.url}/v1/projects/{project}/topics/{topic}:publish"
    if isinstance(body, (bytes, str)):
        return requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
    return requests.post(url, json=body, timeout=10)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- Pub/Sub ---------------------------------------------------------------------------------


def test_publish_fans_out_to_every_subscriber(emu: EmuProcess) -> None:
    response = publish(emu, "orders", {"messages": [
        {"data": b64(b"order 1"), "attributes": {"shop": "north"}},
        {"data": b64(b"order 2")},
    ]})
    assert response.status_code == 200
    ids = response.json()["messageIds"]
    assert len(ids) == 2 and len(set(ids)) == 2 and all(isinstance(i, str) and i.isdigit() for i in ids)

    for function in ("ce_orders", "legacy_orders"):
        for message_id in ids:
            wait_for_records(emu, function, lambda found: len(with_id(message_id)(found)) == 1)

    [event] = with_id(ids[0])(records(emu, "ce_orders"))
    attributes = event["attributes"]
    assert event["mode"] == "binary"
    assert attributes["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert attributes["source"] == f"//pubsub.googleapis.com/projects/{PROJECT}/topics/orders"
    assert attributes["specversion"] == "1.0"
    assert attributes["datacontenttype"] == "application/json"
    message = event["data"]["message"]
    assert base64.b64decode(message["data"]) == b"order 1"
    assert message["attributes"] == {"shop": "north"}
    assert message["messageId"] == message["message_id"] == ids[0]
    assert message["publishTime"] == message["publish_time"]
    assert instant(message["publishTime"]) == instant(attributes["time"])
    assert event["data"]["subscription"].startswith(f"projects/{PROJECT}/subscriptions/")

    [event] = with_id(ids[1])(records(emu, "ce_orders"))
    assert base64.b64decode(event["data"]["message"]["data"]) == b"order 2"

    [legacy] = with_id(ids[0])(records(emu, "legacy_orders"))
    assert legacy["kind"] == "legacy"
    context = legacy["context"]
    assert context["eventType"] == "google.pubsub.topic.publish"
    assert context["resource"] == {
        "service": "pubsub.googleapis.com",
        "name": f"projects/{PROJECT}/topics/orders",
        "type": "type.googleapis.com/google.pubsub.v1.PubsubMessage",
    }
    assert instant(context["timestamp"]) == instant(attributes["time"])
    assert legacy["data"] == {
        "@type": "type.googleapis.com/google.pubsub.v1.PubsubMessage",
        "data": b64(b"order 1"),
        "attributes": {"shop": "north"},
    }


def test_a_topic_without_subscribers_accepts_and_drops(emu: EmuProcess) -> None:
    response = publish(emu, "nobody-listens", {"messages": [{"data": b64(b"hello")}]})
    assert response.status_code == 200
    assert len(response.json()["messageIds"]) == 1
    emu.wait_for_log("projects/demo-project/topics/nobody-listens: no subscribers, dropped")


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        {},
        {"messages": []},
        {"messages": "hello"},
        {"messages": [{"data": "not base64!"}]},
        {"messages": [{"data": b64(b"x"), "attributes": {"n": 1}}]},
        {"messages": [{}]},
    ],
    ids=["not-json", "no-messages", "empty-list", "not-a-list", "bad-base64", "non-string-attribute", "empty-message"],
)
def test_a_malformed_publish_is_400_in_googles_error_shape(emu: EmuProcess, body: Any) -> None:
    response = publish(emu, "orders", body)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert isinstance(error["message"], str) and error["message"]


def test_a_failing_subscriber_is_retried_then_dead_lettered(emu: EmuProcess) -> None:
    response = publish(emu, "jobs", {"messages": [{"data": b64(b"fail")}]})
    assert response.status_code == 200
    [message_id] = response.json()["messageIds"]

    emu.wait_for_log(f"pubsub message {message_id} dead-lettered", timeout=20)
    attempts = with_id(message_id)(records(emu, "failing_jobs"))
    assert len(attempts) == 5  # the first try and four retries
    assert all(a["data"]["message"]["messageId"] == message_id for a in attempts)
    assert emu.log().count(f"pubsub message {message_id} not acknowledged (HTTP 500); retrying") == 4
    # The other subscriber acknowledged it the first time and heard of it only once.
    assert len(with_id(message_id)(records(emu, "steady_jobs"))) == 1


# -- Cloud Storage -----------------------------------------------------------------------------

# CRC32C check value of "123456789" (RFC 3720 B.4), as GCS's base64 of the big-endian integer.
CHECK_BODY = b"123456789"
CHECK_CRC32C = base64.b64encode(bytes.fromhex("e3069283")).decode()


def test_an_upload_is_finalized_and_a_delete_is_deleted(emu: EmuProcess) -> None:
    name = "path/to/obj.txt"
    uploaded = requests.post(
        f"{emu.url}/_emu/gcs/{BUCKET}/{name}", data=CHECK_BODY, headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert uploaded.status_code == 200
    stored = uploaded.json()
    assert stored["bucket"] == BUCKET and stored["name"] == name and stored["size"] == "9"

    [event] = wait_for_records(emu, "uploads", lambda found: len(found) == 1)
    attributes = event["attributes"]
    assert event["mode"] == "binary"
    assert attributes["type"] == "google.cloud.storage.object.v1.finalized"
    assert attributes["source"] == f"//storage.googleapis.com/projects/_/buckets/{BUCKET}"
    assert attributes["subject"] == f"objects/{name}"
    data = event["data"]
    assert data["bucket"] == BUCKET and data["name"] == name
    assert data["size"] == "9"
    assert data["generation"] == stored["generation"] and data["generation"].isdigit()
    assert data["metageneration"] == "1"
    assert data["contentType"] == "text/plain"
    assert data["md5Hash"] == base64.b64encode(hashlib.md5(CHECK_BODY).digest()).decode()
    assert data["crc32c"] == CHECK_CRC32C
    assert instant(data["timeCreated"]) == instant(data["updated"]) == instant(attributes["time"])

    [legacy] = wait_for_records(emu, "legacy_uploads", lambda found: len(found) == 1)
    assert legacy["context"]["eventType"] == "google.storage.object.finalize"
    assert legacy["context"]["resource"] == {
        "service": "storage.googleapis.com",
        "name": f"projects/_/buckets/{BUCKET}/objects/{name}",
        "type": "storage#object",
    }
    assert legacy["data"]["name"] == name and legacy["data"]["size"] == "9"
    assert records(emu, "deletes") == []  # a delete subscriber does not hear of uploads

    deleted = requests.delete(f"{emu.url}/_emu/gcs/{BUCKET}/{name}", timeout=10)
    assert deleted.status_code == 204
    [event] = wait_for_records(emu, "deletes", lambda found: len(found) == 1)
    assert event["attributes"]["type"] == "google.cloud.storage.object.v1.deleted"
    assert event["attributes"]["subject"] == f"objects/{name}"
    assert event["data"]["name"] == name and event["data"]["generation"] == stored["generation"]
    assert len(records(emu, "uploads")) == 1

    missing = requests.delete(f"{emu.url}/_emu/gcs/{BUCKET}/{name}", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"
