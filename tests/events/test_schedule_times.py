"""When schedules fire next, from plain data: EventBridge crons (? L W # ranges steps years), rates, unix cron in a time zone."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from emulator.config.model import TriggerSpec
from emulator.config.schedule import parse_schedule
from emulator.events.schedule_times import croniter_expression, next_aws_cron, next_eventbridge, next_rate, next_unix_cron
from emulator.events.schedules import Schedule

UTC = timezone.utc
# A Saturday, half a minute past ten.
SAT = datetime(2024, 6, 1, 10, 0, 30, tzinfo=UTC)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def fires(expression: str, after: datetime = SAT, count: int = 3) -> list[datetime]:
    trigger = parse_schedule(expression)
    times: list[datetime] = []
    moment = after
    for _ in range(count):
        found = next_eventbridge(trigger, after, moment)
        if found is None:
            break
        times.append(found)
        moment = found
    return times


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # Every day at 02:00: the next one is tomorrow's.
        ("cron(0 2 * * ? *)", [at(2024, 6, 2, 2), at(2024, 6, 3, 2), at(2024, 6, 4, 2)]),
        # Every five minutes, from the next multiple of five.
        ("cron(*/5 * * * ? *)", [at(2024, 6, 1, 10, 5), at(2024, 6, 1, 10, 10), at(2024, 6, 1, 10, 15)]),
        # 0/15: from minute 0, every 15 minutes, 08:00-17:45 on weekdays (2-6 is MON-FRI).
        ("cron(0/15 8-17 ? * MON-FRI *)", [at(2024, 6, 3, 8), at(2024, 6, 3, 8, 15), at(2024, 6, 3, 8, 30)]),
        ("cron(0/15 8-17 ? * 2-6 *)", [at(2024, 6, 3, 8), at(2024, 6, 3, 8, 15), at(2024, 6, 3, 8, 30)]),
        # Day-of-week numbers: 1 is Sunday, 7 is Saturday.
        ("cron(0 9 ? * 1 *)", [at(2024, 6, 2, 9), at(2024, 6, 9, 9), at(2024, 6, 16, 9)]),
        ("cron(0 9 ? * 7 *)", [at(2024, 6, 8, 9), at(2024, 6, 15, 9), at(2024, 6, 22, 9)]),
        ("cron(0 9 ? * 1,7 *)", [at(2024, 6, 2, 9), at(2024, 6, 8, 9), at(2024, 6, 9, 9)]),
        # L alone in Day-of-week is the last day of the week, Saturday.
        ("cron(0 9 ? * L *)", [at(2024, 6, 8, 9), at(2024, 6, 15, 9), at(2024, 6, 22, 9)]),
        # 6L: the last Friday of the month; FRIL spells the same.
        ("cron(15 10 ? * 6L *)", [at(2024, 6, 28, 10, 15), at(2024, 7, 26, 10, 15), at(2024, 8, 30, 10, 15)]),
        ("cron(15 10 ? * FRIL *)", [at(2024, 6, 28, 10, 15), at(2024, 7, 26, 10, 15), at(2024, 8, 30, 10, 15)]),
        # 3#2: the second Tuesday.
        ("cron(0 12 ? * 3#2 *)", [at(2024, 6, 11, 12), at(2024, 7, 9, 12), at(2024, 8, 13, 12)]),
        # L in Day-of-month: the month's last day, leap February included.
        ("cron(0 12 L * ? *)", [at(2024, 6, 30, 12), at(2024, 7, 31, 12), at(2024, 8, 31, 12)]),
        ("cron(0 0 L 2 ? *)", [at(2025, 2, 28), at(2026, 2, 28), at(2027, 2, 28)]),
        # 15W: the weekday nearest the 15th (June 15th 2024 is a Saturday: Friday 14th).
        ("cron(0 12 15W * ? *)", [at(2024, 6, 14, 12), at(2024, 7, 15, 12), at(2024, 8, 15, 12)]),
        # Named months and a year.
        ("cron(0,30 6 ? JAN,JUL SUN 2030)", [at(2030, 1, 6, 6), at(2030, 1, 6, 6, 30), at(2030, 1, 13, 6)]),
        ("cron(0 8 1 * ? *)", [at(2024, 7, 1, 8), at(2024, 8, 1, 8), at(2024, 9, 1, 8)]),
        # A year range and a step: 2025, 2027, 2029…
        ("cron(0 0 1 1 ? 2025-2030/2)", [at(2025, 1, 1), at(2027, 1, 1), at(2029, 1, 1)]),
    ],
)
def test_eventbridge_crons(expression: str, expected: list[datetime]) -> None:
    assert fires(expression) == expected


def test_a_cron_whose_years_are_past_never_fires_again() -> None:
    assert fires("cron(15 10 ? * 6L 2022-2023)") == []


def test_years_past_2099_are_dropped_and_a_schedule_left_with_none_never_fires() -> None:
    assert croniter_expression(parse_schedule("cron(0 0 1 1 ? 2150)").cron or ()) is None
    assert fires("cron(0 0 1 1 ? 2098-2150)", count=5) == [at(2098, 1, 1), at(2099, 1, 1)]


def test_an_impossible_day_never_fires() -> None:
    assert fires("cron(0 0 30 2 ? *)") == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (("0", "2", "*", "*", "?", "*"), "0 2 * * *"),
        (("0", "2", "?", "*", "MON-FRI", "*"), "0 2 * * 1-5"),
        (("0", "2", "?", "*", "1-7/2", "*"), "0 2 * * 0-6/2"),
        (("0", "2", "?", "*", "6L", "*"), "0 2 * * L5"),
        (("0", "2", "?", "*", "L", "*"), "0 2 * * 6"),
        (("0", "2", "?", "*", "3#2", "*"), "0 2 * * 2#2"),
        (("0", "2", "L", "*", "?", "*"), "0 2 l * *"),
        (("0", "2", "15W", "*", "?", "*"), "0 2 15W * *"),
        (("0", "2", "1", "*", "?", "2030,2031"), "0 2 1 * * 0 2030,2031"),
    ],
)
def test_croniter_translation(fields: tuple[str, ...], expected: str) -> None:
    assert croniter_expression(fields) == expected


def test_a_rate_fires_every_period_from_when_it_was_armed() -> None:
    anchor = at(2024, 6, 1, 10, 0, 0)
    assert next_rate(anchor, 300, anchor) == at(2024, 6, 1, 10, 5)
    assert next_rate(anchor, 300, at(2024, 6, 1, 10, 4, 59)) == at(2024, 6, 1, 10, 5)
    assert next_rate(anchor, 300, at(2024, 6, 1, 10, 5)) == at(2024, 6, 1, 10, 10)
    # Fires missed (a suspended laptop) are skipped, not caught up.
    assert next_rate(anchor, 300, at(2024, 6, 1, 13, 2)) == at(2024, 6, 1, 13, 5)
    assert fires("rate(1 hour)") == [at(2024, 6, 1, 11, 0, 30), at(2024, 6, 1, 12, 0, 30), at(2024, 6, 1, 13, 0, 30)]
    assert fires("rate(2 days)", count=1) == [at(2024, 6, 3, 10, 0, 30)]


def test_unix_cron_runs_in_its_time_zone() -> None:
    # 09:00 in Berlin is 07:00 UTC in summer, 08:00 in winter.
    assert next_unix_cron("0 9 * * *", "Europe/Berlin", SAT) == at(2024, 6, 2, 7)
    assert next_unix_cron("0 9 * * *", "Europe/Berlin", at(2024, 12, 1)) == at(2024, 12, 1, 8)
    assert next_unix_cron("*/5 * * * *", "Etc/UTC", SAT) == at(2024, 6, 1, 10, 5)
    assert next_unix_cron("0 9 * * MON-FRI", "America/New_York", SAT) == at(2024, 6, 3, 13)


def test_unix_cron_across_daylight_saving_time() -> None:
    # Berlin skips 02:00-03:00 on 31 March 2024: a 02:30 job runs when the clock reaches 03:00.
    assert next_unix_cron("30 2 * * *", "Europe/Berlin", at(2024, 3, 30, 12)) == at(2024, 3, 31, 1)
    # Hourly stays hourly in real time across the jump.
    assert next_unix_cron("0 * * * *", "Europe/Berlin", at(2024, 3, 31, 0, 30)) == at(2024, 3, 31, 1)


def test_unix_cron_day_fields_are_either_or_as_in_unix_cron() -> None:
    # The 1st of the month, or any Monday.
    assert next_unix_cron("0 0 1 * MON", "Etc/UTC", SAT) == at(2024, 6, 3)
    assert next_unix_cron("0 0 1 * MON", "Etc/UTC", at(2024, 6, 25)) == at(2024, 7, 1)


def test_a_schedule_dispatches_on_its_timetable() -> None:
    aws = Schedule("fn", "fn-schedule", parse_schedule("cron(0 2 * * ? *)"))
    gcp = Schedule("fn", "fn-schedule", TriggerSpec(kind="schedule", schedule="0 2 * * *", time_zone="Asia/Tokyo"))
    assert aws.next_after(SAT, SAT) == at(2024, 6, 2, 2)
    assert gcp.next_after(SAT, SAT) == at(2024, 6, 1, 17)  # 02:00 in Tokyo is 17:00 UTC the day before
    assert (aws.expression, gcp.expression) == ("cron(0 2 * * ? *)", "0 2 * * * in Asia/Tokyo")


def test_aws_cron_is_utc_whatever_the_caller_passes() -> None:
    from zoneinfo import ZoneInfo

    local = SAT.astimezone(ZoneInfo("Asia/Tokyo"))
    assert next_aws_cron(("0", "2", "*", "*", "?", "*"), local) == at(2024, 6, 2, 2)
