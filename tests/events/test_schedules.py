"""Which schedules a function has and what they are called, and the schedule clock, with plain data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from emulator.config.model import FunctionSpec, ScheduleTrigger, SqsTrigger, TriggerSpec
from emulator.config.schedule import parse_schedule
from emulator.events.schedules import Schedule, ScheduleClock, schedules_of


def test_a_functions_schedules_are_named_in_order() -> None:
    daily, hourly = parse_schedule("cron(0 2 * * ? *)"), parse_schedule("rate(1 hour)")
    spec = FunctionSpec("fn", "aws", "python3.11", "app.handler", Path("."), events=(daily, SqsTrigger("q"), hourly))
    assert schedules_of(spec) == [Schedule("fn", "fn-schedule", daily), Schedule("fn", "fn-schedule-2", hourly)]
    assert schedules_of(FunctionSpec("none", "aws", "python3.11", "app.handler", Path("."))) == []


def test_a_gcp_schedule_trigger_is_one_schedule() -> None:
    trigger = TriggerSpec(kind="schedule", schedule="*/5 * * * *")
    spec = FunctionSpec("web", "gcp", "python311", "", Path("."), trigger=trigger)
    assert schedules_of(spec) == [Schedule("web", "web-schedule", trigger)]
    assert schedules_of(FunctionSpec("sub", "gcp", "python311", "", Path("."), trigger=TriggerSpec(kind="pubsub", topic="t"))) == []


def test_a_sped_up_clock_waits_that_much_less_and_keeps_its_time_when_the_pace_changes() -> None:
    clock = ScheduleClock(speedup=60)
    # An hour of schedule time is a minute of real time, give or take the microseconds this takes.
    assert 59.9 < clock.real_seconds_until(clock.now() + timedelta(hours=1)) <= 60
    before = clock.now()
    clock.set_speedup(1)
    assert clock.speedup == 1 and clock.now() >= before
    assert clock.now() - before < timedelta(seconds=1)  # no jump
    assert clock.real_seconds_until(before - timedelta(hours=1)) == 0  # the past is due now


def test_equal_schedules_compare_equal_so_a_reload_keeps_their_timers() -> None:
    assert Schedule("fn", "fn-schedule", ScheduleTrigger("rate(1 hour)", 3600)) == Schedule("fn", "fn-schedule", parse_schedule("rate(1 hour)"))
