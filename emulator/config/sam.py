"""The AWS SAM reader: a parsed template.yaml into the same ``Project`` emu.yaml makes.

Owns the mapping from SAM's ``AWS::Serverless::Function`` properties (and
``Globals.Function``) to emu's function fields. Intrinsics are evaluated by
``intrinsics.Intrinsics``; the checks themselves are ``aws_function.build_aws_function``,
shared with emu.yaml. ``Events`` become triggers in ``sam_events`` and
``FunctionUrlConfig`` a Function URL. Everything else in a template (Policies, other
resources, Outputs) is ignored.

Follows docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-function.html.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulator.config.aws_events import check_routes
from emulator.config.aws_function import build_aws_function
from emulator.config.intrinsics import FUNCTION_TYPE, NO_VALUE, IntrinsicError, Intrinsics
from emulator.config.model import AwsTrigger, Project, Settings
from emulator.config.sam_events import read_sam_events
from emulator.config.validate import Where, describe, require_mapping

# emu field -> the SAM property it comes from, so errors quote the template's key.
SAM_LABELS: Mapping[str, str] = {
    "provider": "provider",
    "runtime": "Runtime",
    "handler": "Handler",
    "code": "CodeUri",
    "memory": "MemorySize",
    "timeout": "Timeout",
    "reserved_concurrency": "ReservedConcurrentExecutions",
    "provisioned_concurrency": "ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions",
    "environment": "Environment.Variables",
    "url": "FunctionUrlConfig",
}
_SCALAR_PROPERTIES = {
    "runtime": "Runtime",
    "handler": "Handler",
    "memory": "MemorySize",
    "timeout": "Timeout",
    "reserved_concurrency": "ReservedConcurrentExecutions",
}
_NUMERIC_FIELDS = {"memory", "timeout", "reserved_concurrency", "provisioned_concurrency"}
# CloudFormation takes numbers as strings too ("256"); only plain decimals are converted.
_DECIMAL = re.compile(r"\s*-?\d+(\.\d+)?\s*")
_ABSENT: Any = object()


def is_sam_template(document: Any) -> bool:
    """Whether ``document`` is a SAM/CloudFormation template rather than an emu.yaml."""
    if not isinstance(document, Mapping):
        return False
    if "AWSTemplateFormatVersion" in document:
        return True
    transform = document.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    if any(isinstance(item, str) and "AWS::Serverless" in item for item in transforms):
        return True
    resources = document.get("Resources")
    return isinstance(resources, Mapping) and any(
        isinstance(resource, Mapping) and resource.get("Type") == FUNCTION_TYPE
        for resource in resources.values()
    )


def read_sam(path: Path, document: Any) -> Project:
    """Build a Project from every ``AWS::Serverless::Function`` in a SAM template."""
    where = Where(path)
    document = require_mapping(where, None, document)
    settings = Settings()
    try:
        intrinsics = Intrinsics(document, settings)
    except IntrinsicError as exc:
        raise where.error(None, str(exc)) from exc
    resources = require_mapping(where, "Resources", document.get("Resources") or {})
    defaults = _globals(where, document)

    specs = {}
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping) or resource.get("Type") != FUNCTION_TYPE:
            continue
        function = _FunctionReader(Where(path, str(logical_id)), intrinsics, resource, defaults)
        if function.is_created():
            specs[str(logical_id)] = build_aws_function(
                function.where, function.fields(), path.parent, SAM_LABELS, function.triggers()
            )
    if not specs:
        raise where.error("Resources", f"no {FUNCTION_TYPE} resources found")
    check_routes(where, specs, key="Events")
    return Project(path=path.resolve(), settings=settings, functions=specs)


def _globals(where: Where, document: Mapping[str, Any]) -> Mapping[str, Any]:
    sections = require_mapping(where, "Globals", document.get("Globals") or {})
    return require_mapping(where, "Globals.Function", sections.get("Function") or {})


class _FunctionReader:
    """One function resource: its properties over Globals, resolved into emu fields."""

    def __init__(self, where: Where, intrinsics: Intrinsics, resource: Mapping[str, Any], defaults: Mapping[str, Any]):
        self.where = where
        self._intrinsics = intrinsics
        self._resource = resource
        self._properties = require_mapping(where, "Properties", resource.get("Properties") or {})
        self._defaults = defaults

    def is_created(self) -> bool:
        """False when the resource's ``Condition`` is false: CloudFormation would skip it."""
        if "Condition" not in self._resource:
            return True
        try:
            return self._intrinsics.condition(self._resource["Condition"])
        except IntrinsicError as exc:
            raise self.where.error("Condition", str(exc)) from exc

    def fields(self) -> dict[str, Any]:
        self._reject_unsupported()
        fields: dict[str, Any] = {"code": self._code_uri()}
        for field, prop in _SCALAR_PROPERTIES.items():
            value = self._property(prop)
            if value is not _ABSENT:
                fields[field] = value
        provisioned = self._property("ProvisionedConcurrencyConfig")
        if provisioned is not _ABSENT:
            config = require_mapping(self.where, "ProvisionedConcurrencyConfig", provisioned)
            if "ProvisionedConcurrentExecutions" in config:
                fields["provisioned_concurrency"] = config["ProvisionedConcurrentExecutions"]
        fields["environment"] = {**self._variables(self._defaults), **self._variables(self._properties)}
        for field in _NUMERIC_FIELDS & fields.keys():
            fields[field] = _number(fields[field])
        url = self._property("FunctionUrlConfig")
        if url is not _ABSENT:
            require_mapping(self.where, "FunctionUrlConfig", url)
            fields["url"] = True
        return fields

    def triggers(self) -> tuple[AwsTrigger, ...]:
        """The function's own Events (Globals cannot hold them)."""
        return read_sam_events(self.where, self._properties.get("Events"), self._intrinsics)

    def _reject_unsupported(self) -> None:
        if self._property("PackageType") == "Image":
            raise self.where.error("PackageType", "container image functions are not supported; use CodeUri")
        if self._property("InlineCode") is not _ABSENT:
            raise self.where.error("InlineCode", "inline code is not supported; put it in a directory and use CodeUri")

    def _code_uri(self) -> Any:
        code = self._property("CodeUri")
        if code is _ABSENT:
            return "."  # SAM's default: the template's own directory
        if isinstance(code, Mapping) or (isinstance(code, str) and code.startswith("s3://")):
            raise self.where.error("CodeUri", f"only a local directory is supported, got {describe(code)}")
        return code

    def _property(self, name: str) -> Any:
        """The resolved property, the function's own value winning over Globals."""
        for source in (self._properties, self._defaults):
            if name in source:
                value = self._resolve(name, source[name])
                # AWS::NoValue on the function removes the property; Globals are not consulted.
                return _ABSENT if value is NO_VALUE else value
        return _ABSENT

    def _variables(self, source: Mapping[str, Any]) -> dict[Any, Any]:
        if "Environment" not in source:
            return {}
        environment = self._resolve("Environment", source["Environment"])
        if environment is NO_VALUE:
            return {}
        environment = require_mapping(self.where, "Environment", environment)
        variables = environment.get("Variables") or {}
        return dict(require_mapping(self.where, "Environment.Variables", variables))

    def _resolve(self, key: str, value: Any) -> Any:
        try:
            return self._intrinsics.resolve(value)
        except IntrinsicError as exc:
            raise self.where.error(key, str(exc)) from exc


def _number(value: Any) -> Any:
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return float(value) if "." in value else int(value)
    return value
