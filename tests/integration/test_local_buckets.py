"""Local buckets through a real ``emu up``: files dropped in folders, boto3's S3 calls, the loop guard.

The subscribers append every event they receive to a file of their own, which is
what the tests read. Files are written into the bucket folders as a user would;
S3 calls go through boto3, from the test and from inside a Lambda function.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import EmuProcess

CONFIG = """
functions:
  created:
    runtime: python3.11
    handler: app.record
    code: ./fn
    environment: {EVENT_LOG: ../created.jsonl}
    events:
      - s3: {bucket: photos, prefix: uploads/, suffix: .jpg}
  every:
    runtime: python3.11
    handler: app.record
    code: ./fn
    environment: {EVENT_LOG: ../every.jsonl}
    events:
      - s3: {bucket: photos, events: [ObjectCreated, ObjectRemoved]}
  looper:
    runtime: python3.11
    handler: app.write_back
    code: ./fn
    timeout: 10
    environment: {EVENT_LOG: ../looper.jsonl, WRITE_PREFIX: loop/}
    events:
      - s3: {bucket: loops, prefix: loop/}
  file_looper:
    runtime: python3.11
    handler: app.write_file_back
    code: ./fn
    environment: {EVENT_LOG: ../file_looper.jsonl, WRITE_PREFIX: again/, BUCKET_DIR: ../.emu/buckets/dirloop}
    events:
      - s3: {bucket: dirloop, prefix: again/}
  sdk:
    runtime: python3.11
    handler: app.sdk_round_trip
    code: ./fn
    timeout: 10
  media_up:
    provider: gcp
    runtime: python311
    entry_point: on_cloud_event
    code: ./gcp
    trigger: {gcs: media}
    environment: {EVENT_LOG: ../media_up.jsonl}
  media_down:
    provider: gcp
    runtime: python311
    entry_point: on_cloud_event
    code: ./gcp
    trigger: {gcs: media, event: deleted}
    environment: {EVENT_LOG: ../media_down.jsonl}
  media:
    provider: gcp
    runtime: python311
    entry_point: echo
    code: ./http
"""


@pytest.fixture(scope="module")
def emu(emu_module_server: Callable[..., EmuProcess]) -> EmuProcess:
    return emu_module_server(CONFIG, {"fn": "s3_objects", "gcp": "gcp_events", "http": "gcp_http"})


def s3(emu: EmuProcess) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}),
    )


def bucket(emu: EmuProcess, name: str) -> Path:
    return emu.root / ".emu" / "buckets" / name


def records(emu: EmuProcess, function: str) -> list[dict[str, Any]]:
    path = emu.root / f"{function}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def wait_for(emu: EmuProcess, function: str, check: Callable[[list[dict]], bool], timeout: float = 15) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check(found := records(emu, function)):
            return found
        time.sleep(0.05)
    raise AssertionError(f"{function} never received the events expected; it has {records(emu, function)}\n{emu.log()}")


def s3_records(emu: EmuProcess, function: str, key: str) -> list[dict]:
    """The S3 records ``function`` received for ``key`` (as the event spells it)."""
    return [r["event"]["Records"][0] for r in records(emu, function) if r["event"]["Records"][0]["s3"]["object"]["key"] == key]


def gcs_records(emu: EmuProcess, function: str, name: str) -> list[dict]:
    return [r for r in records(emu, function) if r["data"]["name"] == name]


def wait_for_one(emu: EmuProcess, select: Callable[[], list[dict]]) -> dict:
    """The one record ``select`` finds, once it finds it."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if found := select():
            assert len(found) == 1, found
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no record arrived\n{emu.log()}")


def settle() -> None:
    """Long enough for a second, unwanted event to have arrived (many times the watcher's quiet)."""
    time.sleep(0.8)


# -- files dropped into a bucket's folder ------------------------------------------------------


def test_a_dropped_file_is_one_well_formed_s3_event(emu: EmuProcess) -> None:
    folder = bucket(emu, "photos") / "uploads" / "summer trip"
    folder.mkdir(parents=True, exist_ok=True)
    data = os.urandom(3000)
    (folder / "beach & sun.jpg").write_bytes(data)
    key = "uploads/summer+trip/beach+%26+sun.jpg"

    record = wait_for_one(emu, lambda: s3_records(emu, "created", key))
    settle()
    assert len(s3_records(emu, "created", key)) == 1
    assert record["eventSource"] == "aws:s3" and record["eventVersion"] == "2.1"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == "us-east-1"
    assert record["s3"]["bucket"]["name"] == "photos"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::photos"
    obj = record["s3"]["object"]
    assert obj["size"] == 3000
    assert obj["eTag"] == hashlib.md5(data).hexdigest()
    assert len(obj["sequencer"]) >= 16
    # Delivered asynchronously inside a chain: the trace header carries its lineage.
    [received] = [r for r in records(emu, "created") if r["event"]["Records"][0] == record]
    assert received["trace"].startswith("Root=1-") and ";Lineage=" in received["trace"]


def test_a_deleted_file_is_object_removed(emu: EmuProcess) -> None:
    path = bucket(emu, "photos") / "to-delete.txt"
    path.write_text("bye")
    wait_for(emu, "every", lambda _: len(s3_records(emu, "every", "to-delete.txt")) == 1)
    path.unlink()
    wait_for(emu, "every", lambda _: len(s3_records(emu, "every", "to-delete.txt")) == 2)
    removed = s3_records(emu, "every", "to-delete.txt")[1]
    assert removed["eventName"] == "ObjectRemoved:Delete"
    assert "size" not in removed["s3"]["object"] and "eTag" not in removed["s3"]["object"]
    # The created-only function with its .jpg filter heard of neither.
    assert s3_records(emu, "created", "to-delete.txt") == []


def test_prefix_and_suffix_filter_what_a_trigger_hears(emu: EmuProcess) -> None:
    root = bucket(emu, "photos")
    (root / "uploads").mkdir(exist_ok=True)
    (root / "uploads" / "notes.txt").write_text("not a jpg")
    (root / "elsewhere.jpg").write_bytes(b"jpg, but not under uploads/")
    (root / "uploads" / "fits.jpg").write_bytes(b"both")
    wait_for(emu, "every", lambda _: all(len(s3_records(emu, "every", k)) == 1 for k in ("uploads/notes.txt", "elsewhere.jpg", "uploads/fits.jpg")))
    wait_for(emu, "created", lambda _: len(s3_records(emu, "created", "uploads/fits.jpg")) == 1)
    settle()
    assert s3_records(emu, "created", "uploads/notes.txt") == []
    assert s3_records(emu, "created", "elsewhere.jpg") == []


def test_temporary_files_and_a_slow_write_are_one_event_for_the_finished_file(emu: EmuProcess) -> None:
    root = bucket(emu, "photos")
    (root / ".#draft.txt").write_text("emacs lock")
    (root / "draft.txt.swp").write_text("vim swap")
    partial = root / "movie.bin.crdownload"
    with open(partial, "wb") as out:
        out.write(b"a" * 1000)
        out.flush()
        time.sleep(0.3)  # a pause mid-write, longer than the watcher's quiet
        out.write(b"b" * 1000)
    partial.rename(root / "movie.bin")
    with open(root / "slow.bin", "wb") as out:
        out.write(b"x" * 500)
        out.flush()
        time.sleep(0.3)
        out.write(b"y" * 500)
    wait_for(emu, "every", lambda _: len(s3_records(emu, "every", "movie.bin")) == 1 and len(s3_records(emu, "every", "slow.bin")) == 1)
    settle()
    assert [r["s3"]["object"]["size"] for r in s3_records(emu, "every", "movie.bin")] == [2000]
    assert [r["s3"]["object"]["size"] for r in s3_records(emu, "every", "slow.bin")] == [1000]
    keys = {r["event"]["Records"][0]["s3"]["object"]["key"] for r in records(emu, "every")}
    assert not {k for k in keys if "draft" in k or "crdownload" in k}


# -- Cloud Storage from the same folders ---------------------------------------------------------


def test_a_gcs_function_hears_finalized_and_deleted_from_the_folder(emu: EmuProcess) -> None:
    path = bucket(emu, "media") / "clips" / "cat.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG fake")
    event = wait_for_one(emu, lambda: gcs_records(emu, "media_up", "clips/cat.png"))
    assert event["attributes"]["type"] == "google.cloud.storage.object.v1.finalized"
    assert event["attributes"]["subject"] == "objects/clips/cat.png"
    data = event["data"]
    assert data["bucket"] == "media" and data["size"] == "9"
    assert data["contentType"] == "image/png"
    assert data["md5Hash"] == base64.b64encode(hashlib.md5(b"\x89PNG fake").digest()).decode()
    assert data["generation"] == str(path.stat().st_mtime_ns // 1000)

    path.unlink()
    gone = wait_for_one(emu, lambda: gcs_records(emu, "media_down", "clips/cat.png"))
    assert gone["attributes"]["type"] == "google.cloud.storage.object.v1.deleted"
    assert gone["data"]["generation"] == data["generation"]
    settle()
    assert len(gcs_records(emu, "media_up", "clips/cat.png")) == 1


def test_the_gcs_stand_in_writes_the_file_and_delivers_once(emu: EmuProcess) -> None:
    name = f"standin/{uuid.uuid4()}.txt"
    response = requests.post(f"{emu.url}/_emu/gcs/media/{name}", data=b"via stand-in", headers={"Content-Type": "text/plain"}, timeout=10)
    assert response.status_code == 200
    stored = response.json()
    path = bucket(emu, "media") / name
    assert path.read_bytes() == b"via stand-in"
    event = wait_for_one(emu, lambda: gcs_records(emu, "media_up", name))
    assert event["data"]["generation"] == stored["generation"]
    assert event["data"]["contentType"] == "text/plain"
    settle()
    assert len(gcs_records(emu, "media_up", name)) == 1  # the watcher saw the same file and stayed quiet

    assert requests.delete(f"{emu.url}/_emu/gcs/media/{name}", timeout=10).status_code == 204
    assert not path.exists()
    wait_for(emu, "media_down", lambda _: len(gcs_records(emu, "media_down", name)) == 1)
    settle()
    assert len(gcs_records(emu, "media_down", name)) == 1


# -- the S3 API ---------------------------------------------------------------------------------


def test_boto3_round_trip_from_the_test(emu: EmuProcess) -> None:
    client = s3(emu)
    key = "api/a b+c.txt"
    put = client.put_object(Bucket="photos", Key=key, Body=b"hello s3", ContentType="text/plain", Metadata={"owner": "tests"})
    assert put["ETag"] == f'"{hashlib.md5(b"hello s3").hexdigest()}"'
    assert (bucket(emu, "photos") / "api" / "a b+c.txt").read_bytes() == b"hello s3"

    got = client.get_object(Bucket="photos", Key=key)
    assert got["Body"].read() == b"hello s3"
    assert got["ContentLength"] == 8 and got["ContentType"] == "text/plain"
    assert got["ETag"] == put["ETag"] and got["Metadata"] == {"owner": "tests"}
    assert got["LastModified"].tzinfo is not None
    assert client.head_object(Bucket="photos", Key=key)["ContentLength"] == 8
    assert client.get_object(Bucket="photos", Key=key, Range="bytes=6-")["Body"].read() == b"s3"

    listed = client.list_objects_v2(Bucket="photos", Prefix="api/")
    assert [o["Key"] for o in listed["Contents"]] == [key]
    assert listed["Contents"][0]["Size"] == 8 and listed["KeyCount"] == 1
    folders = client.list_objects_v2(Bucket="photos", Delimiter="/")
    assert {"Prefix": "api/"} in folders["CommonPrefixes"]
    pages = client.get_paginator("list_objects_v2").paginate(Bucket="photos", PaginationConfig={"PageSize": 1})
    every_key = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert every_key == sorted(every_key, key=str.encode) and key in every_key

    # The put was one ObjectCreated:Put, delivered by the API call itself and not again by the watcher.
    wait_for(emu, "every", lambda _: len(s3_records(emu, "every", "api/a+b%2Bc.txt")) == 1)
    client.delete_object(Bucket="photos", Key=key)
    assert not (bucket(emu, "photos") / "api").exists()
    wait_for(emu, "every", lambda _: len(s3_records(emu, "every", "api/a+b%2Bc.txt")) == 2)
    settle()
    assert [r["eventName"] for r in s3_records(emu, "every", "api/a+b%2Bc.txt")] == ["ObjectCreated:Put", "ObjectRemoved:Delete"]


def test_s3_errors_have_s3s_shape(emu: EmuProcess) -> None:
    client = s3(emu)
    with pytest.raises(ClientError) as missing:
        client.get_object(Bucket="photos", Key="no/such/key")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as no_bucket:
        client.list_objects_v2(Bucket="no-such-bucket")
    assert no_bucket.value.response["Error"]["Code"] == "NoSuchBucket"
    with pytest.raises(ClientError) as head:
        client.head_object(Bucket="photos", Key="no/such/key")
    assert head.value.response["Error"]["Code"] == "404"
    raw = requests.get(f"{emu.url}/photos/no-such-key", timeout=10)
    assert raw.status_code == 404 and raw.headers["Content-Type"] == "application/xml"
    assert "<Code>NoSuchKey</Code>" in raw.text and "<Key>no-such-key</Key>" in raw.text


def test_a_bucket_made_with_create_bucket_takes_objects(emu: EmuProcess) -> None:
    client = s3(emu)
    client.create_bucket(Bucket="outputs")
    assert (bucket(emu, "outputs")).is_dir()
    client.put_object(Bucket="outputs", Key="one.txt", Body=b"1")
    assert "outputs" in [b["Name"] for b in client.list_buckets()["Buckets"]]
    assert client.get_object(Bucket="outputs", Key="one.txt")["Body"].read() == b"1"


def test_boto3_inside_a_lambda_function_reaches_the_local_buckets(emu: EmuProcess) -> None:
    key = f"sdk/{uuid.uuid4()}.txt"
    response = emu.lambda_client().invoke(
        FunctionName="sdk", Payload=json.dumps({"bucket": "photos", "key": key, "body": "from inside"})
    )
    result = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, result
    assert result == {"endpoint": emu.url, "body": "from inside", "content_type": "text/plain", "keys": [key]}
    assert (bucket(emu, "photos") / key).read_text() == "from inside"


def test_a_bucket_named_like_a_gcp_function_leaves_plain_requests_to_the_function(emu: EmuProcess) -> None:
    # "media" is both a bucket and an HTTP function: an SDK call is S3's, a plain request the function's.
    plain = requests.get(f"{emu.url}/media/hello", timeout=10)
    assert plain.status_code == 200 and plain.json()["path"] == "/hello"
    listed = s3(emu).list_objects_v2(Bucket="media")
    assert listed["ResponseMetadata"]["HTTPStatusCode"] == 200 and listed["Name"] == "media"


# -- keys never leave their bucket ----------------------------------------------------------------


def raw_request(emu: EmuProcess, method: str, path: str, body: bytes = b"") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        connection.request(method, path, body=body)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize("key", ["../escaped.txt", "a/../../escaped.txt", "/escaped.txt", "a//b.txt", "nul\x00.txt", "."])
def test_keys_that_would_leave_the_bucket_are_refused(emu: EmuProcess, key: str) -> None:
    with pytest.raises(ClientError) as refused:
        s3(emu).put_object(Bucket="photos", Key=key, Body=b"x")
    assert refused.value.response["Error"]["Code"] == "InvalidArgument"
    assert raw_request(emu, "POST", f"/_emu/gcs/media/{quote(key, safe='')}", b"x") == 400
    assert not (emu.root / ".emu" / "escaped.txt").exists() and not (emu.root / "escaped.txt").exists()
    assert not (emu.root / ".emu" / "buckets" / "escaped.txt").exists()


def test_encoded_dot_segments_in_the_path_are_refused(emu: EmuProcess) -> None:
    assert raw_request(emu, "PUT", "/photos/%2E%2E/%2E%2E/escaped.txt", b"x") == 400
    assert raw_request(emu, "POST", "/_emu/gcs/media/%2E%2E%2F%2E%2E%2Fescaped.txt", b"x") == 400
    assert not (emu.root / ".emu" / "escaped.txt").exists()


# -- emu event without --to ------------------------------------------------------------------------


def test_posted_s3_events_reach_the_matching_functions(emu: EmuProcess) -> None:
    from emulator.events.samples import Origin, s3_event

    event = s3_event(Origin(), "put", "photos", "uploads/posted.jpg", size=5)
    response = requests.post(f"{emu.url}/_emu/events/aws/s3", json=event, timeout=10)
    assert response.status_code == 200
    assert sorted(response.json()["functions"]) == ["created", "every"]
    wait_for(emu, "created", lambda _: len(s3_records(emu, "created", "uploads/posted.jpg")) == 1)

    unfiltered = s3_event(Origin(), "put", "photos", "not-a-match.txt")
    assert requests.post(f"{emu.url}/_emu/events/aws/s3", json=unfiltered, timeout=10).json()["functions"] == ["every"]
    assert requests.post(f"{emu.url}/_emu/events/aws/s3", json={"not": "s3"}, timeout=10).status_code == 400
    assert requests.post(f"{emu.url}/_emu/events/aws/bogus", json={}, timeout=10).status_code == 404


def test_emu_event_s3_without_to_goes_to_the_subscribers(emu: EmuProcess) -> None:
    command = [sys.executable, "-m", "emulator", "event", "s3", "put", "--bucket", "photos", "--key", "uploads/from cli.jpg", "--url", emu.url]
    result = subprocess.run(command, cwd=emu.root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sent to created, every" in result.stderr
    record = wait_for_one(emu, lambda: s3_records(emu, "created", "uploads/from+cli.jpg"))
    assert record["eventName"] == "ObjectCreated:Put"


# -- the loop guard --------------------------------------------------------------------------------


def test_a_function_that_retriggers_itself_through_the_sdk_is_stopped_after_16(emu: EmuProcess) -> None:
    s3(emu).put_object(Bucket="loops", Key="loop/start.txt", Body=b"go")
    emu.wait_for_log("RECURSIVE LOOP STOPPED: looper", timeout=60)
    settle()
    found = records(emu, "looper")
    assert len(found) == 16
    roots = {r["trace"].split(";")[0] for r in found}
    assert len(roots) == 1  # one chain, carried by the trace header through each PutObject
    assert found[-1]["trace"].endswith(":16")
    log = emu.log()
    assert "s3://loops/loop/" in log and "invoked 16 times" in log


def test_a_function_that_retriggers_itself_through_the_folder_is_stopped_after_16(emu: EmuProcess) -> None:
    folder = bucket(emu, "dirloop") / "again"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "start.txt").write_text("go")
    emu.wait_for_log("RECURSIVE LOOP STOPPED: file_looper", timeout=60)
    settle()
    assert len(records(emu, "file_looper")) == 16


# -- following the config ------------------------------------------------------------------------

RELOADED = """
settings: {buckets_dir: data}
functions:
  first:
    runtime: python3.11
    handler: app.record
    code: ./fn
    environment: {EVENT_LOG: ../first.jsonl}
    events: [{s3: {bucket: early}}]
"""


def test_buckets_follow_a_config_reload(emu_server: Callable[..., EmuProcess]) -> None:
    emu = emu_server(RELOADED, {"fn": "s3_objects"})
    assert (emu.root / "data" / "early").is_dir() and not (emu.root / ".emu" / "buckets").exists()
    (emu.root / "emu.yaml").write_text(RELOADED + """
  second:
    runtime: python3.11
    handler: app.record
    code: ./fn
    environment: {EVENT_LOG: ../second.jsonl}
    events: [{s3: {bucket: later, suffix: .txt}}]
""")
    emu.wait_for_log("second: added")
    assert (emu.root / "data" / "later").is_dir()
    (emu.root / "data" / "later" / "new.txt").write_text("after the reload")
    wait_for(emu, "second", lambda found: len(found) == 1)

    # Dropping the trigger stops the deliveries; the folder and its files stay.
    (emu.root / "emu.yaml").write_text(RELOADED)
    emu.wait_for_log("second: removed")
    (emu.root / "data" / "early" / "still.txt").write_text("heard")
    wait_for(emu, "first", lambda found: len(found) == 1)
    assert (emu.root / "data" / "later" / "new.txt").exists()
