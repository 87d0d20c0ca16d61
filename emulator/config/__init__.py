"""Configuration: files on disk (emu.yaml, SAM template.yaml, .env) into a frozen Project.

``load_project(path)`` is the only entry point the rest of emu uses.
"""

from emulator.config.loader import find_config, load_project
from emulator.config.model import FunctionSpec, Project, Settings

__all__ = ["FunctionSpec", "Project", "Settings", "find_config", "load_project"]
