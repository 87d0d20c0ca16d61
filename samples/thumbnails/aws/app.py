"""Thumbnails on Lambda: an image put under ``uploads/`` becomes a 200×200 JPEG under ``thumbnails/``.

S3 invokes the function (asynchronously) for each object created under ``uploads/``:
the trigger's prefix filter keeps the thumbnails it writes from invoking it again.
It reads and writes the bucket with a plain ``boto3.client("s3")``: in the cloud that
is S3; under emu, ``AWS_ENDPOINT_URL_S3`` points it at emu's S3 API over the local
bucket folders. Pillow comes from requirements.txt; boto3 ships with Lambda's runtime.
"""

import io
from pathlib import PurePosixPath
from urllib.parse import unquote_plus

import boto3
from PIL import Image, ImageOps, UnidentifiedImageError

SIZE = (200, 200)
SOURCE_PREFIX = "uploads/"
TARGET_PREFIX = "thumbnails/"

s3 = boto3.client("s3")


def handler(event, context):
    made = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])  # S3 sends keys URL-encoded, spaces as '+'
        if not key.startswith(SOURCE_PREFIX):
            # The trigger's prefix filter already keeps these out; never thumbnail a thumbnail.
            print(f"skipping s3://{bucket}/{key}: not under {SOURCE_PREFIX}")
            continue
        original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            thumbnail = make_thumbnail(original)
        except UnidentifiedImageError:
            # Raising would only have Lambda retry the event twice, to the same end.
            print(f"skipping s3://{bucket}/{key}: not an image")
            continue
        target = thumbnail_key(key)
        s3.put_object(Bucket=bucket, Key=target, Body=thumbnail, ContentType="image/jpeg")
        print(f"thumbnail s3://{bucket}/{target} ({len(thumbnail)} bytes) from {key}")
        made.append(target)
    return {"thumbnails": made}


def thumbnail_key(key: str) -> str:
    """``uploads/trips/beach day.png`` -> ``thumbnails/trips/beach day.jpg``."""
    return TARGET_PREFIX + str(PurePosixPath(key[len(SOURCE_PREFIX):]).with_suffix(".jpg"))


def make_thumbnail(data: bytes) -> bytes:
    """A 200×200 JPEG: the image turned upright, scaled to cover 200×200 and centre-cropped."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    thumbnail = ImageOps.fit(upright, SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumbnail.save(out, "JPEG", quality=85)
    return out.getvalue()
