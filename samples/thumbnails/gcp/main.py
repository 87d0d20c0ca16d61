"""Thumbnails on Cloud Functions: an image finalized under ``uploads/`` becomes a 200×200 JPEG under ``thumbnails/``.

Cloud Storage sends a ``google.cloud.storage.object.v1.finalized`` CloudEvent for every
object written to the bucket, this function's own thumbnails included (its triggers have
no prefix filter), so the function itself ignores everything outside ``uploads/``.

emu has no Cloud Storage API yet: the function reads and writes the bucket's local
folder, ``$BUCKETS_DIR/<bucket>/`` (``BUCKETS_DIR`` is set in emu.yaml, relative to this
folder). Deployed, these two file operations would be ``google-cloud-storage`` calls.
"""

import io
import os
from pathlib import Path, PurePosixPath

import functions_framework
from PIL import Image, ImageOps, UnidentifiedImageError

SIZE = (200, 200)
SOURCE_PREFIX = "uploads/"
TARGET_PREFIX = "thumbnails/"
BUCKETS_DIR = Path(os.environ.get("BUCKETS_DIR", "../.emu/buckets"))


@functions_framework.cloud_event
def make_thumbnail(cloud_event):
    bucket, name = cloud_event.data["bucket"], cloud_event.data["name"]
    if not name.startswith(SOURCE_PREFIX):
        print(f"skipping gs://{bucket}/{name}: not under {SOURCE_PREFIX}")
        return
    original = (BUCKETS_DIR / bucket / name).read_bytes()
    try:
        thumbnail = thumbnail_of(original)
    except UnidentifiedImageError:
        # An exception would make the event be retried, to the same end.
        print(f"skipping gs://{bucket}/{name}: not an image")
        return
    target = thumbnail_name(name)
    path = BUCKETS_DIR / bucket / target
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(thumbnail)
    print(f"thumbnail gs://{bucket}/{target} ({len(thumbnail)} bytes) from {name}")


def thumbnail_name(name: str) -> str:
    """``uploads/trips/beach day.png`` -> ``thumbnails/trips/beach day.jpg``."""
    return TARGET_PREFIX + str(PurePosixPath(name[len(SOURCE_PREFIX):]).with_suffix(".jpg"))


def thumbnail_of(data: bytes) -> bytes:
    """A 200×200 JPEG: the image turned upright, scaled to cover 200×200 and centre-cropped."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    thumbnail = ImageOps.fit(upright, SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumbnail.save(out, "JPEG", quality=85)
    return out.getvalue()
