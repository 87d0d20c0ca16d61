"""The rules for an AWS Lambda function, whichever file it came from (emu.yaml or SAM).

Owns Lambda's name, runtime, handler and concurrency rules and its limits (from
``model``); the building blocks are the shared checks in ``validate``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulator.config.model import (
    LAMBDA_MEMORY_MB,
    LAMBDA_PYTHON_RUNTIMES,
    LAMBDA_RUNTIMES,
    LAMBDA_TIMEOUT_S,
    AwsTrigger,
    FunctionSpec,
)
from emulator.config.validate import (
    EMU_LABELS,
    Where,
    code_dir,
    environment,
    reject_foreign_keys,
    require_bool,
    require_int,
    require_number,
    require_present,
    require_runtime,
    require_string,
)

# Lambda's FunctionName rule for a bare name (CreateFunction API reference).
FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def build_aws_function(
    where: Where,
    fields: Mapping[str, Any],
    base_dir: Path,
    labels: Mapping[str, str] = EMU_LABELS,
    triggers: tuple[AwsTrigger, ...] = (),
) -> FunctionSpec:
    """Check one Lambda function's raw ``fields`` (emu names; absent means default) and build its spec.

    ``triggers`` are already built by the reader, which knows its own event syntax
    (``aws_events`` for emu.yaml, ``sam_events`` for SAM); ``fields`` never hold them.
    """
    name = where.function or ""
    if not FUNCTION_NAME.fullmatch(name):
        raise where.error(None, "invalid function name: use 1-64 letters, digits, '-' or '_'")

    def label(field: str) -> str:
        return labels.get(field, field)

    def required(field: str) -> Any:
        return require_present(where, fields, field, label(field))

    reject_foreign_keys(where, fields, "aws", label)
    runtime = require_runtime(where, label("runtime"), required("runtime"), LAMBDA_RUNTIMES)
    handler = ""
    if runtime in LAMBDA_PYTHON_RUNTIMES:
        handler = _python_handler(where, label("handler"), required("handler"))
    elif isinstance(fields.get("handler"), str):
        handler = fields["handler"]  # provided.* runtimes run ./bootstrap; the handler is just passed along
    code = code_dir(where, label("code"), required("code"), base_dir)
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
        provider="aws",
        runtime=runtime,
        handler=handler,
        code=code,
        memory=memory,
        timeout=timeout,
        reserved_concurrency=reserved,
        provisioned_concurrency=provisioned,
        environment=environment(where, label("environment"), fields.get("environment", {})),
        events=triggers,
        url=require_bool(where, label("url"), fields.get("url", False)),
    )


def _python_handler(where: Where, key: str, value: Any) -> str:
    handler = require_string(where, key, value)
    module, _, function = handler.rpartition(".")
    if not module or not function or any(char.isspace() for char in handler):
        raise where.error(key, f"must look like 'module.function' (e.g. app.handler), got {handler!r}")
    return handler
