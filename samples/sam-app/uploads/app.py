import json
import os

import boto3

s3 = boto3.client("s3")
BUCKET = os.environ["UPLOAD_BUCKET"]
SUMMARIES = "processed/"


def lambda_handler(event, context):
    """GET /uploads (an HTTP API route, payload 2.0): every summary ProcessUploadFunction wrote."""
    uploads = []
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=SUMMARIES)
    for page in pages:
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            uploads.append(json.loads(body))
    # HTTP APIs take a bare dict as a 200 JSON body.
    return {"bucket": BUCKET, "uploads": sorted(uploads, key=lambda u: u["key"])}
