"""samples/emu.yaml, the tour ``make up`` serves: every function answers as its README says,
reusing the sample projects' code folders (the GCP thumbnail finds the tour's own buckets)."""

from __future__ import annotations

import io
import json
import uuid

import pytest
import requests
from PIL import Image

# slow: the tour's thumbnail functions pip-install Pillow on a first run.
pytestmark = [pytest.mark.sample("emu.yaml"), pytest.mark.slow]
FIRST_RUN_S = 240.0  # the thumbnail functions' virtualenvs, if no earlier run built them


def test_the_tour_serves_each_sample(emu):
    assert set(emu.functions()) == {"hello", "hello-gcp", "greeter", "orders", "thumbnail", "thumbnail-gcp"}
    assert requests.get(emu.url + "/hello", params={"name": "Ada"}, timeout=30).json()["message"] == "Hello, Ada!"
    assert emu.http("hello-gcp").get("/", params={"name": "Ada"}).json()["message"] == "Hello, Ada!"
    greeting = emu.invoke("greeter", {"name": "Ada"}).raise_for_error()
    assert greeting.payload == {"greeting": "Hi Ada, from a custom runtime"}

    (message_id,) = emu.publish("orders", json.dumps({"table": 4, "items": {"pizza": 2}}))
    emu.wait_for("orders", count=1)
    assert f"ticket {message_id}: table 4: 2 x pizza" in emu.logs("orders")


def test_the_tour_makes_thumbnails_in_its_own_buckets(emu, sample_dir):
    buckets = sample_dir / ".emu" / "buckets"
    name = uuid.uuid4().hex[:8]
    image = io.BytesIO()
    Image.new("RGB", (300, 200), (30, 200, 30)).save(image, "PNG")
    for bucket in ("photos", "gcs-photos"):
        upload = buckets / bucket / "uploads" / f"{name}.png"
        upload.parent.mkdir(parents=True, exist_ok=True)
        upload.write_bytes(image.getvalue())
    emu.wait_for("thumbnail", count=1, timeout=FIRST_RUN_S)
    emu.wait_for("thumbnail-gcp", count=2, timeout=FIRST_RUN_S)  # its upload, then its own thumbnail
    for bucket in ("photos", "gcs-photos"):
        with Image.open(buckets / bucket / "thumbnails" / f"{name}.jpg") as thumbnail:
            assert (thumbnail.format, thumbnail.size) == ("JPEG", (200, 200))
