"""One invocation's record, how a Lambda outcome becomes one, and its JSON shape.

A record is built on the hot path (at the end of an invocation), so building it
is plain attribute copying; trimming the log and formatting times happen later,
on the writer's thread or when the record is served.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal, TypedDict

from emulator.config.model import FunctionSpec, Provider
from emulator.execution.invocation import Invocation, Status
from emulator.wire.logs import MB, Report

Outcome = Literal["ok", "error", "timeout", "throttled", "crash", "oom"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "error", "timeout", "throttled", "crash", "oom")

# How a Lambda invocation's status reads in a record. A failed init is an error with
# its type (Runtime.ImportModuleError…), as Lambda's REPORT line shows it.
LAMBDA_OUTCOMES: dict[Status, Outcome] = {
    Status.SUCCESS: "ok",
    Status.ERROR: "error",
    Status.INIT_ERROR: "error",
    Status.TIMEOUT: "timeout",
    Status.CRASH: "crash",
    Status.OUT_OF_MEMORY: "oom",
}

# A record keeps the start and the end of its invocation's log: the start says what
# it was doing, the end how it finished (END and REPORT on Lambda).
LOG_HEAD_BYTES = 4 * 1024
LOG_TAIL_BYTES = 12 * 1024


@dataclass(slots=True)
class InvocationRecord:
    id: str  # Lambda's request id (shared by an async event's retries); GCP's execution id
    function: str
    provider: Provider
    trigger: str  # direct, api, url, s3, sqs, sns, schedule, http, pubsub, gcs…
    started_at: float  # epoch seconds
    cold: bool
    init_ms: float | None
    duration_ms: float
    billed_ms: int
    memory_mb: int
    peak_memory: int  # bytes
    outcome: Outcome
    error_type: str | None = None
    status: int | None = None  # GCP: the HTTP status the caller got
    # What bills it: the Lambda architecture, or the Cloud Functions generation ("gen1", "gen2").
    platform: str = ""
    report: str | None = None  # Lambda's REPORT line
    log: bytes = b""
    seq: int = 0  # the store's running number, set when stored; a cursor for ``since``

    @property
    def is_error(self) -> bool:
        return self.outcome not in ("ok", "throttled")


def lambda_record(
    spec: FunctionSpec, inv: Invocation, status: Status, error_type: str | None, report: Report, report_line: str,
    log: bytes, started_at: float,
) -> InvocationRecord:
    # Positional: this runs once per invocation on the hot path, and keywords cost twice as much.
    return InvocationRecord(
        inv.request_id, spec.name, "aws", inv.trigger, started_at, inv.cold, report.init_ms, report.duration_ms,
        report.billed_ms, spec.memory, report.max_memory_bytes, LAMBDA_OUTCOMES[status],
        None if status is Status.SUCCESS else error_type, None, "x86_64", report_line, log,
    )


def throttled_record(spec: FunctionSpec, inv: Invocation, reason: str, started_at: float) -> InvocationRecord:
    """An invocation Lambda refused: it ran nowhere and bills nothing."""
    return InvocationRecord(
        id=inv.request_id, function=spec.name, provider="aws", trigger=inv.trigger, started_at=started_at, cold=False,
        init_ms=None, duration_ms=0.0, billed_ms=0, memory_mb=spec.memory, peak_memory=0, outcome="throttled",
        error_type=reason, platform="x86_64",
    )


def bounded_log(log: bytes) -> bytes:
    """The log, its middle cut out when it is longer than a record keeps."""
    if len(log) > LOG_HEAD_BYTES + LOG_TAIL_BYTES:
        cut = len(log) - LOG_HEAD_BYTES - LOG_TAIL_BYTES
        return log[:LOG_HEAD_BYTES] + b"\n[... %d bytes not kept ...]\n" % cut + log[-LOG_TAIL_BYTES:]
    return log


def iso_time(epoch: float) -> str:
    """``2025-08-01T12:00:00.123Z``."""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> float | None:
    """Epoch seconds from an ISO 8601 time (``Z`` or an offset; naive means UTC), else None."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


class RecordJson(TypedDict, total=False):
    seq: int
    id: str
    function: str
    provider: str
    trigger: str
    start: str
    started_at: float
    cold: bool
    init_ms: float | None
    duration_ms: float
    billed_ms: int
    memory_mb: int
    peak_memory_mb: float
    outcome: str
    error_type: str | None
    status: int | None
    platform: str
    report: str | None
    log: str  # only when one record is asked for


def record_json(r: InvocationRecord, with_log: bool = False) -> RecordJson:
    out: RecordJson = {
        "seq": r.seq,
        "id": r.id,
        "function": r.function,
        "provider": r.provider,
        "trigger": r.trigger,
        "start": iso_time(r.started_at),
        "started_at": round(r.started_at, 6),
        "cold": r.cold,
        "init_ms": None if r.init_ms is None else round(r.init_ms, 2),
        "duration_ms": round(r.duration_ms, 2),
        "billed_ms": r.billed_ms,
        "memory_mb": r.memory_mb,
        "peak_memory_mb": round(r.peak_memory / MB, 1),
        "outcome": r.outcome,
        "error_type": r.error_type,
        "status": r.status,
        "platform": r.platform,
        "report": r.report,
    }
    if with_log:
        out["log"] = r.log.decode("utf-8", "replace")
    return out
