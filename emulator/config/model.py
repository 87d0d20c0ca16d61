"""The configuration model: frozen dataclasses that everything downstream reads.

Config is read once, at ``emu up``, into these objects. Nothing else re-reads
files or ``os.environ`` afterwards. Cloud limits live here as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Literal, Mapping, Union, get_args

Provider = Literal["aws", "gcp"]
# functions-framework's signature types; "event" is the legacy background function.
Signature = Literal["http", "cloudevent", "event", "typed"]
TriggerKind = Literal["http", "pubsub", "gcs", "schedule"]
# The Cloud Storage events a function can subscribe to, as Eventarc names them.
StorageEvent = Literal["finalized", "deleted", "archived", "metadataUpdated"]
SIGNATURES: tuple[str, ...] = get_args(Signature)
STORAGE_EVENTS: tuple[str, ...] = get_args(StorageEvent)
# Which API Gateway an ``api`` event belongs to: a REST API (SAM's ``Api``) or an
# HTTP API (SAM's ``HttpApi``); the payload format is the event shape the function gets.
ApiGateway = Literal["rest", "http"]
PayloadVersion = Literal["1.0", "2.0"]
PAYLOAD_VERSIONS: tuple[str, ...] = get_args(PayloadVersion)
DEFAULT_ROUTE = "$default"  # an HTTP API's catch-all route, and a Function URL's route key

# Lambda's documented limits (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
LAMBDA_MEMORY_MB = (128, 10240)
LAMBDA_TIMEOUT_S = (1, 900)
LAMBDA_PYTHON_RUNTIMES = frozenset(
    {"python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14"}
)
LAMBDA_PROVIDED_RUNTIMES = frozenset({"provided", "provided.al2", "provided.al2023"})
LAMBDA_RUNTIMES = LAMBDA_PYTHON_RUNTIMES | LAMBDA_PROVIDED_RUNTIMES

# cloud.google.com/functions/docs/runtime-support#python
GCP_PYTHON_RUNTIMES = frozenset(
    {"python37", "python38", "python39", "python310", "python311", "python312", "python313"}
)


@dataclass(frozen=True, slots=True)
class GenerationLimits:
    """What one Cloud Functions generation allows; ``GCP_LIMITS`` holds one per generation."""

    memory_mb: tuple[int, int]
    # gen1 takes only these sizes; None means any whole number of MB in the range.
    memory_choices: tuple[int, ...] | None
    http_timeout_s: tuple[int, int]
    event_timeout_s: tuple[int, int]
    concurrency: tuple[int, int]


# cloud.google.com/functions/docs/configuring/memory, .../configuring/timeout and
# .../configuring/concurrency. gen2 runs on Cloud Run, hence its larger limits; an
# event-driven gen2 function is still held to gen1's 9 minutes.
GCP_LIMITS: Mapping[int, GenerationLimits] = MappingProxyType({
    1: GenerationLimits(
        memory_mb=(128, 8192),
        memory_choices=(128, 256, 512, 1024, 2048, 4096, 8192),
        http_timeout_s=(1, 540),
        event_timeout_s=(1, 540),
        concurrency=(1, 1),
    ),
    2: GenerationLimits(
        memory_mb=(128, 32768),
        memory_choices=None,
        http_timeout_s=(1, 3600),
        event_timeout_s=(1, 540),
        concurrency=(1, 1000),
    ),
})
GCP_DEFAULT_MEMORY_MB = 256
GCP_DEFAULT_TIMEOUT_S = 60
GCP_DEFAULT_SOURCE = "main.py"  # functions-framework's --source default

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
# How long an idle environment lives. Lambda keeps them for minutes; so do we.
DEFAULT_IDLE_TTL_S = 300.0
# Lambda's async retry schedule is about 1 and 2 minutes; locally that is too slow
# to wait for, so the default is seconds and a setting can change it.
DEFAULT_ASYNC_RETRY_DELAYS_S = (1.0, 2.0)
DEFAULT_GCP_PROJECT = "emu-project"
DEFAULT_GCP_REGION = "us-central1"
# How long a GCP request waits for an instance when all max_instances are busy
# before it is answered 429, as Cloud Run does after its own short queueing.
DEFAULT_QUEUE_TIMEOUT_S = 10.0
# emu's state folder (invocation records), relative to the config file's folder.
STATE_DIR = Path(".emu")
# Local buckets' default home, relative to the config file's folder (emu's state folder).
BUCKETS_DIR = Path(".emu") / "buckets"
# How long a message an SQS-triggered function failed on stays hidden before it is retried.
# A queue's default is 30 s; locally a failure should show its retry at once.
DEFAULT_SQS_VISIBILITY_TIMEOUT_S = 1.0
# Cloud Scheduler's default time zone for a job (cloud.google.com/scheduler/docs/configuring/cron-job-schedules).
DEFAULT_SCHEDULE_TIME_ZONE = "Etc/UTC"


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
    project: str = DEFAULT_GCP_PROJECT  # GOOGLE_CLOUD_PROJECT unless a function sets its own
    gcp_region: str = DEFAULT_GCP_REGION
    queue_timeout: float = DEFAULT_QUEUE_TIMEOUT_S
    # Schedules' clock runs this many times faster than the wall clock (1: real time).
    schedule_speedup: float = 1.0
    sqs_visibility_timeout: float = DEFAULT_SQS_VISIBILITY_TIMEOUT_S
    # Where local buckets live, one directory each; None: BUCKETS_DIR beside the config file.
    buckets_dir: Path | None = None
    # Where per-function virtualenvs are cached; None: $EMU_CACHE_DIR, else the user's cache folder.
    cache_dir: Path | None = None
    # Where emu keeps its state (the invocation records); None: STATE_DIR beside the config file.
    state_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    """What invokes a GCP function: HTTP requests, a Pub/Sub topic, a Cloud Storage bucket,
    or a Cloud Scheduler job (``schedule``: unix cron in ``time_zone``) that POSTs ``body``
    to the HTTP function."""

    kind: TriggerKind
    topic: str | None = None
    bucket: str | None = None
    event: StorageEvent | None = None
    schedule: str | None = None
    time_zone: str = DEFAULT_SCHEDULE_TIME_ZONE
    body: str | None = None


# -- AWS triggers: what invokes a Lambda function besides the Invoke API ----------------
# One frozen class per event source, as SAM's Events types are; ``kind`` names it.


@dataclass(frozen=True, slots=True)
class S3Trigger:
    """Objects created or removed in a bucket, narrowed by key prefix and suffix."""

    kind: ClassVar[str] = "s3"
    bucket: str
    events: tuple[str, ...] = ("s3:ObjectCreated:*",)  # S3's own names, as in the notification config
    prefix: str = ""
    suffix: str = ""

    def matches(self, event_name: str, key: str) -> bool:
        """Whether S3 would notify this trigger of ``event_name`` (``s3:ObjectCreated:Put``) on ``key``."""
        if not (key.startswith(self.prefix) and key.endswith(self.suffix)):
            return False
        return any(
            event_name == wanted or (wanted.endswith(":*") and event_name.startswith(wanted[:-1]))
            for wanted in self.events
        )


@dataclass(frozen=True, slots=True)
class SqsTrigger:
    """Messages from a queue, handed over in batches of up to ``batch_size``."""

    kind: ClassVar[str] = "sqs"
    queue: str
    batch_size: int = 10  # the event source mapping's default for a queue


@dataclass(frozen=True, slots=True)
class SnsTrigger:
    """Every message published to a topic."""

    kind: ClassVar[str] = "sns"
    topic: str


@dataclass(frozen=True, slots=True)
class ScheduleTrigger:
    """An EventBridge schedule: ``rate(...)`` or ``cron(...)``, checked when read.

    Exactly one of ``rate_seconds`` and ``cron`` is set: the rate as seconds, or the six
    cron fields as written. ``input`` replaces the scheduled event when given, as a
    rule target's Input does.
    """

    kind: ClassVar[str] = "schedule"
    expression: str
    rate_seconds: int | None = None
    cron: tuple[str, ...] | None = None
    input: str | None = None


@dataclass(frozen=True, slots=True)
class ApiTrigger:
    """A route on an API Gateway: method and path (``/items/{id}``, ``/{proxy+}``, or ``$default``)."""

    kind: ClassVar[str] = "api"
    path: str
    method: str = "ANY"
    payload: PayloadVersion = "2.0"
    gateway: ApiGateway = "http"

    @property
    def route_key(self) -> str:
        """The route as HTTP APIs name it: ``GET /items/{id}``, or ``$default``."""
        return self.path if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


AwsTrigger = Union[S3Trigger, SqsTrigger, SnsTrigger, ScheduleTrigger, ApiTrigger]


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function as configured: what to run and the limits to run it under.

    The GCP fields keep their defaults on an AWS function, and ``handler``,
    ``reserved_concurrency``, ``provisioned_concurrency``, ``events`` and ``url`` keep
    theirs on a GCP one.
    """

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
    events: tuple[AwsTrigger, ...] = ()
    url: bool = False  # a Function URL
    # GCP only from here on.
    entry_point: str = ""  # "" on a GCP function means its name, as gcloud does
    signature: Signature | None = None  # None: what the decorator says, found by the runtime recipe
    generation: int = 2
    concurrency: int = 1
    min_instances: int = 0
    max_instances: int = 100
    project: str = ""  # the config loader fills in Settings.project
    trigger: TriggerSpec | None = None
    source: str = GCP_DEFAULT_SOURCE  # relative to code

    def __post_init__(self) -> None:
        object.__setattr__(self, "environment", _frozen(self.environment))
        if self.provider == "gcp" and not self.entry_point:
            object.__setattr__(self, "entry_point", self.name)

    @property
    def is_provided(self) -> bool:
        return self.runtime in LAMBDA_PROVIDED_RUNTIMES

    @property
    def is_event_driven(self) -> bool:
        """Whether the function is fed events rather than plain HTTP requests.

        Only configured values count: a signature the runtime later reads from a
        decorator is not known here.
        """
        if self.trigger is not None and self.trigger.kind in ("pubsub", "gcs"):
            return True
        return self.signature in ("cloudevent", "event")

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

    @property
    def state_dir(self) -> Path:
        """emu's state folder: the invocation records live here."""
        return self.settings.state_dir or self.path.parent / STATE_DIR

    @property
    def buckets_dir(self) -> Path:
        """The folder holding one directory per local bucket."""
        return self.settings.buckets_dir or self.path.parent / BUCKETS_DIR
