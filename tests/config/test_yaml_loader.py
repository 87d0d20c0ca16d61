"""The YAML boundary: CloudFormation short tags, duplicate keys, errors with lines."""

from __future__ import annotations

import textwrap

import pytest

from emulator.config.yaml_loader import CFN_TAGS, load_yaml, parse_yaml
from emulator.errors import ConfigError


def parse(text: str):
    return parse_yaml(textwrap.dedent(text), "test.yaml")


# !GetAtt scalars are split on the dot; they have their own tests below.
@pytest.mark.parametrize(("tag", "long_form"), sorted(item for item in CFN_TAGS.items() if item[0] != "!GetAtt"))
def test_every_short_tag_on_scalar_sequence_and_mapping(tag, long_form):
    assert parse(f"v: {tag} x")["v"] == {long_form: "x"}
    assert parse(f"v: {tag} [a, 1]")["v"] == {long_form: ["a", 1]}
    assert parse(f"v: {tag} {{k: v}}")["v"] == {long_form: {"k": "v"}}


def test_tag_table_covers_cloudformation_short_forms():
    assert CFN_TAGS["!Ref"] == "Ref"
    assert CFN_TAGS["!Condition"] == "Condition"
    names = {"Sub", "GetAtt", "Join", "Select", "Split", "If", "Equals", "Not", "And", "Or",
             "FindInMap", "Base64", "Cidr", "ImportValue", "GetAZs", "Transform"}
    assert {tag for tag in CFN_TAGS if tag not in ("!Ref", "!Condition")} == {f"!{name}" for name in names}


def test_getatt_scalar_splits_on_first_dot_only():
    assert parse("v: !GetAtt Table.Arn")["v"] == {"Fn::GetAtt": ["Table", "Arn"]}
    assert parse("v: !GetAtt Db.Endpoint.Address")["v"] == {"Fn::GetAtt": ["Db", "Endpoint.Address"]}


def test_getatt_list_form():
    assert parse("v: !GetAtt [Table, Arn]")["v"] == {"Fn::GetAtt": ["Table", "Arn"]}


def test_nested_tags_in_block_style():
    document = parse(
        """\
        v: !Sub
          - "arn:${AWS::Partition}:s3:::${Name}"
          - Name: !Join ["-", [!Ref Stage, !Select [0, !Split [",", !GetAtt A.B]]]]
        """
    )
    split = {"Fn::Split": [",", {"Fn::GetAtt": ["A", "B"]}]}
    assert document["v"] == {
        "Fn::Sub": [
            "arn:${AWS::Partition}:s3:::${Name}",
            {"Name": {"Fn::Join": ["-", [{"Ref": "Stage"}, {"Fn::Select": [0, split]}]]}},
        ]
    }


def test_empty_tagged_scalar():
    assert parse('v: !GetAZs ""')["v"] == {"Fn::GetAZs": ""}


def test_dates_stay_text():
    assert parse("AWSTemplateFormatVersion: 2010-09-09")["AWSTemplateFormatVersion"] == "2010-09-09"


def test_unknown_tag_is_an_error_with_line():
    with pytest.raises(ConfigError, match=r"test.yaml: line 2, column 4: .*!Bogus"):
        parse("a: 1\nb: !Bogus x\n")


def test_duplicate_top_level_key_names_both_lines():
    with pytest.raises(ConfigError) as info:
        parse(
            """\
            functions:
              hello:
                runtime: python3.12
              hello:
                runtime: python3.11
            """
        )
    message = str(info.value)
    assert message.startswith("test.yaml: line 4")
    assert "duplicate key 'hello' (first defined on line 2)" in message


def test_duplicate_key_in_flow_mapping():
    with pytest.raises(ConfigError, match="line 1.*duplicate key 'a'"):
        parse("v: {a: 1, b: 2, a: 3}")


def test_duplicate_key_inside_tagged_mapping():
    with pytest.raises(ConfigError, match="duplicate key 'x'"):
        parse("v: !Sub\n  - s\n  - {x: 1, x: 2}\n")


def test_merge_keys_may_be_overridden():
    document = parse(
        """\
        base: &base {memory: 128, timeout: 3}
        fn:
          <<: *base
          memory: 256
        """
    )
    assert document["fn"] == {"memory": 256, "timeout": 3}


def test_syntax_error_has_file_and_line():
    with pytest.raises(ConfigError) as info:
        parse("functions:\n  hello: [unclosed\n  other: 1\n")
    assert info.value.file == "test.yaml"
    assert "line " in str(info.value)


def test_tab_indentation_error_has_line():
    with pytest.raises(ConfigError, match=r"line 2"):
        parse("a:\n\tb: 1\n")


def test_load_yaml_reads_file(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: !Ref B\n")
    assert load_yaml(path) == {"a": {"Ref": "B"}}


def test_load_yaml_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read file") as info:
        load_yaml(tmp_path / "missing.yaml")
    assert info.value.file == str(tmp_path / "missing.yaml")


def test_empty_document_is_none():
    assert parse("# only a comment\n") is None
