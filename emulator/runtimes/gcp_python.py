"""GCP Python: Google's own ``functions-framework``, one instance per process.

It serves the one function on a loopback port of its own, with as many threads
as the function's ``concurrency`` (gunicorn's gthread worker), and the variables
the platform sets (cloud.google.com/functions/docs/configuring/env-var). Its
interpreter is emu's own, or the function's virtualenv's when it has a requirements.txt.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Mapping

from emulator.backends.base import LaunchSpec
from emulator.config.model import FunctionSpec, Settings
from emulator.config.signature import detect_signature

_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def signature_of(spec: FunctionSpec) -> str:
    """The configured signature type, else what the entry point's decorator says, else http."""
    if spec.signature:
        return spec.signature
    try:
        source = (spec.code / spec.source).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "http"
    return detect_signature(source, spec.entry_point) or "http"


def gcp_environment(spec: FunctionSpec, settings: Settings, host_env: Mapping[str, str], port: int) -> dict[str, str]:
    env = {k: host_env[k] for k in _PASSTHROUGH if k in host_env}
    signature = signature_of(spec)
    env.update(
        {
            "K_SERVICE": spec.name,
            "K_REVISION": f"{spec.name}-00001-emu" if spec.generation == 2 else "1",
            "K_CONFIGURATION": spec.name,
            "FUNCTION_TARGET": spec.entry_point,
            "FUNCTION_SIGNATURE_TYPE": signature,
            "PORT": str(port),
            "GOOGLE_CLOUD_PROJECT": spec.project or settings.project,
            "PYTHONUNBUFFERED": "1",
            # One gunicorn worker with a thread per concurrent request, as on the platform.
            "WORKERS": "1",
            "THREADS": str(spec.concurrency),
        }
    )
    if spec.generation == 2:
        env["LOG_EXECUTION_ID"] = "true"
    else:
        env.update({"FUNCTION_NAME": spec.name, "FUNCTION_REGION": settings.gcp_region, "GCP_PROJECT": env["GOOGLE_CLOUD_PROJECT"]})
    env.update(spec.environment)
    env["PORT"] = str(port)
    return env


def launch(spec: FunctionSpec, env: dict[str, str], port: int, python: str = sys.executable) -> LaunchSpec:
    env = dict(env)
    env["PYTHONPATH"] = str(spec.code) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    argv = (
        python, "-m", "functions_framework",
        "--target", spec.entry_point,
        "--source", str(Path(spec.code) / spec.source),
        "--signature-type", env["FUNCTION_SIGNATURE_TYPE"],
        "--host", "127.0.0.1",
        "--port", str(port),
    )
    return LaunchSpec(argv=argv, cwd=spec.code, env=env, memory_mb=spec.memory)
