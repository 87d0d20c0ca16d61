"""The rules for a Google Cloud Function (1st or 2nd gen) in emu.yaml.

Owns GCP's naming rules (function, project, Pub/Sub topic, Cloud Storage bucket),
the trigger forms, the source file and the per-generation limits (data in
``model.GCP_LIMITS``); the building blocks are the shared checks in ``validate``.

    trigger: http                                   the default
    trigger: {pubsub: TOPIC}
    trigger: {gcs: BUCKET, event: finalized}        event: finalized (default) | deleted
                                                           | archived | metadataUpdated
    trigger: {schedule: "*/5 * * * *", time_zone: Europe/Berlin, body: TEXT}

A scheduled function is an HTTP function that a Cloud Scheduler job with an HTTP target
calls: a POST of ``body`` (default none) at each time of the unix-cron ``schedule`` in
``time_zone`` (default Etc/UTC), as Google's guide for scheduling functions sets it up.
(The other pattern, a job publishing to a topic, is ``trigger: {pubsub: TOPIC}`` fed by
whatever publishes there.) So ``signature`` may not be ``cloudevent`` or ``event``.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from emulator.config.model import (
    DEFAULT_SCHEDULE_TIME_ZONE,
    GCP_DEFAULT_MEMORY_MB,
    GCP_DEFAULT_SOURCE,
    GCP_DEFAULT_TIMEOUT_S,
    GCP_LIMITS,
    GCP_PYTHON_RUNTIMES,
    SIGNATURES,
    STORAGE_EVENTS,
    FunctionSpec,
    GenerationLimits,
    TriggerSpec,
)
from emulator.config.schedule import ScheduleError, check_time_zone, parse_unix_cron
from emulator.config.validate import (
    Where,
    code_dir,
    describe,
    environment,
    reject_foreign_keys,
    reject_unknown_keys,
    require_choice,
    require_int,
    require_number,
    require_pattern,
    require_present,
    require_runtime,
    require_string,
)

# gcloud's 1st-gen rule. 2nd-gen functions are Cloud Run services and only take
# lowercase letters, digits and '-'; emu accepts the 1st-gen rule for both, so a
# function keeps its name (and its URL) when its generation changes.
FUNCTION_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?")
_FUNCTION_NAME_RULE = (
    "use 1-63 letters, digits, '-' or '_', starting with a letter and ending with a letter or digit"
)
# cloud.google.com/resource-manager/docs/creating-managing-projects (project ID).
PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_PROJECT_ID_RULE = "use 6-30 lowercase letters, digits or '-', starting with a letter and not ending with '-'"
# cloud.google.com/pubsub/docs/pubsub-basics#resource_names
TOPIC = re.compile(r"(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}")
_TOPIC_RULE = "use 3-255 of letters, digits and - _ . ~ + %, starting with a letter (not 'goog')"
# cloud.google.com/storage/docs/buckets#naming (the common, dot-free length limit).
BUCKET = re.compile(r"[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]")
_BUCKET_RULE = "use 3-63 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit"

_TRIGGER_FORMS = "'http', {pubsub: TOPIC}, {gcs: BUCKET, event: EVENT} or {schedule: CRON, time_zone: TZ}"
_TRIGGER_KINDS = ("pubsub", "gcs", "schedule")
_HTTP_TRIGGER = TriggerSpec(kind="http")


def build_gcp_function(where: Where, fields: Mapping[str, Any], base_dir: Path, default_project: str) -> FunctionSpec:
    """Check one GCP function's raw ``fields`` (absent means default) and build its spec."""
    name = where.function or ""
    if not FUNCTION_NAME.fullmatch(name):
        raise where.error(None, f"invalid function name: {_FUNCTION_NAME_RULE}")

    reject_foreign_keys(where, fields, "gcp", lambda field: field)
    runtime = require_runtime(where, "runtime", require_present(where, fields, "runtime"), GCP_PYTHON_RUNTIMES)
    code = code_dir(where, "code", require_present(where, fields, "code"), base_dir)
    signature = require_choice(where, "signature", fields["signature"], SIGNATURES) if "signature" in fields else None
    trigger = read_trigger(where, fields["trigger"]) if "trigger" in fields else _HTTP_TRIGGER
    if trigger.kind == "schedule" and signature in ("cloudevent", "event"):
        raise where.error(
            "signature", f"a scheduled function is an HTTP function (Cloud Scheduler POSTs to it), not {signature!r}"
        )

    generation = require_int(where, "generation", fields.get("generation", 2), 1, 2)
    limits = GCP_LIMITS[generation]
    min_instances = require_int(where, "min_instances", fields.get("min_instances", 0), 0)
    max_instances = require_int(where, "max_instances", fields.get("max_instances", 100), 1)
    if min_instances > max_instances:
        raise where.error("min_instances", f"must not exceed max_instances ({max_instances}), got {min_instances}")

    spec = FunctionSpec(
        name=name,
        provider="gcp",
        runtime=runtime,
        handler="",
        code=code,
        memory=_memory(where, fields.get("memory", GCP_DEFAULT_MEMORY_MB), generation, limits),
        environment=environment(where, "environment", fields.get("environment", {})),
        entry_point=_entry_point(where, fields, name),
        signature=signature,
        generation=generation,
        concurrency=_concurrency(where, fields.get("concurrency", 1), generation, limits),
        min_instances=min_instances,
        max_instances=max_instances,
        project=project_id(where, "project", fields["project"]) if "project" in fields else default_project,
        trigger=trigger,
        source=_source(where, fields, code),
    )
    # The timeout's range depends on whether the function is event-driven, a fact of the spec.
    timeout = _timeout(where, fields.get("timeout", GCP_DEFAULT_TIMEOUT_S), spec, limits)
    return dataclasses.replace(spec, timeout=timeout)


def project_id(where: Where, key: str, value: Any) -> str:
    return require_pattern(where, key, value, PROJECT_ID, _PROJECT_ID_RULE)


def read_trigger(where: Where, value: Any) -> TriggerSpec:
    """One of the trigger forms in this module's docstring."""
    if value == "http":
        return _HTTP_TRIGGER
    kinds = [kind for kind in _TRIGGER_KINDS if isinstance(value, Mapping) and kind in value]
    if not kinds:
        raise where.error("trigger", f"must be {_TRIGGER_FORMS}; got {describe(value)}")
    if len(kinds) > 1:
        raise where.error("trigger", f"give either {' or '.join(kinds)}, not both")
    if "pubsub" in value:
        reject_unknown_keys(where, value, ("pubsub",), section="trigger")
        topic = require_pattern(where, "trigger.pubsub", value["pubsub"], TOPIC, _TOPIC_RULE)
        return TriggerSpec(kind="pubsub", topic=topic)
    if "schedule" in value:
        return _schedule_trigger(where, value)
    reject_unknown_keys(where, value, ("gcs", "event"), section="trigger")
    bucket = require_pattern(where, "trigger.gcs", value["gcs"], BUCKET, _BUCKET_RULE)
    event = require_choice(where, "trigger.event", value.get("event", "finalized"), STORAGE_EVENTS)
    return TriggerSpec(kind="gcs", bucket=bucket, event=event)


def _schedule_trigger(where: Where, value: Mapping[str, Any]) -> TriggerSpec:
    reject_unknown_keys(where, value, ("schedule", "time_zone", "body"), section="trigger")
    key = "trigger.schedule"
    try:
        schedule = parse_unix_cron(require_string(where, key, value["schedule"]))
        key = "trigger.time_zone"
        time_zone = check_time_zone(require_string(where, key, value.get("time_zone", DEFAULT_SCHEDULE_TIME_ZONE)))
    except ScheduleError as exc:
        raise where.error(key, str(exc)) from None
    body = require_string(where, "trigger.body", value["body"]) if "body" in value else None
    return TriggerSpec(kind="schedule", schedule=schedule, time_zone=time_zone, body=body)


def _entry_point(where: Where, fields: Mapping[str, Any], name: str) -> str:
    # functions-framework looks the entry point up as an attribute of the source module.
    entry_point = require_string(where, "entry_point", fields["entry_point"]) if "entry_point" in fields else name
    if entry_point.isidentifier() and not keyword.iskeyword(entry_point):
        return entry_point
    if "entry_point" not in fields:
        raise where.error(
            "entry_point", f"defaults to the function name {name!r}, which is not a Python name; set entry_point"
        )
    raise where.error("entry_point", f"must be a Python function name, got {entry_point!r}")


def _source(where: Where, fields: Mapping[str, Any], code: Path) -> str:
    if "source" not in fields:
        if not (code / GCP_DEFAULT_SOURCE).is_file():
            raise where.error(
                "code", f"{str(code)!r} has no {GCP_DEFAULT_SOURCE}; add one or name the file with 'source'"
            )
        return GCP_DEFAULT_SOURCE
    source = require_string(where, "source", fields["source"])
    relative = PurePath(source)
    if relative.is_absolute() or ".." in relative.parts or relative.suffix != ".py":
        raise where.error("source", f"must be a .py file inside the code directory, got {source!r}")
    if not (code / relative).is_file():
        raise where.error("source", f"file {str(code / relative)!r} does not exist")
    return source


def _memory(where: Where, value: Any, generation: int, limits: GenerationLimits) -> int:
    memory = require_int(where, "memory", value, *limits.memory_mb, context=f" for a gen{generation} function")
    if limits.memory_choices is not None and memory not in limits.memory_choices:
        sizes = ", ".join(str(size) for size in limits.memory_choices)
        raise where.error("memory", f"must be one of {sizes} for a gen{generation} function, got {memory}")
    return memory


def _concurrency(where: Where, value: Any, generation: int, limits: GenerationLimits) -> int:
    low, high = limits.concurrency
    concurrency = require_int(where, "concurrency", value, low)
    if low == high and concurrency != high:
        raise where.error(
            "concurrency",
            f"must be {high} for a gen{generation} function, whose instances serve one request at a time "
            f"(generation: 2 allows up to {GCP_LIMITS[2].concurrency[1]}), got {concurrency}",
        )
    return require_int(where, "concurrency", concurrency, low, high, context=f" for a gen{generation} function")


def _timeout(where: Where, value: Any, spec: FunctionSpec, limits: GenerationLimits) -> float:
    if spec.is_event_driven:
        low, high = limits.event_timeout_s
        context = f" for an event-driven gen{spec.generation} function"
    else:
        low, high = limits.http_timeout_s
        context = f" for an HTTP gen{spec.generation} function"
    return require_number(where, "timeout", value, low, high, context=context)
