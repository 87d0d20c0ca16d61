"""The front door: finding the config, choosing the reader, merging the env file."""

from __future__ import annotations

import pytest

from emulator.config import find_config, load_project
from emulator.errors import ConfigError

EMU_YAML = """\
settings:
  env_file: .env
functions:
  hello:
    runtime: python3.12
    handler: app.handler
    code: .
    environment: {SHARED: from-function, OWN: "1"}
  other:
    runtime: python3.12
    handler: app.handler
    code: .
"""


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (["emu.yaml", "emu.yml", "template.yaml", "template.yml"], "emu.yaml"),
        (["emu.yml", "template.yaml"], "emu.yml"),
        (["template.yaml", "template.yml"], "template.yaml"),
        (["template.yml"], "template.yml"),
    ],
)
def test_find_config_order(tmp_path, present, expected):
    for name in present:
        (tmp_path / name).write_text("")
    assert find_config(tmp_path) == tmp_path / expected


def test_find_config_ignores_directories(tmp_path):
    (tmp_path / "emu.yaml").mkdir()
    (tmp_path / "template.yaml").write_text("")
    assert find_config(tmp_path) == tmp_path / "template.yaml"


def test_find_config_names_the_folder(tmp_path):
    (tmp_path / "samconfig.toml").write_text("")
    with pytest.raises(ConfigError) as info:
        find_config(tmp_path)
    assert info.value.file == str(tmp_path)
    assert "emu.yaml, emu.yml, template.yaml, template.yml" in str(info.value)


def test_env_file_merges_under_function_environment(tmp_path):
    (tmp_path / ".env").write_text("SHARED=from-file\nFILE_ONLY='x y'\n")
    (tmp_path / "emu.yaml").write_text(EMU_YAML)
    functions = load_project(tmp_path / "emu.yaml").functions
    assert dict(functions["hello"].environment) == {"SHARED": "from-function", "FILE_ONLY": "x y", "OWN": "1"}
    assert dict(functions["other"].environment) == {"SHARED": "from-file", "FILE_ONLY": "x y"}


def test_env_file_errors_name_the_env_file(tmp_path):
    (tmp_path / ".env").write_text("OK=1\nbroken line\n")
    (tmp_path / "emu.yaml").write_text(EMU_YAML)
    with pytest.raises(ConfigError) as info:
        load_project(tmp_path / "emu.yaml")
    assert info.value.file == str((tmp_path / ".env").resolve())
    assert "line 2" in str(info.value)


def test_sam_chosen_by_content_whatever_the_file_name(tmp_path):
    path = tmp_path / "emu.yaml"
    path.write_text(
        "Resources:\n"
        "  Hello:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Handler: app.handler, Runtime: python3.12}\n"
    )
    assert list(load_project(path).functions) == ["Hello"]


def test_emu_yaml_chosen_by_content_whatever_the_file_name(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(EMU_YAML.replace("settings:\n  env_file: .env\n", ""))
    assert set(load_project(path).functions) == {"hello", "other"}


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read file"):
        load_project(tmp_path / "emu.yaml")
