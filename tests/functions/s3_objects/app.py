"""S3-triggered handlers: each appends what it received to EVENT_LOG, so tests can read it.

``record`` only records. ``write_back`` also writes an object into the bucket that
triggered it (under the same trigger, so it triggers itself again: the loop guard's
test), through boto3 with no endpoint_url: AWS_ENDPOINT_URL_S3 leads it to emu.
``sdk_round_trip`` exercises the S3 API from inside a function.
"""

import json
import os
import uuid

import boto3

LOG = os.environ.get("EVENT_LOG", "events.jsonl")


def _append(record):
    with open(LOG, "a") as f:
        f.write(json.dumps(record) + "\n")


def record(event, context):
    _append({"event": event, "trace": os.environ.get("_X_AMZN_TRACE_ID")})
    return "ok"


def write_back(event, context):
    [rec] = event["Records"]
    _append({"event": event, "trace": os.environ.get("_X_AMZN_TRACE_ID")})
    bucket = rec["s3"]["bucket"]["name"]
    boto3.client("s3").put_object(Bucket=bucket, Key=f"{os.environ['WRITE_PREFIX']}{uuid.uuid4()}.txt", Body=b"again")
    return "wrote"


def sdk_round_trip(event, context):
    s3 = boto3.client("s3")
    bucket, key = event["bucket"], event["key"]
    s3.put_object(Bucket=bucket, Key=key, Body=event["body"].encode(), ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key=key)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key)
    return {
        "endpoint": s3.meta.endpoint_url,
        "body": got["Body"].read().decode(),
        "content_type": got["ContentType"],
        "keys": [o["Key"] for o in listed.get("Contents", [])],
    }


def write_file_back(event, context):
    """Writes straight into the bucket's folder, no SDK and so no trace header: the guess's test."""
    _append({"event": event, "trace": os.environ.get("_X_AMZN_TRACE_ID")})
    folder = os.path.join(os.environ["BUCKET_DIR"], os.environ["WRITE_PREFIX"])
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{uuid.uuid4()}.txt"), "wb") as f:
        f.write(b"again")
    return "wrote"
