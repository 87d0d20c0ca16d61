"""samples/thumbnails, served by ``emu up`` on its own emu.yaml: an image copied into a bucket's
``uploads/`` folder comes back as a 200×200 JPEG under ``thumbnails/``, on both clouds, and the
thumbnail does not set the function off again.

The images are made here with Pillow, in three colour bands along their long side, so the
thumbnail shows how it was made: a centre crop keeps only the middle band.

The first run builds both functions' virtualenvs (Pillow from PyPI) while emu serves, hence
the long first wait; later runs reuse them from emu's cache.
"""

from __future__ import annotations

import io
import shutil
import time
import uuid
from pathlib import Path
from typing import Callable

import pytest
from PIL import Image

# slow: the first run pip-installs Pillow into both functions' virtualenvs.
pytestmark = [pytest.mark.sample("thumbnails/emu.yaml"), pytest.mark.slow]

FIRST_RUN_S = 240.0  # two virtualenv builds with Pillow, the first time
SETTLE_S = 1.0  # long enough for a re-trigger, were there one
RED, GREEN, BLUE = (220, 30, 30), (30, 200, 30), (30, 30, 220)


def banded(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Three equal bands, red, green and blue, along the image's long side."""
    width, height = size
    image = Image.new(mode, size)
    for n, colour in enumerate((RED, GREEN, BLUE)):
        if width >= height:
            box = (n * width // 3, 0, (n + 1) * width // 3, height)
        else:
            box = (0, n * height // 3, width, (n + 1) * height // 3)
        image.paste(colour + ((255,) if mode == "RGBA" else ()), box)
    return image


def is_green(pixel: tuple[int, int, int]) -> bool:
    r, g, b = pixel
    return g > 150 and r < 90 and b < 90  # JPEG blurs colours a little, never that far


@pytest.fixture
def buckets(sample_dir: Path) -> Path:
    """The bucket folders: emu runs in the sample's folder, so they are in its .emu/buckets/."""
    return sample_dir / ".emu" / "buckets"


@pytest.fixture
def drop(tmp_path: Path, buckets: Path) -> Callable[[str, str, Image.Image, str], Path]:
    """``drop(bucket, key, image, format)``: save the image to a file and copy it into the bucket's
    folder, as a user drops a file in."""

    def copy_in(bucket: str, key: str, image: Image.Image, fmt: str) -> Path:
        source = tmp_path / Path(key).name
        image.save(source, fmt)
        target = buckets / bucket / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        return target

    return copy_in


def thumbnail_key(key: str) -> str:
    return "thumbnails/" + str(Path(key).relative_to("uploads").with_suffix(".jpg"))


def unique(name: str) -> str:
    return f"{uuid.uuid4().hex[:8]}-{name}"


def assert_thumbnail(data: bytes) -> None:
    """A 200×200 JPEG showing the middle (green) band: the image was centre-cropped, not squashed."""
    with Image.open(io.BytesIO(data)) as thumbnail:
        assert (thumbnail.format, thumbnail.size, thumbnail.mode) == ("JPEG", (200, 200), "RGB")
        for xy in ((100, 100), (5, 5), (194, 5), (5, 194), (194, 194)):
            assert is_green(thumbnail.getpixel(xy)), (xy, thumbnail.getpixel(xy))


# -- Lambda: S3 trigger on photos/uploads/, writes back through emu's S3 API -------------------------


def test_an_image_dropped_into_the_s3_bucket_gets_one_thumbnail(emu, drop, buckets):
    key = f"uploads/trips/{unique('beach day.png')}"  # a space: S3 sends it URL-encoded, as '+'
    drop("photos", key, banded((600, 200), "RGBA"), "PNG")

    (record,) = emu.wait_for("thumbnail", count=1, timeout=FIRST_RUN_S)
    assert (record["trigger"], record["outcome"]) == ("s3", "ok"), emu.invocation(record["id"])["log"]
    expected = thumbnail_key(key)
    assert f"thumbnail s3://photos/{expected} " in emu.logs("thumbnail")

    # What the function wrote through the S3 API is the file in the folder, and S3 serves it back.
    on_disk = (buckets / "photos" / expected).read_bytes()
    assert_thumbnail(on_disk)
    served = emu.client("s3").get_object(Bucket="photos", Key=expected)
    assert served["ContentType"] == "image/jpeg"
    assert served["Body"].read() == on_disk

    # The thumbnail is outside the trigger's uploads/ prefix: nothing more happens.
    time.sleep(SETTLE_S)
    assert len(emu.invocations("thumbnail")) == 1
    bucket = buckets / "photos"
    ours = sorted(str(p.relative_to(bucket)) for p in bucket.rglob(f"{Path(key).stem}*") if p.is_file())
    assert ours == [expected, key]


def test_a_put_object_that_is_not_an_image_is_skipped_without_retries(emu):
    s3 = emu.client("s3")
    key = f"uploads/{unique('notes.txt')}"
    s3.put_object(Bucket="photos", Key=key, Body=b"not a picture")
    (record,) = emu.wait_for("thumbnail", count=1, timeout=FIRST_RUN_S)
    assert record["outcome"] == "ok"  # an error would have Lambda retry the event twice
    time.sleep(SETTLE_S)
    assert len(emu.invocations("thumbnail")) == 1
    assert f"skipping s3://photos/{key}: not an image" in emu.logs("thumbnail")


# -- Cloud Functions: gcs trigger on gcs-photos, writes into the bucket's folder ----------------------


def test_an_image_dropped_into_the_gcs_bucket_gets_one_thumbnail(emu, drop, buckets):
    key = f"uploads/{unique('tower.jpg')}"
    drop("gcs-photos", key, banded((240, 720)), "JPEG")  # portrait: the middle band is cropped from the height

    # Cloud Storage triggers have no prefix filter: the function hears of its own thumbnail
    # too, and leaves it alone. Two invocations, one thumbnail.
    made, skipped = emu.wait_for("thumbnail-gcp", count=2, timeout=FIRST_RUN_S)
    assert [made["trigger"], made["outcome"], skipped["outcome"]] == ["gcs", "ok", "ok"]
    expected = thumbnail_key(key)
    log = emu.logs("thumbnail-gcp")
    assert f"thumbnail gs://gcs-photos/{expected} " in log
    assert f"skipping gs://gcs-photos/{expected}: not under uploads/" in log

    assert_thumbnail((buckets / "gcs-photos" / expected).read_bytes())
    time.sleep(SETTLE_S)
    assert len(emu.invocations("thumbnail-gcp")) == 2
    bucket = buckets / "gcs-photos"
    ours = sorted(str(p.relative_to(bucket)) for p in bucket.rglob(f"{Path(key).stem}*") if p.is_file())
    assert ours == [expected, key]  # the upload and its one thumbnail, no thumbnail of the thumbnail
