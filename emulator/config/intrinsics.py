"""CloudFormation intrinsic functions, evaluated as far as a local run allows.

Owns ``Intrinsics``: given a template, it resolves ``Ref``, ``Fn::Sub``, ``Fn::If`` and
friends inside one value, and evaluates ``Conditions``. The SAM reader uses it only on
the function properties it needs, so an odd intrinsic in a property (or event type) emu does
not model never stops a load.

What has no local value becomes a readable stand-in instead of an error:

    Ref <Parameter> with no Default     the parameter's name
    Ref <Bucket>                        the bucket's name: its BucketName, else the logical id in
                                        lower case, the folder ``sam_events`` gives its S3 events
    Ref <Resource> otherwise            the logical id (a function's name in emu is its logical id)
    Fn::GetAtt <Function>.Arn           the function's ARN in the configured region and account
    Fn::GetAtt <Bucket>.Arn             arn:aws:s3:::<the bucket's name>
    Fn::GetAtt <Res>.<Attr> otherwise   the string "Res.Attr"
    ${Res.Attr} in Fn::Sub, unknown     left as "${Res.Attr}"
    Fn::ImportValue <name>              the export name
    Fn::GetAZs                          ["<region>a", "<region>b", "<region>c"]
    Fn::Transform                       left untouched (macros run inside CloudFormation)

Pseudo parameters follow docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html.
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import re
from collections.abc import Callable, Mapping
from typing import Any

from emulator.config.model import Settings

FUNCTION_TYPE = "AWS::Serverless::Function"
BUCKET_TYPE = "AWS::S3::Bucket"
STACK_NAME = "emu"


class _NoValue:
    """``Ref: AWS::NoValue``: the enclosing key or list item disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


class IntrinsicError(Exception):
    """An intrinsic that CloudFormation itself would reject; the caller adds file and key."""


def text(value: Any) -> str:
    """A resolved scalar as CloudFormation renders it inside strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list):
        return ",".join(text(item) for item in value)
    raise IntrinsicError(f"expected a string, got {type(value).__name__} {value!r}")


class Intrinsics:
    """Resolves intrinsic functions against one template's Parameters, Conditions and Mappings."""

    def __init__(self, template: Mapping[str, Any], settings: Settings):
        self._settings = settings
        self._resources = _section(template, "Resources")
        self._conditions = _section(template, "Conditions")
        self._mappings = _section(template, "Mappings")
        self._parameters = {
            name: _parameter_value(name, declaration)
            for name, declaration in _section(template, "Parameters").items()
        }
        self._pseudo: dict[str, Any] = {
            "AWS::Region": settings.region,
            "AWS::AccountId": settings.account_id,
            "AWS::StackName": STACK_NAME,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{settings.region}:{settings.account_id}"
                f":stack/{STACK_NAME}/00000000-0000-0000-0000-000000000000"
            ),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self._known_conditions: dict[str, bool] = {}
        self._evaluating: set[str] = set()
        self._naming: set[str] = set()  # buckets whose BucketName is being resolved
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::Equals": self._truth_of("Fn::Equals"),
            "Fn::Not": self._truth_of("Fn::Not"),
            "Fn::And": self._truth_of("Fn::And"),
            "Fn::Or": self._truth_of("Fn::Or"),
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda arg: base64.b64encode(text(self.resolve(arg)).encode()).decode(),
            "Fn::GetAZs": self._get_azs,
            "Fn::ImportValue": lambda arg: text(self.resolve(arg)),
            "Fn::Cidr": self._cidr,
        }

    def resource(self, logical_id: str) -> Mapping[str, Any] | None:
        """The template's declaration of ``logical_id``, if it declares one."""
        declaration = self._resources.get(logical_id)
        return declaration if isinstance(declaration, Mapping) else None

    # -- values ---------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic evaluated; may be ``NO_VALUE`` itself."""
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        name = _intrinsic_name(value)
        if name is None:
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        function = self._functions.get(name)
        return value if function is None else function(value[name])

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise IntrinsicError(f"Ref takes a name, got {name!r}")
        if name in self._parameters:
            return self._parameters[name]
        if name in self._pseudo:
            return self._pseudo[name]
        bucket = self.bucket_name(name)
        if bucket is not None:
            return bucket
        return name  # a resource's logical id, or an unknown name kept as-is

    def bucket_name(self, logical_id: str) -> str | None:
        """The name of the ``AWS::S3::Bucket`` declared as ``logical_id``; None if it is not one.

        CloudFormation would generate a name for a bucket without ``BucketName``; no
        local run can know it, so it is the logical id in lower case (bucket names are).
        """
        declaration = self.resource(logical_id)
        if declaration is None or declaration.get("Type") != BUCKET_TYPE:
            return None
        properties = declaration.get("Properties")
        if isinstance(properties, Mapping) and "BucketName" in properties:
            if logical_id in self._naming:
                raise IntrinsicError(f"{logical_id}.BucketName refers to itself")
            self._naming.add(logical_id)
            try:
                value = self.resolve(properties["BucketName"])
            finally:
                self._naming.discard(logical_id)
            if value is not NO_VALUE:
                return text(value)
        return logical_id.lower()

    def _get_att(self, arg: Any) -> str:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        arg = self.resolve(arg)
        if not isinstance(arg, list) or len(arg) != 2:
            raise IntrinsicError(f"Fn::GetAtt takes [resource, attribute], got {arg!r}")
        resource, attribute = (text(part) for part in arg)
        return self._attribute(resource, attribute) or f"{resource}.{attribute}"

    def _attribute(self, resource: str, attribute: str) -> str | None:
        declaration = self._resources.get(resource)
        if isinstance(declaration, Mapping) and declaration.get("Type") == FUNCTION_TYPE and attribute == "Arn":
            settings = self._settings
            return f"arn:aws:lambda:{settings.region}:{settings.account_id}:function:{resource}"
        bucket = self.bucket_name(resource)
        if bucket is not None and attribute == "Arn":
            return f"arn:aws:s3:::{bucket}"
        return None

    def _sub(self, arg: Any) -> str:
        variables: Mapping[str, Any] = {}
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], Mapping):
                raise IntrinsicError("Fn::Sub takes a string or [string, {name: value}]")
            arg, variables = arg[0], self.resolve(arg[1])
        if not isinstance(arg, str):
            raise IntrinsicError(f"Fn::Sub takes a string, got {arg!r}")

        def substitute(match: re.Match[str]) -> str:
            if match.group(1):
                return "${" + match.group(2) + "}"  # ${!Literal} is how Sub escapes itself
            name = match.group(2).strip()
            if name in variables:
                return text(variables[name])
            value = self._sub_name(name)
            return match.group(0) if value is None else value

        return _SUB_PATTERN.sub(substitute, arg)

    def _sub_name(self, name: str) -> str | None:
        if name in self._parameters:
            return text(self._parameters[name])
        if name in self._pseudo:
            value = self._pseudo[name]
            return "" if value is NO_VALUE else text(value)
        if "." in name:
            return self._attribute(*name.split(".", 1))
        if name in self._resources:
            return self._ref(name)
        return None

    def _join(self, arg: Any) -> str:
        delimiter, items = _pair("Fn::Join", arg)
        items = self.resolve(items)
        if not isinstance(items, list):
            raise IntrinsicError(f"Fn::Join needs a list to join, got {items!r}")
        return text(self.resolve(delimiter)).join(text(item) for item in items)

    def _select(self, arg: Any) -> Any:
        index, items = _pair("Fn::Select", arg)
        index, items = self.resolve(index), self.resolve(items)
        try:
            position = int(index)
        except (TypeError, ValueError):
            raise IntrinsicError(f"Fn::Select index must be a number, got {index!r}") from None
        if not isinstance(items, list) or not 0 <= position < len(items):
            raise IntrinsicError(f"Fn::Select index {position} is out of range for {items!r}")
        return items[position]

    def _split(self, arg: Any) -> list[str]:
        delimiter, source = _pair("Fn::Split", arg)
        return text(self.resolve(source)).split(text(self.resolve(delimiter)))

    def _if(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 3:
            raise IntrinsicError("Fn::If takes [condition, value_if_true, value_if_false]")
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _find_in_map(self, arg: Any) -> Any:
        arg = self.resolve(arg)
        if not isinstance(arg, list) or len(arg) != 3:
            raise IntrinsicError("Fn::FindInMap takes [map, top-level key, second-level key]")
        found: Any = self._mappings
        for key in arg:
            if not isinstance(found, Mapping) or text(key) not in found:
                raise IntrinsicError(f"Fn::FindInMap: no {text(key)!r} in Mappings path {arg!r}")
            found = found[text(key)]
        return self.resolve(found)

    def _get_azs(self, arg: Any) -> list[str]:
        region = text(self.resolve(arg)) or self._settings.region
        return [f"{region}{zone}" for zone in "abc"]

    def _cidr(self, arg: Any) -> list[str]:
        arg = self.resolve(arg)
        if not isinstance(arg, list) or len(arg) != 3:
            raise IntrinsicError("Fn::Cidr takes [ip block, count, cidr bits]")
        try:
            network = ipaddress.ip_network(text(arg[0]))
            count, bits = int(arg[1]), int(arg[2])
            subnets = network.subnets(new_prefix=network.max_prefixlen - bits)
            return [str(subnet) for subnet in itertools.islice(subnets, count)]
        except ValueError as exc:
            raise IntrinsicError(f"Fn::Cidr: {exc}") from None

    # -- conditions -----------------------------------------------------------------------

    def condition(self, name: Any) -> bool:
        """The value of the named entry in ``Conditions``, computed once."""
        if not isinstance(name, str) or name not in self._conditions:
            raise IntrinsicError(f"unknown condition {name!r}")
        if name not in self._known_conditions:
            if name in self._evaluating:
                raise IntrinsicError(f"condition {name!r} depends on itself")
            self._evaluating.add(name)
            try:
                self._known_conditions[name] = self._truth(self._conditions[name])
            finally:
                self._evaluating.discard(name)
        return self._known_conditions[name]

    def _truth_of(self, function: str) -> Callable[[Any], bool]:
        return lambda arg: self._truth({function: arg})

    def _truth(self, expression: Any) -> bool:
        name = _intrinsic_name(expression) if isinstance(expression, Mapping) else None
        if name is None and isinstance(expression, Mapping) and list(expression) == ["Condition"]:
            return self.condition(expression["Condition"])
        arg = expression[name] if name else None
        if name == "Fn::Equals":
            left, right = _pair(name, arg)
            return text(self.resolve(left)) == text(self.resolve(right))
        if name == "Fn::Not":
            if not isinstance(arg, list) or len(arg) != 1:
                raise IntrinsicError(f"Fn::Not takes a list of one condition, got {arg!r}")
            return not self._truth(arg[0])
        if name in ("Fn::And", "Fn::Or"):
            if not isinstance(arg, list):
                raise IntrinsicError(f"{name} takes a list of conditions, got {arg!r}")
            values = [self._truth(item) for item in arg]
            return all(values) if name == "Fn::And" else any(values)
        value = self.resolve(expression)
        if isinstance(value, bool) or value in ("true", "false"):
            return value in (True, "true")
        raise IntrinsicError(f"cannot use {expression!r} as a condition")


_SUB_PATTERN = re.compile(r"\$\{(!?)([^}]*)\}")


def _intrinsic_name(value: Mapping[Any, Any]) -> str | None:
    if len(value) != 1:
        return None
    (key,) = value
    return key if isinstance(key, str) and (key == "Ref" or key.startswith("Fn::")) else None


def _pair(function: str, arg: Any) -> tuple[Any, Any]:
    if not isinstance(arg, list) or len(arg) != 2:
        raise IntrinsicError(f"{function} takes a list of two items, got {arg!r}")
    return arg[0], arg[1]


def _section(template: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = template.get(name)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise IntrinsicError(f"{name} must be a mapping")
    return section


def _parameter_value(name: str, declaration: Any) -> Any:
    if not isinstance(declaration, Mapping) or "Default" not in declaration:
        return name  # no value without --parameter-overrides; the name stands in
    default = declaration["Default"]
    kind = str(declaration.get("Type", "String"))
    # List parameters are declared as "a,b,c" but Ref hands out a list.
    if isinstance(default, str) and (kind == "CommaDelimitedList" or kind.startswith("List<")):
        return [item.strip() for item in default.split(",")]
    return default
