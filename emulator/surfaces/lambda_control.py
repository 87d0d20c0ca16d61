"""Enough of the Lambda control plane for ``list-functions`` and ``get-function``.

The shapes follow the API reference's FunctionConfiguration, filled from config:
an SDK or IaC tool that lists functions sees what emu serves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from emulator import errors
from emulator.config.model import FunctionSpec
from emulator.execution.registry import Registry
from emulator.surfaces.asgi import JSON, Receive, Scope, Send, respond
from emulator.surfaces.lambda_invoke import parse_function_name
from emulator.wire import lambda_errors


class ControlSurface:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        request_id = os.urandom(16).hex()
        try:
            body = self._route(scope["method"], rest)
        except errors.InvokeError as exc:
            await respond(send, *lambda_errors.api_error(exc, request_id))
            return
        await respond(send, 200, [JSON, (b"x-amzn-requestid", request_id.encode())], json.dumps(body).encode())

    def _route(self, method: str, rest: str) -> dict[str, Any]:
        parts = [p for p in rest.split("/") if p]
        if method == "GET" and not parts:
            return {"Functions": [self.configuration(spec) for spec in self._specs()]}
        if method == "GET" and len(parts) in (1, 2):
            name, _ = parse_function_name(parts[0])
            spec = self.registry.project.functions.get(name)
            if spec is None or spec.provider != "aws":
                raise errors.FunctionNotFound(self.registry.arn(name))
            if len(parts) == 2 and parts[1] == "configuration":
                return self.configuration(spec)
            if len(parts) == 1:
                return self.function(spec)
        raise errors.UnsupportedRoute(f"emu does not model {method} /2015-03-31/functions/{rest}")

    def _specs(self) -> list[FunctionSpec]:
        return [s for s in self.registry.project.functions.values() if s.provider == "aws"]

    def function(self, spec: FunctionSpec) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Configuration": self.configuration(spec),
            "Code": {"RepositoryType": "S3", "Location": spec.code.as_uri()},
        }
        if spec.reserved_concurrency is not None:
            body["Concurrency"] = {"ReservedConcurrentExecutions": spec.reserved_concurrency}
        return body

    def configuration(self, spec: FunctionSpec) -> dict[str, Any]:
        settings = self.registry.project.settings
        size, digest, mtime = _code_facts(spec.code)
        return {
            "FunctionName": spec.name,
            "FunctionArn": self.registry.arn(spec.name),
            "Runtime": spec.runtime,
            "Role": f"arn:aws:iam::{settings.account_id}:role/emu-lambda-role",
            "Handler": spec.handler,
            "CodeSize": size,
            "CodeSha256": digest,
            "Description": "",
            "Timeout": int(spec.timeout),
            "MemorySize": spec.memory,
            "LastModified": time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(mtime)),
            "Version": "$LATEST",
            "Environment": {"Variables": dict(spec.environment)},
            "TracingConfig": {"Mode": "PassThrough"},
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": 512},
        }


def _code_facts(code: Path) -> tuple[int, str, float]:
    """Total size, a SHA-256 over the files, and the newest mtime of a code directory."""
    digest = hashlib.sha256()
    size = 0
    newest = 0.0
    for root, dirs, files in os.walk(code):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".git", "node_modules"))
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            size += st.st_size
            newest = max(newest, st.st_mtime)
            digest.update(f"{os.path.relpath(path, code)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return size, base64.b64encode(digest.digest()).decode(), newest
