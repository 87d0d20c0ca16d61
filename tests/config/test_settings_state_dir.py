"""``settings.state_dir``: where emu keeps its state (the invocation records); ``.emu`` beside the config by default."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from emulator.config import load_project
from emulator.config.model import Project
from emulator.errors import ConfigError

FUNCTION = """
functions:
  hello:
    runtime: python3.12
    handler: app.handler
    code: ./hello
"""


def load(tmp_path: Path, settings: str) -> Project:
    (tmp_path / "hello").mkdir(exist_ok=True)
    path = tmp_path / "emu.yaml"
    path.write_text(textwrap.dedent(settings) + FUNCTION)
    return load_project(path)


def test_the_default_is_dot_emu_beside_the_config(tmp_path: Path) -> None:
    project = load(tmp_path, "settings: {}\n")
    assert project.settings.state_dir is None
    assert project.state_dir == tmp_path.resolve() / ".emu"


def test_a_relative_path_is_resolved_against_the_config_files_folder(tmp_path: Path) -> None:
    project = load(tmp_path, "settings:\n  state_dir: ../elsewhere/state\n")
    assert project.state_dir == (tmp_path.parent / "elsewhere" / "state").resolve()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("3", "must be a non-empty string"),
        ("emu.yaml", "is not a directory"),
        ("hello/records", "is in function 'hello''s code"),
        ("hello", "is in function 'hello''s code"),
    ],
)
def test_a_bad_value_names_the_key(tmp_path: Path, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, f"settings:\n  state_dir: {value}\n")
    assert info.value.key == "settings.state_dir"
    assert fragment in str(info.value)
