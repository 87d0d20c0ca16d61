"""``settings.cache_dir``: where per-function virtualenvs are cached, relative to the config file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from emulator.config import load_project
from emulator.errors import ConfigError

FUNCTION = """
functions:
  hello:
    runtime: python3.12
    handler: app.handler
    code: ./hello
"""


def load(tmp_path: Path, settings: str):
    (tmp_path / "hello").mkdir(exist_ok=True)
    path = tmp_path / "emu.yaml"
    path.write_text(textwrap.dedent(settings) + FUNCTION)
    return load_project(path)


def test_it_is_resolved_against_the_config_files_folder(tmp_path):
    project = load(tmp_path, "settings:\n  cache_dir: .emu/cache\n")
    assert project.settings.cache_dir == (tmp_path / ".emu" / "cache").resolve()
    assert load(tmp_path, "settings: {}\n").settings.cache_dir is None


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("3", "must be a non-empty string"),
        ('""', "must be a non-empty string"),
        ("emu.yaml", "is not a directory"),
    ],
)
def test_a_bad_value_names_the_key(tmp_path, value, fragment):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, f"settings:\n  cache_dir: {value}\n")
    assert info.value.key == "settings.cache_dir"
    assert fragment in str(info.value)
