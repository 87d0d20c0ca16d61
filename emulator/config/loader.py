"""The front door of config: find the file, pick its reader, fold in the env file.

Owns the choice between emu.yaml and a SAM template (by content, not by file name,
so ``emu up -c anything.yaml`` works for both) and the precedence of environment
variables: a function's own ``environment`` beats ``settings.env_file``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from emulator.config.dotenv import read_dotenv
from emulator.config.emu_yaml import read_emu_yaml
from emulator.config.model import Project
from emulator.config.sam import is_sam_template, read_sam
from emulator.config.yaml_loader import load_yaml
from emulator.errors import ConfigError

# Looked for in this order; emu's own file wins over a SAM template beside it.
CONFIG_NAMES = ("emu.yaml", "emu.yml", "template.yaml", "template.yml")


def find_config(cwd: Path) -> Path:
    """The config file in ``cwd``, or a ConfigError naming the folder."""
    for name in CONFIG_NAMES:
        candidate = cwd / name
        if candidate.is_file():
            return candidate
    raise ConfigError(cwd, f"no config file found; create one of: {', '.join(CONFIG_NAMES)}")


def load_project(path: Path) -> Project:
    """Read ``path`` (emu.yaml or a SAM template) into a validated, frozen Project."""
    document = load_yaml(path)
    project = read_sam(path, document) if is_sam_template(document) else read_emu_yaml(path, document)
    return _with_env_file(project)


def _with_env_file(project: Project) -> Project:
    env_file = project.settings.env_file
    if env_file is None:
        return project
    shared = read_dotenv(env_file)
    functions = {
        name: dataclasses.replace(spec, environment={**shared, **spec.environment})
        for name, spec in project.functions.items()
    }
    return dataclasses.replace(project, functions=functions)
