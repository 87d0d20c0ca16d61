"""The model's own logic: GCP defaults on the spec, event-driven-ness and limits as data."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from emulator.config.model import GCP_LIMITS, GCP_PYTHON_RUNTIMES, FunctionSpec, Settings, TriggerSpec


def spec(**overrides) -> FunctionSpec:
    fields = {"name": "web", "provider": "gcp", "runtime": "python311", "handler": "", "code": Path("/code")}
    return FunctionSpec(**{**fields, **overrides})


def test_aws_spec_keeps_its_shape():
    aws = spec(provider="aws", runtime="python3.12", handler="app.handler")
    assert (aws.entry_point, aws.trigger, aws.signature, aws.generation) == ("", None, None, 2)
    assert aws.arn(Settings()) == "arn:aws:lambda:us-east-1:123456789012:function:web"
    assert not aws.is_event_driven


def test_gcp_entry_point_defaults_to_the_name_and_survives_replace():
    web = spec()
    assert web.entry_point == "web"
    assert dataclasses.replace(web, memory=512).entry_point == "web"
    assert spec(entry_point="main").entry_point == "main"


@pytest.mark.parametrize(
    ("trigger", "signature", "expected"),
    [
        (None, None, False),
        (TriggerSpec(kind="http"), None, False),
        (TriggerSpec(kind="http"), "http", False),
        (TriggerSpec(kind="http"), "typed", False),
        (TriggerSpec(kind="http"), "cloudevent", True),
        (TriggerSpec(kind="http"), "event", True),
        (TriggerSpec(kind="pubsub", topic="t"), None, True),
        (TriggerSpec(kind="pubsub", topic="t"), "http", True),
        (TriggerSpec(kind="gcs", bucket="b", event="finalized"), None, True),
    ],
)
def test_is_event_driven(trigger, signature, expected):
    assert spec(trigger=trigger, signature=signature).is_event_driven is expected


def test_specs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec().trigger = TriggerSpec(kind="http")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        TriggerSpec(kind="http").kind = "gcs"  # type: ignore[misc]


def test_limits_table():
    assert GCP_LIMITS[1].memory_choices == (128, 256, 512, 1024, 2048, 4096, 8192)
    assert (GCP_LIMITS[1].http_timeout_s, GCP_LIMITS[1].concurrency) == ((1, 540), (1, 1))
    assert (GCP_LIMITS[2].memory_mb, GCP_LIMITS[2].memory_choices) == ((128, 32768), None)
    assert (GCP_LIMITS[2].http_timeout_s, GCP_LIMITS[2].event_timeout_s) == ((1, 3600), (1, 540))
    assert GCP_LIMITS[2].concurrency == (1, 1000)
    assert GCP_PYTHON_RUNTIMES == {f"python3{minor}" for minor in range(7, 14)}
