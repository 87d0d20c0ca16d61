"""Launch recipes: how each runtime's worker is started.

A recipe turns a function's spec and the platform variables into a ``LaunchSpec``.
It decides only argv, working directory and extra variables; backends run it.
``python`` is the interpreter a Python worker runs on (``venvs.Venvs.python_for``).
"""

from __future__ import annotations

import sys

from emulator.backends.base import LaunchSpec
from emulator.config.model import FunctionSpec
from emulator.runtimes import aws_python, gcp_python, provided


def lambda_launch(spec: FunctionSpec, env: dict[str, str], python: str = sys.executable) -> LaunchSpec:
    """The LaunchSpec of one Lambda environment of ``spec``."""
    if spec.is_provided:
        return provided.launch(spec, env)
    return aws_python.launch(spec, env, python)


def gcp_launch(spec: FunctionSpec, env: dict[str, str], port: int, python: str = sys.executable) -> LaunchSpec:
    """The LaunchSpec of one Cloud Functions instance of ``spec``."""
    return gcp_python.launch(spec, env, port, python)


__all__ = ["gcp_launch", "lambda_launch"]
