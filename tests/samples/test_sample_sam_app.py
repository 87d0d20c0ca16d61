"""samples/sam-app, a SAM project as ``sam init`` lays it out, served unchanged by ``emu up`` on its
template.yaml: the REST API route answers, and a file dropped into the template's bucket under
``incoming/`` invokes the S3-triggered function, whose summary the HTTP API route then lists."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import requests

from emulator.config.loader import find_config

pytestmark = pytest.mark.sample("sam-app/template.yaml")

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sam-app"
# BucketName: !Sub "${AWS::StackName}-uploads", and emu's stack is named "emu".
BUCKET_NAME = "emu-uploads"
SETTLE_S = 1.0


def test_emu_up_finds_the_template_with_no_emu_yaml():
    # What `emu up` in the folder reads: template.yaml, nothing emu-specific beside it.
    assert find_config(SAMPLE) == SAMPLE / "template.yaml"


def test_the_api_route_answers(emu):
    answer = requests.get(emu.url + "/hello", params={"name": "Ada"}, timeout=30)
    assert answer.status_code == 200
    # stage: Globals' STAGE: !Ref Stage, the parameter's default; path and method from the v1 event.
    assert answer.json() == {"message": "hello Ada", "stage": "dev", "path": "/hello", "method": "GET"}
    (record,) = emu.wait_for("HelloWorldFunction")
    assert record["trigger"] == "api"

    missing = requests.get(emu.url + "/goodbye", timeout=30)
    assert (missing.status_code, missing.json()) == (403, {"message": "Missing Authentication Token"})


def test_a_file_dropped_into_the_bucket_invokes_the_s3_function(emu, sample_dir):
    bucket = sample_dir / ".emu" / "buckets" / BUCKET_NAME
    name = f"{uuid.uuid4().hex[:8]}-notes.txt"
    summary_key = f"processed/{name}.json"
    (bucket / name).write_text("outside incoming/: the trigger's prefix filter leaves it alone\n")
    (bucket / "incoming").mkdir(parents=True, exist_ok=True)
    (bucket / "incoming" / name).write_text("one two three\nfour five\n")

    (record,) = emu.wait_for("ProcessUploadFunction", count=1, timeout=60)
    assert (record["trigger"], record["outcome"]) == ("s3", "ok"), emu.invocation(record["id"])["log"]
    counted = f"counted s3://{BUCKET_NAME}/incoming/{name}: 2 lines, 5 words -> {summary_key}"
    assert counted in emu.logs("ProcessUploadFunction")

    # The summary went through emu's S3 API into the same folder...
    summary = json.loads(emu.client("s3").get_object(Bucket=BUCKET_NAME, Key=summary_key)["Body"].read())
    assert summary["key"] == f"incoming/{name}"
    assert (summary["bytes"], summary["lines"], summary["words"]) == (24, 2, 5)
    assert (bucket / summary_key).is_file()

    # ...and the HTTP API route, reading the bucket named by UPLOAD_BUCKET: !Ref UploadBucket, lists it.
    listed = requests.get(emu.url + "/uploads", timeout=30).json()
    assert listed["bucket"] == BUCKET_NAME
    assert summary in listed["uploads"]

    # Neither the file outside incoming/ nor the summary under processed/ invoked anything.
    time.sleep(SETTLE_S)
    assert len(emu.invocations("ProcessUploadFunction")) == 1
