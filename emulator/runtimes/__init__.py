"""Launch recipes: how each runtime's worker is started.

A recipe turns a function's spec and the platform variables into a ``LaunchSpec``.
It decides only argv, working directory and extra variables; backends run it.
"""

from __future__ import annotations

from emulator.backends.base import LaunchSpec
from emulator.config.model import FunctionSpec
from emulator.runtimes import aws_python, gcp_python, provided


def lambda_launch(spec: FunctionSpec, env: dict[str, str]) -> LaunchSpec:
    """The LaunchSpec of one Lambda environment of ``spec``."""
    recipe = provided if spec.is_provided else aws_python
    return recipe.launch(spec, env)


def gcp_launch(spec: FunctionSpec, env: dict[str, str], port: int) -> LaunchSpec:
    """The LaunchSpec of one Cloud Functions instance of ``spec``."""
    return gcp_python.launch(spec, env, port)


__all__ = ["gcp_launch", "lambda_launch"]
