"""Validation shared by every config reader: raw values in, checked values out.

Owns the function schema (which emu keys exist, and which belong to one provider
only) and the checks both providers' rules are built from: typed values, ranges,
choices, the provider, the code directory and environment variables. The rules
themselves are ``aws_function`` and ``gcp_function``. Readers translate their own
spelling into the emu field names of ``FUNCTION_FIELDS`` and pass ``labels`` so
errors quote the key the user wrote.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.config.model import Provider
from emulator.errors import ConfigError

ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

SHARED_FIELDS = ("provider", "runtime", "code", "memory", "timeout", "environment")
# A key one provider has -> the key doing that job on the other, named in the error.
AWS_ONLY_FIELDS: Mapping[str, str | None] = {
    "handler": "entry_point",
    "reserved_concurrency": "max_instances",
    "provisioned_concurrency": "min_instances",
    "events": "trigger",
    "url": None,
}
GCP_ONLY_FIELDS: Mapping[str, str | None] = {
    "entry_point": "handler",
    "source": None,
    "signature": None,
    "generation": None,
    "concurrency": None,
    "min_instances": "provisioned_concurrency",
    "max_instances": "reserved_concurrency",
    "project": None,
    "trigger": "events",
}
FUNCTION_FIELDS = (
    "provider", "runtime", "handler", "code", "memory", "timeout",
    "reserved_concurrency", "provisioned_concurrency", "environment", "events", "url",
    *GCP_ONLY_FIELDS,
)
# How emu.yaml spells each field: exactly as FUNCTION_FIELDS.
EMU_LABELS: Mapping[str, str] = {name: name for name in FUNCTION_FIELDS}
PROVIDERS: tuple[Provider, ...] = ("aws", "gcp")
_FOREIGN_FIELDS: Mapping[Provider, Mapping[str, str | None]] = {"aws": GCP_ONLY_FIELDS, "gcp": AWS_ONLY_FIELDS}


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


def require_present(where: Where, fields: Mapping[str, Any], field: str, key: str | None = None) -> Any:
    """``fields[field]``, which must be present and not null; ``key`` is how the user spells it."""
    if fields.get(field) is None:
        raise where.error(key or field, "is required")
    return fields[field]


def require_string(where: Where, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise where.error(key, f"must be a non-empty string, got {describe(value)}")
    return value


def require_bool(where: Where, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise where.error(key, f"must be true or false, got {describe(value)}")
    return value


def require_int(
    where: Where, key: str, value: Any, low: int, high: int | None = None, *, context: str = ""
) -> int:
    """An int in [low, high]; ``context`` (e.g. " for a gen1 function") says why the range is what it is."""
    # bool is an int subclass in Python, but "memory: true" is a mistake, not 1 MB.
    if not isinstance(value, int) or isinstance(value, bool):
        raise where.error(key, f"must be an integer, got {describe(value)}")
    _check_range(where, key, value, low, high, context)
    return value


def require_number(
    where: Where, key: str, value: Any, low: float, high: float | None = None, *, context: str = ""
) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise where.error(key, f"must be a number, got {describe(value)}")
    _check_range(where, key, value, low, high, context)
    return float(value)


def require_choice(where: Where, key: str, value: Any, choices: Collection[Any]) -> Any:
    if value in choices and not isinstance(value, bool):
        return value
    hint = closest(value, [str(choice) for choice in choices]) if isinstance(value, str) else ""
    listed = ", ".join(str(choice) for choice in choices)
    raise where.error(key, f"must be one of {listed}; got {describe(value)}{hint}")


def require_runtime(where: Where, key: str, value: Any, runtimes: Collection[str]) -> str:
    if isinstance(value, str) and value in runtimes:
        return value
    hint = closest(value, runtimes) if isinstance(value, str) else ""
    raise where.error(key, f"unsupported runtime {describe(value)}{hint}; choose one of: {', '.join(sorted(runtimes))}")


def require_pattern(where: Where, key: str, value: Any, pattern: re.Pattern[str], rule: str) -> str:
    """A non-empty string matching ``pattern``; ``rule`` says the rule in words."""
    text = require_string(where, key, value)
    if not pattern.fullmatch(text):
        raise where.error(key, f"invalid {text!r}: {rule}")
    return text


def _check_range(where: Where, key: str, value: float, low: float, high: float | None, context: str) -> None:
    # Written as "not (in range)" so NaN fails too.
    if high is None and not low <= value:
        raise where.error(key, f"must be >= {low:g}{context}, got {value!r}")
    if high is not None and not low <= value <= high:
        raise where.error(key, f"must be between {low:g} and {high:g}{context}, got {value!r}")


def read_provider(where: Where, key: str, value: Any) -> Provider:
    if value in PROVIDERS:
        return value
    raise where.error(key, f"must be 'aws' or 'gcp', got {describe(value)}")


def reject_foreign_keys(
    where: Where, fields: Mapping[str, Any], provider: Provider, label: Callable[[str], str]
) -> None:
    """Refuse a key that only the other provider has, naming the key this one uses instead."""
    for field, counterpart in _FOREIGN_FIELDS[provider].items():
        if field in fields:
            only = "a GCP-only" if provider == "aws" else "an AWS-only"
            instead = f"; the {provider.upper()} key is {label(counterpart)}" if counterpart else ""
            raise where.error(label(field), f"is {only} key, but this function's provider is '{provider}'{instead}")


def code_dir(where: Where, key: str, value: Any, base_dir: Path) -> Path:
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
