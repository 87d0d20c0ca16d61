"""Lambda's recursive-loop detection, for object events: chains, their counts, the stop at 16.

Lambda tracks each chain of requests in the X-Ray trace header. An event that
invokes a function is stamped with how many times its chain has invoked each
function so far (the header's ``Lineage`` field, ``Lineage=12326a9d:1``); the
runtime hands the header to the function (``_X_AMZN_TRACE_ID``), and the AWS SDK
sends it back as ``X-Amzn-Trace-Id`` on every call the function makes while it
handles that invocation (botocore's ``add_recursion_detection_header``). So an
object the function writes carries its chain, and once a chain would invoke the
same function a 17th time, Lambda drops the event and says so
(docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html; "drops requests
after exceeding 16 invocations", AWS Compute Blog, July 2023).

emu does the same with ``Chain`` values: an S3 API write carrying a trace header
continues that header's chain; a write with none starts a new one. A file written
straight into a bucket's folder carries no header, so ``LoopGuard`` guesses: if the
object-event invocations running when it was noticed (or ended just before) all
belong to one chain, the write is taken to be theirs (a function writing back into
its own bucket is exactly that), otherwise it starts a new chain. The guess can err only towards continuing a chain,
and a chain is stopped only after 16 invocations of one function, so a mistaken
stop needs 16 unrelated drops each landing while one lone chain is running.

Sans-io: values in, values out; the caller logs and delivers.
"""

from __future__ import annotations

import itertools
import random
import re
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import unquote

# Lambda stops a chain that would invoke one function more often than this.
MAX_INVOCATIONS = 16
# How long after an invocation ends a write without a trace may still be its: the
# watcher hears of a file some milliseconds after it was written, often after the
# invocation that wrote it has answered.
UNTRACED_GRACE_S = 0.5

_ROOT = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")
_LINEAGE_ENTRY = re.compile(r"([0-9a-f]{8}):(\d{1,9})")
_random = random.Random()


def function_hash(function: str) -> str:
    """The 8 hex digits that stand for ``function`` in a ``Lineage`` field."""
    return f"{zlib.crc32(function.encode()):08x}"


def new_root() -> str:
    """An X-Ray trace root: version, epoch seconds in hex, 96 random bits."""
    return f"1-{int(time.time()):08x}-{_random.getrandbits(96):024x}"


@dataclass(frozen=True, slots=True)
class Chain:
    """One chain of requests: its trace root and how often it has invoked each function."""

    root: str = field(default_factory=new_root)
    lineage: tuple[tuple[str, int], ...] = ()  # (function_hash, invocations), sorted

    def count(self, function: str) -> int:
        wanted = function_hash(function)
        return next((n for h, n in self.lineage if h == wanted), 0)

    def entered(self, function: str) -> Chain:
        """This chain once it has invoked ``function`` once more."""
        counts = dict(self.lineage)
        key = function_hash(function)
        counts[key] = counts.get(key, 0) + 1
        return Chain(self.root, tuple(sorted(counts.items())))

    def trace_header(self) -> str:
        """The trace header an invocation in this chain runs under (``Lambda-Runtime-Trace-Id``)."""
        header = f"Root={self.root};Parent={_random.getrandbits(64):016x};Sampled=0"
        if self.lineage:
            header += ";Lineage=" + "|".join(f"{h}:{n}" for h, n in self.lineage)
        return header

    def merged(self, other: Chain) -> Chain:
        """The two views of one chain as one: the larger count of each function."""
        counts = dict(self.lineage)
        for h, n in other.lineage:
            counts[h] = max(n, counts.get(h, 0))
        return Chain(self.root, tuple(sorted(counts.items())))


def parse_trace_header(value: str | None) -> Chain | None:
    """The chain an ``X-Amzn-Trace-Id`` header continues, or None when it names none.

    botocore percent-encodes the header (``|`` becomes ``%7C``); fields come in any order.
    """
    if not value:
        return None
    fields = dict(part.split("=", 1) for part in unquote(value).split(";") if "=" in part)
    root = fields.get("Root", "").strip()
    if not _ROOT.fullmatch(root):
        return None
    counts: dict[str, int] = {}
    for entry in fields.get("Lineage", "").split("|"):
        if match := _LINEAGE_ENTRY.fullmatch(entry.strip()):
            counts[match[1]] = max(int(match[2]), counts.get(match[1], 0))
    return Chain(root, tuple(sorted(counts.items())))


@dataclass(slots=True)
class _Run:
    chain: Chain
    began: float
    ended: float | None = None


class LoopGuard:
    """Which chains have object-event invocations running, and whether a chain may go on.

    Times are ``time.monotonic()`` seconds, passed in. A run that has ended still
    counts for ``grace`` seconds: the invocation may well have answered before the
    watcher heard of the file it wrote.
    """

    def __init__(self, limit: int = MAX_INVOCATIONS, grace: float = UNTRACED_GRACE_S) -> None:
        self.limit = limit
        self.grace = grace
        self._runs: dict[int, _Run] = {}
        self._tokens = itertools.count()

    def admit(self, chain: Chain, function: str) -> Chain | None:
        """The chain as ``function``'s next invocation runs it, or None: the loop must stop here."""
        if chain.count(function) >= self.limit:
            return None
        return chain.entered(function)

    def began(self, chain: Chain, now: float) -> int:
        """Note an invocation running in ``chain``; the token is for ``ended``."""
        self._prune(now)
        token = next(self._tokens)
        self._runs[token] = _Run(chain, now)
        return token

    def ended(self, token: int, now: float) -> None:
        run = self._runs.get(token)
        if run is not None:
            run.ended = now

    def running(self) -> int:
        return sum(1 for run in self._runs.values() if run.ended is None)

    def chain_of_untraced_write(self, at: float) -> Chain:
        """The chain a write noticed ``at`` without a trace header most likely belongs to (see the module's docstring)."""
        chains = [
            run.chain
            for run in self._runs.values()
            if run.began <= at and (run.ended is None or run.ended >= at - self.grace)
        ]
        if not chains or any(c.root != chains[0].root for c in chains):
            return Chain()
        merged = chains[0]
        for chain in chains[1:]:
            merged = merged.merged(chain)
        return merged

    def _prune(self, now: float) -> None:
        # Keep ended runs a while longer than the grace: a write is judged a little after it is noticed.
        stale = [t for t, run in self._runs.items() if run.ended is not None and run.ended < now - 10 * self.grace]
        for token in stale:
            del self._runs[token]
