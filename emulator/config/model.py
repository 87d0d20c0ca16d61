"""The configuration model: frozen dataclasses that everything downstream reads.

Config is read once, at ``emu up``, into these objects. Nothing else re-reads
files or ``os.environ`` afterwards. Cloud limits live here as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, Mapping

Provider = Literal["aws", "gcp"]

# Lambda's documented limits (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
LAMBDA_MEMORY_MB = (128, 10240)
LAMBDA_TIMEOUT_S = (1, 900)
LAMBDA_PYTHON_RUNTIMES = frozenset(
    {"python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14"}
)
LAMBDA_PROVIDED_RUNTIMES = frozenset({"provided", "provided.al2", "provided.al2023"})
LAMBDA_RUNTIMES = LAMBDA_PYTHON_RUNTIMES | LAMBDA_PROVIDED_RUNTIMES

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
# How long an idle environment lives. Lambda keeps them for minutes; so do we.
DEFAULT_IDLE_TTL_S = 300.0
# Lambda's async retry schedule is about 1 and 2 minutes; locally that is too slow
# to wait for, so the default is seconds and a setting can change it.
DEFAULT_ASYNC_RETRY_DELAYS_S = (1.0, 2.0)


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class Settings:
    """Top-level ``settings:`` of emu.yaml, shared by every function."""

    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    idle_ttl: float = DEFAULT_IDLE_TTL_S
    env_file: Path | None = None
    async_retry_delays: tuple[float, ...] = DEFAULT_ASYNC_RETRY_DELAYS_S


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function as configured: what to run and the limits to run it under."""

    name: str
    provider: Provider
    runtime: str
    handler: str
    code: Path
    memory: int = 128
    timeout: float = 3.0
    reserved_concurrency: int | None = None
    provisioned_concurrency: int = 0
    environment: Mapping[str, str] = field(default_factory=lambda: _frozen(None))

    def __post_init__(self) -> None:
        object.__setattr__(self, "environment", _frozen(self.environment))

    @property
    def is_provided(self) -> bool:
        return self.runtime in LAMBDA_PROVIDED_RUNTIMES

    def arn(self, settings: Settings) -> str:
        return f"arn:aws:lambda:{settings.region}:{settings.account_id}:function:{self.name}"


@dataclass(frozen=True, slots=True)
class Project:
    """Everything ``emu up`` serves: where the config came from, settings, functions."""

    path: Path
    settings: Settings
    functions: Mapping[str, FunctionSpec]

    def __post_init__(self) -> None:
        object.__setattr__(self, "functions", MappingProxyType(dict(self.functions)))
