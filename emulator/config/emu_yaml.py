"""The emu.yaml reader: a parsed document into a ``Project``.

Owns emu.yaml's schema (which keys exist where), the choice of rules by
``provider`` and the ``settings:`` rules. The per-function rules live in
``aws_function`` (shared with the SAM reader) and ``gcp_function``.

    settings:   {region, account_id, idle_ttl, env_file, async_retry_delays,     optional
                 project, gcp_region, queue_timeout, buckets_dir,
                 schedule_speedup, sqs_visibility_timeout, cache_dir, state_dir}
    functions:  {<name>: {provider: aws (default),
                          runtime, handler, code, memory, timeout,
                          reserved_concurrency, provisioned_concurrency, environment,
                          events, url}}                   events: see aws_events
                {<name>: {provider: gcp,
                          runtime, entry_point, code, source, signature, generation, memory,
                          timeout, concurrency, min_instances, max_instances, environment,
                          project, trigger}}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from emulator.config.aws_events import check_routes, read_events
from emulator.config.aws_function import build_aws_function
from emulator.config.gcp_function import build_gcp_function, project_id
from emulator.config.model import FunctionSpec, Project, Settings
from emulator.config.validate import (
    FUNCTION_FIELDS,
    Where,
    describe,
    read_provider,
    reject_unknown_keys,
    require_mapping,
    require_number,
    require_string,
)

TOP_LEVEL_KEYS = ("settings", "functions")
SETTINGS_KEYS = (
    "region", "account_id", "idle_ttl", "env_file", "async_retry_delays", "project", "gcp_region", "queue_timeout",
    "buckets_dir", "schedule_speedup", "sqs_visibility_timeout", "cache_dir", "state_dir",
)

ACCOUNT_ID = re.compile(r"\d{12}")
# Loose on purpose: new regions appear often; this only catches typos like "us east 1".
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
GCP_REGION = re.compile(r"[a-z]+-[a-z]+\d+")


def read_emu_yaml(path: Path, document: Any) -> Project:
    """Build a Project from an emu.yaml ``document`` that was read from ``path``."""
    where = Where(path)
    if document is None:
        raise where.error(None, "file is empty; expected 'functions:'")
    document = require_mapping(where, None, document)
    reject_unknown_keys(where, document, TOP_LEVEL_KEYS)

    raw_settings = document.get("settings")
    settings = read_settings(where, {} if raw_settings is None else raw_settings, path.parent)
    functions = document.get("functions")
    if functions is None or functions == {}:
        raise where.error("functions", "at least one function is required")
    functions = require_mapping(where, "functions", functions)

    specs = {}
    for name, body in functions.items():
        if not isinstance(name, str):
            raise where.error("functions", f"function names must be strings, got {describe(name)}; quote it")
        specs[name] = _function(Where(path, name), body, path.parent, settings)
    check_routes(where, specs)
    project = Project(path=path.resolve(), settings=settings, functions=specs)
    check_buckets_dir(where, project.buckets_dir, specs)
    check_state_dir(where, settings.state_dir, specs)
    return project


def _function(where: Where, body: Any, base_dir: Path, settings: Settings) -> FunctionSpec:
    body = require_mapping(where, None, body)
    reject_unknown_keys(where, body, FUNCTION_FIELDS)
    if read_provider(where, "provider", body.get("provider", "aws")) == "gcp":
        return build_gcp_function(where, body, base_dir, settings.project)
    return build_aws_function(where, body, base_dir, triggers=read_events(where, body.get("events")))


def read_settings(where: Where, raw: Any, base_dir: Path) -> Settings:
    raw = require_mapping(where, "settings", raw)
    reject_unknown_keys(where, raw, SETTINGS_KEYS, section="settings")
    values: dict[str, Any] = {}

    if "region" in raw:
        region = require_string(where, "settings.region", raw["region"])
        if not REGION.fullmatch(region):
            raise where.error("settings.region", f"{region!r} does not look like an AWS region (e.g. us-east-1)")
        values["region"] = region
    if "account_id" in raw:
        values["account_id"] = _account_id(where, raw["account_id"])
    if "idle_ttl" in raw:
        values["idle_ttl"] = require_number(where, "settings.idle_ttl", raw["idle_ttl"], 0)
    if "env_file" in raw:
        values["env_file"] = _env_file(where, raw["env_file"], base_dir)
    if "async_retry_delays" in raw:
        values["async_retry_delays"] = _retry_delays(where, raw["async_retry_delays"])
    if "project" in raw:
        values["project"] = project_id(where, "settings.project", raw["project"])
    if "gcp_region" in raw:
        region = require_string(where, "settings.gcp_region", raw["gcp_region"])
        if not GCP_REGION.fullmatch(region):
            raise where.error("settings.gcp_region", f"{region!r} does not look like a GCP region (e.g. us-central1)")
        values["gcp_region"] = region
    if "queue_timeout" in raw:
        values["queue_timeout"] = require_number(where, "settings.queue_timeout", raw["queue_timeout"], 0)
    if "buckets_dir" in raw:
        values["buckets_dir"] = _buckets_dir(where, raw["buckets_dir"], base_dir)
    if "schedule_speedup" in raw:
        # Capped: at 3600 a minutely schedule already fires 60 times a second.
        values["schedule_speedup"] = require_number(where, "settings.schedule_speedup", raw["schedule_speedup"], 1, 3600)
    if "sqs_visibility_timeout" in raw:
        values["sqs_visibility_timeout"] = require_number(
            where, "settings.sqs_visibility_timeout", raw["sqs_visibility_timeout"], 0, 43200
        )
    if "cache_dir" in raw:
        values["cache_dir"] = _cache_dir(where, raw["cache_dir"], base_dir)
    if "state_dir" in raw:
        values["state_dir"] = _state_dir(where, raw["state_dir"], base_dir)
    return Settings(**values)


def _account_id(where: Where, value: Any) -> str:
    # An unquoted 12-digit id parses as an int; accept it, since no digits were lost.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not ACCOUNT_ID.fullmatch(value):
        raise where.error("settings.account_id", f"must be 12 digits in quotes, got {describe(value)}")
    return value


def _env_file(where: Where, value: Any, base_dir: Path) -> Path:
    path = (base_dir / require_string(where, "settings.env_file", value)).resolve()
    if not path.is_file():
        raise where.error("settings.env_file", f"file {str(path)!r} does not exist")
    return path


def _buckets_dir(where: Where, value: Any, base_dir: Path) -> Path:
    path = (base_dir / require_string(where, "settings.buckets_dir", value)).resolve()
    if path.exists() and not path.is_dir():
        raise where.error("settings.buckets_dir", f"{str(path)!r} is not a directory")
    # Every folder in it is a bucket: the project's own folders must not become buckets.
    if path == base_dir.resolve() or path in base_dir.resolve().parents:
        raise where.error("settings.buckets_dir", f"{str(path)!r} holds the config file; give it a folder of its own, e.g. buckets")
    return path


def _cache_dir(where: Where, value: Any, base_dir: Path) -> Path:
    path = (base_dir / Path(require_string(where, "settings.cache_dir", value)).expanduser()).resolve()
    if path.exists() and not path.is_dir():
        raise where.error("settings.cache_dir", f"{str(path)!r} is not a directory")
    return path


def _state_dir(where: Where, value: Any, base_dir: Path) -> Path:
    path = (base_dir / Path(require_string(where, "settings.state_dir", value)).expanduser()).resolve()
    if path.exists() and not path.is_dir():
        raise where.error("settings.state_dir", f"{str(path)!r} is not a directory")
    return path


def check_state_dir(where: Where, state_dir: Path | None, functions: Mapping[str, FunctionSpec]) -> None:
    """A state folder of one's own may not be in a function's code: every record written would be a reload.

    The default, ``.emu``, is a name the reloader ignores wherever it is.
    """
    if state_dir is None:
        return
    for spec in functions.values():
        if spec.code == state_dir or spec.code in state_dir.parents:
            raise where.error("settings.state_dir", f"{str(state_dir)!r} is in function '{spec.name}''s code; put it outside, or use the default .emu")


def check_buckets_dir(where: Where, buckets_dir: Path, functions: Mapping[str, FunctionSpec]) -> None:
    """No function's code may live in the buckets folder: its files would be objects, and every write a reload."""
    for spec in functions.values():
        if spec.code == buckets_dir or buckets_dir in spec.code.parents:
            raise where.error("settings.buckets_dir", f"function '{spec.name}' has its code in {str(buckets_dir)!r}; give buckets a folder of their own")


def _retry_delays(where: Where, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise where.error("settings.async_retry_delays", f"must be a list of seconds, got {describe(value)}")
    return tuple(
        require_number(where, f"settings.async_retry_delays[{index}]", delay, 0)
        for index, delay in enumerate(value)
    )
