"""Lambda's own platform log lines: START, END and REPORT.

Formats follow what Lambda writes to CloudWatch Logs
(docs.aws.amazon.com/lambda/latest/dg/python-logging.html): tab-separated
fields, and ``Init Duration`` only on the invocation that paid the cold start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Report:
    request_id: str
    duration_ms: float
    memory_size_mb: int
    max_memory_bytes: int
    init_ms: float | None = None
    status: str | None = None  # "timeout", "error"... as Lambda appends them
    error_type: str | None = None

    @property
    def billed_ms(self) -> int:
        # Lambda bills per 1 ms, rounded up; since August 2025 a cold start's init is billed too.
        return max(1, math.ceil(self.duration_ms + (self.init_ms or 0.0)))

    @property
    def max_memory_mb(self) -> int:
        return math.ceil(self.max_memory_bytes / MB)


def start_line(request_id: str, version: str = "$LATEST") -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(r: Report) -> str:
    line = (
        f"REPORT RequestId: {r.request_id}\tDuration: {r.duration_ms:.2f} ms\t"
        f"Billed Duration: {r.billed_ms} ms\tMemory Size: {r.memory_size_mb} MB\t"
        f"Max Memory Used: {r.max_memory_mb} MB\t"
    )
    if r.init_ms is not None:
        line += f"Init Duration: {r.init_ms:.2f} ms\t"
    if r.status:
        line += f"Status: {r.status}\t"
        if r.error_type:
            line += f"Error Type: {r.error_type}\t"
    return line


def timeout_line(request_id: str, timeout_s: float) -> str:
    return f"{request_id} Task timed out after {timeout_s:.2f} seconds"
