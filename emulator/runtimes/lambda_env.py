"""The variables Lambda sets in every execution environment.

See docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-runtime.html.
The user's own variables (config ``environment`` and ``env_file``) are applied
on top, so nothing they declare is silently dropped, except the few that the
runtime needs to reach emu at all.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Mapping

from emulator.config.model import FunctionSpec, Settings

# Variables the host passes through: a worker needs a PATH and a locale, not the
# developer's whole shell (which would hide variables missing from the config).
_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "test"}

# Without these the runtime cannot find its code or emu, so config may not override them.
PINNED = frozenset({"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "_HANDLER"})


def log_stream_name() -> str:
    return time.strftime("%Y/%m/%d", time.gmtime()) + "/[$LATEST]" + secrets.token_hex(16)


def lambda_environment(
    spec: FunctionSpec,
    settings: Settings,
    host_env: Mapping[str, str],
    runtime_api: str,
    endpoint_url: str,
    initialization_type: str,
) -> dict[str, str]:
    env = {k: host_env[k] for k in _PASSTHROUGH if k in host_env}
    if all(host_env.get(k) for k in _CREDENTIALS[:2]):
        env.update({k: host_env[k] for k in _CREDENTIALS if k in host_env})
    else:
        env.update(_DUMMY_CREDENTIALS)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name(),
            "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
            "AWS_REGION": settings.region,
            "AWS_DEFAULT_REGION": settings.region,
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(spec.code),
            "LAMBDA_RUNTIME_DIR": str(Path(__file__).resolve().parent),
            "TZ": ":UTC",
            # So a function that invokes another function (boto3, the aws CLI) reaches emu.
            "AWS_ENDPOINT_URL_LAMBDA": endpoint_url,
            # And one that uses S3 reaches the local buckets. emu's URL is an IP address, so
            # botocore addresses buckets path-style (http://127.0.0.1:PORT/BUCKET/KEY) by itself.
            "AWS_ENDPOINT_URL_S3": endpoint_url,
            # And SNS and SQS reach emu's topics and queues (both served on POST /).
            "AWS_ENDPOINT_URL_SNS": endpoint_url,
            "AWS_ENDPOINT_URL_SQS": endpoint_url,
        }
    )
    env.update(spec.environment)
    env["AWS_LAMBDA_RUNTIME_API"] = runtime_api
    env["LAMBDA_TASK_ROOT"] = str(spec.code)
    env["_HANDLER"] = spec.handler
    return env
