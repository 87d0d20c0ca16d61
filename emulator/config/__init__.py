"""Configuration: files on disk (emu.yaml, SAM template.yaml, .env) into a frozen Project.

``load_project(path)`` is the only entry point the rest of emu uses.
"""

from emulator.config.loader import find_config, load_project
from emulator.config.model import FunctionSpec, Project, Settings, TriggerSpec
from emulator.config.signature import detect_signature

__all__ = ["FunctionSpec", "Project", "Settings", "TriggerSpec", "detect_signature", "find_config", "load_project"]
