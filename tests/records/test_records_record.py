"""How a Lambda outcome reads in its record: one row of the table per case, plain data."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from emulator.config.model import FunctionSpec
from emulator.execution.invocation import Invocation, Status
from emulator.records.record import LAMBDA_OUTCOMES, lambda_record, record_json, throttled_record
from emulator.wire.logs import MB, Report, report_line

SPEC = FunctionSpec(name="fn", provider="aws", runtime="python3.11", handler="app.handler", code=Path("."), memory=256)


def invocation(**fields: object) -> Invocation:
    async def make() -> Invocation:
        return Invocation("fn", b"{}", **fields)  # type: ignore[arg-type]

    return asyncio.run(make())


@pytest.mark.parametrize(
    ("status", "outcome", "error_type"),
    [
        (Status.SUCCESS, "ok", None),
        (Status.ERROR, "error", "ValueError"),
        (Status.INIT_ERROR, "error", "Runtime.ImportModuleError"),
        (Status.TIMEOUT, "timeout", "Sandbox.Timedout"),
        (Status.CRASH, "crash", "Runtime.ExitError"),
        (Status.OUT_OF_MEMORY, "oom", "Runtime.OutOfMemory"),
    ],
)
def test_each_status_has_its_outcome(status: Status, outcome: str, error_type: str | None) -> None:
    inv = invocation(trigger="sqs", cold=True)
    report = Report(inv.request_id, duration_ms=10.2, memory_size_mb=256, max_memory_bytes=30 * MB, init_ms=100.5)
    line = report_line(report)
    r = lambda_record(SPEC, inv, status, error_type or "ignored on success", report, line, b"log\n", 1_700_000_000.0)
    assert (r.outcome, r.error_type) == (outcome, error_type)
    assert (r.id, r.function, r.provider, r.trigger, r.cold) == (inv.request_id, "fn", "aws", "sqs", True)
    # Billed as the REPORT line says: 1 ms steps, a cold start's init included.
    assert r.billed_ms == 111 and f"Billed Duration: {r.billed_ms} ms" in line and r.report == line
    assert (r.memory_mb, r.peak_memory, r.init_ms, r.log) == (256, 30 * MB, 100.5, b"log\n")


def test_every_status_is_in_the_table() -> None:
    assert set(LAMBDA_OUTCOMES) == set(Status)


def test_a_throttled_invocation_bills_nothing() -> None:
    inv = invocation()
    r = throttled_record(SPEC, inv, "ReservedFunctionConcurrentInvocationLimitExceeded", 1.0)
    shown = record_json(r, with_log=True)
    assert (shown["outcome"], shown["billed_ms"], shown["duration_ms"], shown["trigger"]) == ("throttled", 0, 0.0, "direct")
    assert shown["error_type"] == "ReservedFunctionConcurrentInvocationLimitExceeded" and shown["log"] == ""
