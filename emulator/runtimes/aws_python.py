"""Lambda Python: AWS's own runtime interface client, ``python -m awslambdaric``.

The interpreter is started directly (no shell), with the function's code
directory first on ``sys.path`` as ``LAMBDA_TASK_ROOT`` is in the cloud. It is
emu's own, or the function's virtualenv's when it has a requirements.txt.
"""

from __future__ import annotations

import sys

from emulator.backends.base import LaunchSpec
from emulator.config.model import FunctionSpec


def launch(spec: FunctionSpec, env: dict[str, str], python: str = sys.executable) -> LaunchSpec:
    code = str(spec.code)
    env = dict(env)
    env["PYTHONPATH"] = code + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # The managed runtime's stdout is unbuffered; without this, prints made just
    # before a crash would never reach the log.
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + spec.runtime
    return LaunchSpec(
        argv=(python, "-m", "awslambdaric", spec.handler),
        cwd=spec.code,
        env=env,
        memory_mb=spec.memory,
    )
