"""Stored records, summarised: per-function stats (``emu stats``) and cost ``Usage`` (``emu cost``).

Pure functions over ``Measurement`` rows, so a running emu (``/_emu/stats``,
``/_emu/usage``) and a stopped one (the SQLite file) give the same answers.

The recording's span, from which ``emu cost`` extrapolates a month, is the time
emu was up: the sum over ``emu up`` sessions that recorded the function of each
session's start to its stop (the last record's end, for one that did not stop
cleanly; now, for the session still running).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence, TypedDict

from emulator.cost.model import Usage, percentile
from emulator.records.record import iso_time


@dataclass(frozen=True, slots=True)
class Measurement:
    """One stored invocation, as stats and cost see it."""

    function: str
    provider: str
    platform: str
    memory_mb: int
    cold: bool
    outcome: str
    duration_ms: float
    init_ms: float | None
    started_at: float
    session: int

    @property
    def billed_duration_ms(self) -> float:
        # Lambda bills a cold start's init too (since August 2025); Cloud Functions bills the request.
        if self.provider == "aws" and self.cold and self.init_ms is not None:
            return self.duration_ms + self.init_ms
        return self.duration_ms


@dataclass(frozen=True, slots=True)
class SessionSpan:
    id: int
    started_at: float
    stopped_at: float | None
    last_end: float | None  # the end of its last recorded invocation

    def end(self, live: int | None, now: float) -> float:
        if self.id == live:
            return now
        return self.stopped_at or self.last_end or self.started_at


class StatsJson(TypedDict):
    function: str
    provider: str
    invocations: int
    cold_starts: int
    cold_start_ratio: float | None
    duration_ms: dict[str, float | None]
    init_ms: dict[str, float | None]
    errors: int
    throttled: int
    outcomes: dict[str, int]
    first: str
    last: str


def function_stats(measurements: Iterable[Measurement]) -> list[StatsJson]:
    """Per function, in name order: counts, cold-start ratio, duration percentiles, errors.

    Throttled invocations count as invocations but ran nowhere: they are left out of
    the cold-start ratio and the durations.
    """
    by_function: dict[str, list[Measurement]] = {}
    for m in measurements:
        by_function.setdefault(m.function, []).append(m)
    out: list[StatsJson] = []
    for name in sorted(by_function):
        rows = by_function[name]
        ran = [m for m in rows if m.outcome != "throttled"]
        durations = [m.duration_ms for m in ran]
        inits = [m.init_ms for m in ran if m.cold and m.init_ms is not None]
        outcomes: dict[str, int] = {}
        for m in rows:
            outcomes[m.outcome] = outcomes.get(m.outcome, 0) + 1
        cold = sum(1 for m in ran if m.cold)
        throttled = outcomes.get("throttled", 0)
        out.append({
            "function": name,
            "provider": rows[-1].provider,
            "invocations": len(rows),
            "cold_starts": cold,
            "cold_start_ratio": round(cold / len(ran), 4) if ran else None,
            "duration_ms": {f"p{p}": _round(percentile(durations, p)) for p in (50, 95, 99)},
            "init_ms": {"p50": _round(percentile(inits, 50))},
            "errors": len(rows) - outcomes.get("ok", 0) - throttled,
            "throttled": throttled,
            "outcomes": outcomes,
            "first": iso_time(min(m.started_at for m in rows)),
            "last": iso_time(max(m.started_at for m in rows)),
        })
    return out


def usages(measurements: Iterable[Measurement], sessions: Sequence[SessionSpan], now: float,
           live: int | None = None) -> list[Usage]:
    """One cost ``Usage`` per function from what ran (throttled invocations bill nothing).

    Memory and platform are the function's latest, for a function edited along the way.
    """
    by_function: dict[str, list[Measurement]] = {}
    for m in measurements:
        if m.outcome != "throttled":
            by_function.setdefault(m.function, []).append(m)
    spans = {s.id: max(0.0, s.end(live, now) - s.started_at) for s in sessions}
    out = []
    for name in sorted(by_function):
        rows = by_function[name]
        latest = rows[-1]
        span = sum(spans.get(session, 0.0) for session in {m.session for m in rows})
        out.append(Usage(
            function=name,
            provider="gcp" if latest.provider == "gcp" else "aws",
            memory_mb=latest.memory_mb,
            durations_ms=tuple(m.billed_duration_ms for m in rows),
            span_s=span or None,
            architecture="arm64" if latest.platform == "arm64" else "x86_64",
            generation=1 if latest.platform == "gen1" else 2,
        ))
    return out


def usage_json(usage: Usage) -> dict[str, Any]:
    """A ``Usage`` as ``/_emu/usage`` serves it; ``usage_from_json`` reads it back."""
    return {
        "function": usage.function,
        "provider": usage.provider,
        "memory_mb": usage.memory_mb,
        "architecture": usage.architecture,
        "generation": usage.generation,
        "span_s": usage.span_s,
        "durations_ms": list(usage.durations_ms),
    }


def usage_from_json(doc: dict[str, Any]) -> Usage:
    return Usage(
        function=str(doc["function"]),
        provider="gcp" if doc["provider"] == "gcp" else "aws",
        memory_mb=int(doc["memory_mb"]),
        durations_ms=tuple(float(d) for d in doc["durations_ms"]),
        span_s=None if doc.get("span_s") is None else float(doc["span_s"]),
        architecture="arm64" if doc.get("architecture") == "arm64" else "x86_64",
        generation=int(doc.get("generation") or 2),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
