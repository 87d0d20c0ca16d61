"""``settings.buckets_dir``: where local buckets live, and the folders it may not be."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from emulator.config import load_project
from emulator.errors import ConfigError

FUNCTION = """
functions:
  thumbs:
    runtime: python3.12
    handler: app.handler
    code: ./code
    events: [{s3: {bucket: photos}}]
"""


def load(tmp_path: Path, settings: str = ""):
    (tmp_path / "code").mkdir(exist_ok=True)
    path = tmp_path / "emu.yaml"
    path.write_text(textwrap.dedent(settings) + textwrap.dedent(FUNCTION))
    return load_project(path)


def test_buckets_live_in_emus_state_folder_beside_the_config_by_default(tmp_path: Path) -> None:
    project = load(tmp_path)
    assert project.settings.buckets_dir is None
    assert project.buckets_dir == tmp_path.resolve() / ".emu" / "buckets"


def test_a_buckets_dir_is_relative_to_the_config(tmp_path: Path) -> None:
    project = load(tmp_path, "settings: {buckets_dir: data/buckets}\n")
    assert project.buckets_dir == (tmp_path / "data" / "buckets").resolve()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("''", "must be a non-empty string"),
        ("7", "must be a non-empty string"),
        (".", "holds the config file"),
        ("..", "holds the config file"),
        ("code", "has its code in"),
        ("emu.yaml", "is not a directory"),
    ],
)
def test_a_buckets_dir_that_cannot_be_one_is_refused(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, f"settings: {{buckets_dir: {value}}}\n")
    assert refused.value.key == "settings.buckets_dir"
    assert message in str(refused.value)
