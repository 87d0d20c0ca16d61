"""Validation shared by every config reader: raw values in, checked model objects out.

Owns the rules a function must satisfy whichever file it came from (emu.yaml or a
SAM template): name, provider, runtime, handler, code directory, Lambda's limits and
environment variables. Readers translate their own spelling into the emu field names
of ``FUNCTION_FIELDS`` and pass ``labels`` so errors quote the key the user wrote.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.config.model import (
    LAMBDA_MEMORY_MB,
    LAMBDA_PYTHON_RUNTIMES,
    LAMBDA_RUNTIMES,
    LAMBDA_TIMEOUT_S,
    FunctionSpec,
    Provider,
)
from emulator.errors import ConfigError

# Lambda's FunctionName rule for a bare name (CreateFunction API reference).
FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

FUNCTION_FIELDS = (
    "provider", "runtime", "handler", "code", "memory", "timeout",
    "reserved_concurrency", "provisioned_concurrency", "environment",
)
# How emu.yaml spells each field: exactly as FUNCTION_FIELDS.
EMU_LABELS: Mapping[str, str] = {name: name for name in FUNCTION_FIELDS}


@dataclass(frozen=True, slots=True)
class Where:
    """The file and function a value came from, so every error can say so."""

    file: Path
    function: str | None = None

    def error(self, key: str | None, message: str) -> ConfigError:
        return ConfigError(self.file, message, function=self.function, key=key)


def describe(value: Any) -> str:
    """A value as YAML would show it, for 'got ...' in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def closest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' when a choice is close to ``word``, else ''."""
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{match[0]}'?)" if match else ""


def reject_unknown_keys(where: Where, mapping: Mapping[Any, Any], allowed: Iterable[str], section: str = "") -> None:
    allowed = list(allowed)
    for key in mapping:
        if key not in allowed:
            label = f"{section}.{key}" if section else str(key)
            hint = closest(str(key), allowed)
            raise where.error(label, f"unknown key{hint}; allowed keys: {', '.join(allowed)}")


def require_mapping(where: Where, key: str | None, value: Any) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise where.error(key, f"must be a mapping, got {describe(value)}")
    return value


def require_string(where: Where, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise where.error(key, f"must be a non-empty string, got {describe(value)}")
    return value


def require_int(where: Where, key: str, value: Any, low: int, high: int | None = None) -> int:
    # bool is an int subclass in Python, but "memory: true" is a mistake, not 1 MB.
    if not isinstance(value, int) or isinstance(value, bool):
        raise where.error(key, f"must be an integer, got {describe(value)}")
    _check_range(where, key, value, low, high)
    return value


def require_number(where: Where, key: str, value: Any, low: float, high: float | None = None) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise where.error(key, f"must be a number, got {describe(value)}")
    _check_range(where, key, value, low, high)
    return float(value)


def _check_range(where: Where, key: str, value: float, low: float, high: float | None) -> None:
    # Written as "not (in range)" so NaN fails too.
    if high is None and not low <= value:
        raise where.error(key, f"must be >= {low:g}, got {value!r}")
    if high is not None and not low <= value <= high:
        raise where.error(key, f"must be between {low:g} and {high:g}, got {value!r}")


def build_function(
    where: Where,
    fields: Mapping[str, Any],
    base_dir: Path,
    labels: Mapping[str, str] = EMU_LABELS,
) -> FunctionSpec:
    """Check one function's raw ``fields`` (emu names; absent means default) and build its spec."""
    name = where.function or ""
    if not FUNCTION_NAME.fullmatch(name):
        raise where.error(None, "invalid function name: use 1-64 letters, digits, '-' or '_'")

    def label(field: str) -> str:
        return labels[field]

    def required(field: str) -> Any:
        if fields.get(field) is None:
            raise where.error(label(field), "is required")
        return fields[field]

    provider = _provider(where, label("provider"), fields.get("provider", "aws"))
    runtime = _runtime(where, label("runtime"), required("runtime"))
    handler = ""
    if runtime in LAMBDA_PYTHON_RUNTIMES:
        handler = _python_handler(where, label("handler"), required("handler"))
    elif isinstance(fields.get("handler"), str):
        handler = fields["handler"]  # provided.* runtimes run ./bootstrap; the handler is just passed along
    code = _code_dir(where, label("code"), required("code"), base_dir)
    memory = require_int(where, label("memory"), fields.get("memory", 128), *LAMBDA_MEMORY_MB)
    timeout = require_number(where, label("timeout"), fields.get("timeout", 3), *LAMBDA_TIMEOUT_S)

    reserved = fields.get("reserved_concurrency")
    if reserved is not None:
        reserved = require_int(where, label("reserved_concurrency"), reserved, 0)
    provisioned = require_int(where, label("provisioned_concurrency"), fields.get("provisioned_concurrency", 0), 0)
    if reserved is not None and provisioned > reserved:
        raise where.error(
            label("provisioned_concurrency"),
            f"must not exceed {label('reserved_concurrency')} ({reserved}), got {provisioned}",
        )

    return FunctionSpec(
        name=name,
        provider=provider,
        runtime=runtime,
        handler=handler,
        code=code,
        memory=memory,
        timeout=timeout,
        reserved_concurrency=reserved,
        provisioned_concurrency=provisioned,
        environment=environment(where, label("environment"), fields.get("environment", {})),
    )


def _provider(where: Where, key: str, value: Any) -> Provider:
    if value == "aws":
        return "aws"
    if value == "gcp":
        raise where.error(key, "provider 'gcp' is not supported yet; only 'aws' is")
    raise where.error(key, f"must be 'aws', got {describe(value)}")


def _runtime(where: Where, key: str, value: Any) -> str:
    if isinstance(value, str) and value in LAMBDA_RUNTIMES:
        return value
    hint = closest(value, LAMBDA_RUNTIMES) if isinstance(value, str) else ""
    choices = ", ".join(sorted(LAMBDA_RUNTIMES))
    raise where.error(key, f"unsupported runtime {describe(value)}{hint}; choose one of: {choices}")


def _python_handler(where: Where, key: str, value: Any) -> str:
    handler = require_string(where, key, value)
    module, _, function = handler.rpartition(".")
    if not module or not function or any(char.isspace() for char in handler):
        raise where.error(key, f"must look like 'module.function' (e.g. app.handler), got {handler!r}")
    return handler


def _code_dir(where: Where, key: str, value: Any, base_dir: Path) -> Path:
    path = (base_dir / require_string(where, key, value)).resolve()
    if not path.exists():
        raise where.error(key, f"code directory {str(path)!r} does not exist")
    if not path.is_dir():
        raise where.error(key, f"{str(path)!r} is not a directory")
    return path


def environment(where: Where, key: str, value: Any) -> dict[str, str]:
    """Environment variables as strings, the only type a process environment holds."""
    variables = require_mapping(where, key, value)
    result: dict[str, str] = {}
    for name, raw in variables.items():
        if not isinstance(name, str):
            # YAML turns unquoted keys like ON, NO or 1 into booleans and numbers.
            raise where.error(key, f"variable name {describe(name)} is not a string; quote it")
        if not ENV_KEY.fullmatch(name):
            raise where.error(
                key, f"invalid variable name {name!r}: use letters, digits and '_', not starting with a digit"
            )
        result[name] = _env_text(where, f"{key}.{name}", raw)
    return result


def _env_text(where: Where, key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise where.error(key, f"must be a string, number or boolean, got {describe(value)}")
