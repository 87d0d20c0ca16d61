"""YAML reading for every config file: safe, strict about duplicates, fluent in CloudFormation.

Owns ``CfnLoader``, a ``yaml.SafeLoader`` subclass, and ``parse_yaml`` / ``load_yaml``,
the boundary where YAML's own exceptions become ``ConfigError`` with a line number.

Two deliberate departures from plain PyYAML:

* Short-form CloudFormation tags (``!Ref``, ``!Sub``, ``!GetAtt``...) load as the long
  form (``{"Ref": x}``, ``{"Fn::Sub": x}``, ``{"Fn::GetAtt": [a, b]}``), so the SAM reader
  only ever sees one spelling.
* A key repeated in one mapping is an error. PyYAML silently keeps the last one, which
  would let a second ``hello:`` function quietly replace the first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from emulator.errors import ConfigError

# Short tag -> long-form key. Everything but Ref and Condition is spelled "Fn::<Name>".
_FN_TAGS = (
    "Sub", "GetAtt", "Join", "Select", "Split", "If", "Equals", "Not", "And", "Or",
    "FindInMap", "Base64", "Cidr", "ImportValue", "GetAZs", "Transform",
)
CFN_TAGS: dict[str, str] = {"!Ref": "Ref", "!Condition": "Condition"}
CFN_TAGS.update({f"!{name}": f"Fn::{name}" for name in _FN_TAGS})

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and understands CloudFormation short tags."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        self._reject_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)

    def _reject_duplicate_keys(self, node: MappingNode) -> None:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            # "<<" merges are allowed to be overridden by explicit keys; that is their point.
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                seen = key in first_line
            except TypeError:
                continue  # unhashable key: SafeLoader reports it with its own message
            if seen:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {key!r} (first defined on line {first_line[key] + 1})",
                    key_node.start_mark,
                )
            first_line[key] = key_node.start_mark.line


def _construct_cfn_tag(loader: CfnLoader, node: Node) -> dict[str, Any]:
    name = CFN_TAGS[node.tag]
    if isinstance(node, ScalarNode):
        value: Any = loader.construct_scalar(node)
        # "!GetAtt Res.Attr" is shorthand for [Res, Attr]; attribute names may hold dots.
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, MappingNode)  # the composer makes only these three kinds
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


for _tag in CFN_TAGS:
    CfnLoader.add_constructor(_tag, _construct_cfn_tag)

# CloudFormation reads unquoted dates as text, and so should we: a date-looking
# environment value must stay the string the user typed, not become datetime.date.
CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, file: object) -> Any:
    """Parse one YAML document; any YAML error becomes a ConfigError naming ``file`` and the line."""
    try:
        return yaml.load(text, Loader=CfnLoader)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(file, _describe(exc)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(file, f"invalid YAML: {exc}") from exc


def load_yaml(path: Path) -> Any:
    """Read and parse ``path``; unreadable files are ConfigErrors too."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read file: {exc}") from exc
    return parse_yaml(text, path)


def _describe(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = exc.problem or exc.context or "invalid YAML"
    return f"{where}{problem}"
