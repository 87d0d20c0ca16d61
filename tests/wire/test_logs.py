"""Lambda's START, END and REPORT lines, from plain data."""

from __future__ import annotations

import pytest

from emulator.wire import logs
from emulator.wire.logs import Report

RID = "8f5ae4c2-9b0e-4b8a-9d61-0c6f0d1e2a3b"


def test_start_and_end_lines():
    assert logs.start_line(RID) == f"START RequestId: {RID} Version: $LATEST"
    assert logs.start_line(RID, version="7") == f"START RequestId: {RID} Version: 7"
    assert logs.end_line(RID) == f"END RequestId: {RID}"


def test_warm_report_has_no_init_duration():
    report = Report(request_id=RID, duration_ms=12.3456, memory_size_mb=128, max_memory_bytes=40 * logs.MB)
    assert logs.report_line(report) == (
        f"REPORT RequestId: {RID}\tDuration: 12.35 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 40 MB\t"
    )


def test_cold_report_appends_init_duration_and_bills_it():
    report = Report(request_id=RID, duration_ms=2.5, memory_size_mb=256, max_memory_bytes=50 * logs.MB, init_ms=180.25)
    assert logs.report_line(report) == (
        f"REPORT RequestId: {RID}\tDuration: 2.50 ms\tBilled Duration: 183 ms\t"
        "Memory Size: 256 MB\tMax Memory Used: 50 MB\tInit Duration: 180.25 ms\t"
    )


def test_timeout_report_has_a_status():
    report = Report(request_id=RID, duration_ms=1000.4, memory_size_mb=128, max_memory_bytes=logs.MB, status="timeout")
    assert logs.report_line(report).endswith("\tMax Memory Used: 1 MB\tStatus: timeout\t")


def test_error_report_has_status_then_error_type():
    report = Report(
        request_id=RID, duration_ms=5, memory_size_mb=128, max_memory_bytes=logs.MB,
        init_ms=90.0, status="error", error_type="Runtime.ExitError",
    )
    assert logs.report_line(report).endswith("\tInit Duration: 90.00 ms\tStatus: error\tError Type: Runtime.ExitError\t")


def test_error_type_needs_a_status():
    report = Report(request_id=RID, duration_ms=5, memory_size_mb=128, max_memory_bytes=logs.MB, error_type="Runtime.ExitError")
    assert "Error Type" not in logs.report_line(report)


@pytest.mark.parametrize(
    "duration_ms, init_ms, billed",
    [(0.0, None, 1), (0.2, None, 1), (1.0, None, 1), (1.01, None, 2), (99.9, None, 100), (10.5, 100.2, 111)],
)
def test_billed_duration_rounds_up_to_the_millisecond(duration_ms, init_ms, billed):
    report = Report(request_id=RID, duration_ms=duration_ms, memory_size_mb=128, max_memory_bytes=0, init_ms=init_ms)
    assert report.billed_ms == billed


@pytest.mark.parametrize("used, mb", [(0, 0), (1, 1), (logs.MB, 1), (logs.MB + 1, 2), (300 * logs.MB, 300)])
def test_max_memory_rounds_up_to_the_megabyte(used, mb):
    assert Report(request_id=RID, duration_ms=1, memory_size_mb=128, max_memory_bytes=used).max_memory_mb == mb


def test_timeout_line():
    assert logs.timeout_line(RID, 3) == f"{RID} Task timed out after 3.00 seconds"
    assert logs.timeout_line(RID, 0.5) == f"{RID} Task timed out after 0.50 seconds"
