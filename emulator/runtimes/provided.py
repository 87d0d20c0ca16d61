"""Lambda custom runtimes (``provided``, ``provided.al2023``): the function's own ``bootstrap``.

The bootstrap speaks the Runtime API itself, as it would in the cloud, where it
is found at ``$LAMBDA_TASK_ROOT/bootstrap``.
"""

from __future__ import annotations

from emulator.backends.base import LaunchSpec
from emulator.config.model import FunctionSpec


def launch(spec: FunctionSpec, env: dict[str, str]) -> LaunchSpec:
    # AWS_EXECUTION_ENV is not set for the OS-only runtimes.
    return LaunchSpec(argv=(str(spec.code / "bootstrap"),), cwd=spec.code, env=env, memory_mb=spec.memory)
