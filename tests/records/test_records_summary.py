"""Stats and cost usage from stored measurements: plain data, no files."""

from __future__ import annotations

from emulator.records.summary import Measurement, SessionSpan, function_stats, usage_from_json, usage_json, usages


def m(function: str = "f", duration: float = 10.0, cold: bool = False, outcome: str = "ok", session: int = 1,
      provider: str = "aws", platform: str = "x86_64", init: float | None = None, at: float = 100.0,
      memory: int = 128) -> Measurement:
    return Measurement(function, provider, platform, memory, cold, outcome, duration, init, at, session)


def test_stats_count_cold_starts_errors_and_percentiles() -> None:
    rows = [m(duration=float(d)) for d in range(1, 101)]
    rows[0] = m(duration=1.0, cold=True, init=200.0)
    rows += [m(outcome="error"), m(outcome="timeout"), m(outcome="throttled", duration=0.0)]
    (stats,) = function_stats(rows)
    assert stats["invocations"] == 103
    assert stats["cold_starts"] == 1 and stats["cold_start_ratio"] == round(1 / 102, 4)
    assert stats["errors"] == 2 and stats["throttled"] == 1
    assert stats["outcomes"] == {"ok": 100, "error": 1, "timeout": 1, "throttled": 1}
    # Nearest rank over the 102 that ran: 1..100 ms, and the two failures' 10 ms.
    assert stats["duration_ms"] == {"p50": 49.0, "p95": 95.0, "p99": 99.0}
    assert stats["init_ms"] == {"p50": 200.0}


def test_stats_are_per_function_in_name_order() -> None:
    assert [s["function"] for s in function_stats([m("b"), m("a"), m("b")])] == ["a", "b"]
    assert function_stats([]) == []


def test_usage_bills_lambda_init_on_cold_starts_and_leaves_throttles_out() -> None:
    rows = [m(duration=100.0, cold=True, init=50.0), m(duration=100.0), m(outcome="throttled", duration=0.0)]
    (usage,) = usages(rows, [SessionSpan(1, 0.0, 60.0, 50.0)], now=1000.0)
    assert usage.durations_ms == (150.0, 100.0)
    assert usage.span_s == 60.0 and usage.product == "lambda-x86_64"


def test_usage_of_a_gcp_function_takes_its_generation_and_no_init() -> None:
    rows = [m(provider="gcp", platform="gen1", duration=30.0, cold=True, init=500.0, memory=256)]
    (usage,) = usages(rows, [SessionSpan(1, 0.0, None, 40.0)], now=1000.0)
    assert (usage.product, usage.memory_mb, usage.durations_ms) == ("gcf-gen1", 256, (30.0,))
    assert usage.span_s == 40.0  # a session that never stopped ends at its last record


def test_the_span_sums_the_sessions_that_recorded_the_function_and_runs_to_now_for_the_live_one() -> None:
    sessions = [SessionSpan(1, 0.0, 100.0, 90.0), SessionSpan(2, 500.0, 600.0, None), SessionSpan(3, 1000.0, None, 1010.0)]
    rows = [m(session=1), m(session=3)]
    (usage,) = usages(rows, sessions, now=1300.0, live=3)
    assert usage.span_s == 100.0 + 300.0


def test_usage_round_trips_through_json() -> None:
    (usage,) = usages([m(duration=12.3456)], [SessionSpan(1, 0.0, 10.0, None)], now=0.0)
    assert usage_from_json(usage_json(usage)) == usage
