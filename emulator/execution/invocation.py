"""One invocation of a function, from the request that made it to its outcome.

An ``Invocation`` is created by a surface, handed to a pool, delivered to one
environment over the Runtime API and resolved with an ``Outcome``. It also
collects the log lines written while it ran, for ``X-Amz-Log-Result``.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from enum import Enum

# Lambda returns the last 4 KB of the log with LogType=Tail.
TAIL_BYTES = 4096
# Enough log kept per invocation for the tail and for records; output past it is dropped.
_LOG_LIMIT = 256 * 1024


class Status(Enum):
    SUCCESS = "success"
    ERROR = "error"  # the handler raised (or the runtime posted an error)
    INIT_ERROR = "init_error"
    TIMEOUT = "timeout"
    CRASH = "crash"
    OUT_OF_MEMORY = "oom"


# Ids need to be unique, not secret: the random module costs no system call.
_random = random.Random()


def new_request_id() -> str:
    return str(uuid.UUID(int=_random.getrandbits(128), version=4))


def new_trace_id() -> str:
    """An X-Ray trace header, shaped as Lambda hands it to the runtime."""
    return f"Root=1-{int(time.time()):08x}-{_random.getrandbits(96):024x};Parent={_random.getrandbits(64):016x};Sampled=0"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the caller gets: the payload, and when the function failed, its error type."""

    status: Status
    payload: bytes
    error_type: str | None = None
    log: bytes = b""

    @property
    def is_error(self) -> bool:
        return self.status is not Status.SUCCESS


@dataclass(slots=True, eq=False)
class Invocation:
    function: str
    payload: bytes
    function_arn: str = ""
    request_id: str = field(default_factory=new_request_id)
    client_context: str | None = None
    trace_id: str = field(default_factory=new_trace_id)
    future: asyncio.Future[Outcome] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    log: list[bytes] = field(default_factory=list)
    log_size: int = 0
    delivered_at: float = 0.0  # monotonic seconds; 0 until the runtime has it
    deadline_ms: int = 0  # wall-clock epoch ms, as Lambda-Runtime-Deadline-Ms
    cold: bool = False  # it waited for its environment's init: REPORT carries Init Duration
    # What made it, for its record: direct (the Invoke API), api, url, s3, sqs, sns, schedule…
    trigger: str = "direct"

    def add_log(self, line: bytes) -> None:
        if self.log_size < _LOG_LIMIT:
            self.log.append(line)
            self.log_size += len(line) + 1

    def log_bytes(self) -> bytes:
        return b"\n".join(self.log) + b"\n" if self.log else b""

    def resolve(self, outcome: Outcome) -> None:
        if not self.future.done():
            self.future.set_result(outcome)

    @property
    def is_done(self) -> bool:
        return self.future.done()
