import json
import os
from urllib.parse import unquote_plus

import boto3

s3 = boto3.client("s3")
SUMMARY_PREFIX = os.environ["SUMMARY_PREFIX"]


def lambda_handler(event, context):
    """Invoked by S3 for each object created under incoming/: counts its lines, words and bytes
    and writes the summary as JSON to processed/<name>.json (outside incoming/, so it invokes nothing)."""
    summaries = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        text = body.decode("utf-8", errors="replace")
        summary = {
            "key": key,
            "bytes": len(body),
            "lines": len(text.splitlines()),
            "words": len(text.split()),
            "etag": record["s3"]["object"].get("eTag"),
        }
        target = SUMMARY_PREFIX + key.split("/", 1)[-1] + ".json"
        s3.put_object(Bucket=bucket, Key=target, Body=json.dumps(summary).encode(), ContentType="application/json")
        print(f"counted s3://{bucket}/{key}: {summary['lines']} lines, {summary['words']} words -> {target}")
        summaries.append(summary)
    return {"summaries": summaries}
