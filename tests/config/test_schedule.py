"""EventBridge schedule expressions from plain strings: what parses, and why the rest does not."""

from __future__ import annotations

import pytest

from emulator.config.model import ScheduleTrigger
from emulator.config.schedule import ScheduleError, parse_schedule


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("rate(12 hours)", 43200),
        ("rate(1 day)", 86400),
        ("rate(7 days)", 604800),
        ("  rate(2 minutes) ", 120),
    ],
)
def test_rates(expression, seconds):
    assert parse_schedule(expression) == ScheduleTrigger(expression=expression.strip(), rate_seconds=seconds)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 2 * * ? *)",
        "cron(15 10 ? * 6L 2022-2023)",
        "cron(0/15 8-17 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0 18 ? * mon-fri *)",
        "cron(0 12 15W * ? *)",
        "cron(0 12 L * ? *)",
        "cron(0 12 ? * 3#2 *)",
        "cron(0,30 * ? JAN,JUL SUN 2030)",
        "cron(*/5 * * * ? *)",
        "cron(0 9 ? * L *)",
    ],
)
def test_crons(expression):
    trigger = parse_schedule(expression, input='{"job": 1}')
    assert trigger.cron == tuple(expression[5:-1].split())
    assert (trigger.rate_seconds, trigger.input) == (None, '{"job": 1}')


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("rate(1 minutes)", "with a value of 1 the unit is 'minute'"),
        ("rate(5 hour)", "with a value of 5 the unit is 'hours'"),
        ("rate(0 minutes)", "positive whole number"),
        ("rate(5 seconds)", "minute(s), hour(s) or day(s)"),
        ("rate(-1 minutes)", "is not rate(value unit)"),
        ("rate(1.5 hours)", "is not rate(value unit)"),
        ("rate(5minutes)", "is not rate(value unit)"),
        ("cron(0 2 * * *)", "needs six fields"),
        ("cron(0 2 * * ? * *)", "needs six fields"),
        ("cron(0 2 * * * *)", "exactly one of Day-of-month and Day-of-week must be '?'"),
        ("cron(0 2 ? * ? *)", "exactly one of Day-of-month and Day-of-week must be '?'"),
        ("cron(60 2 * * ? *)", "Minutes '60' is not a value: use 0-59"),
        ("cron(0 24 * * ? *)", "Hours '24' is not a value: use 0-23"),
        ("cron(0 2 32 * ? *)", "Day-of-month '32' is not a value"),
        ("cron(0 2 * 13 ? *)", "Month '13' is not a value: use 1-12 or JAN-DEC"),
        ("cron(0 2 ? * 8 *)", "Day-of-week '8' is not a value: use 1-7 or SUN-SAT"),
        ("cron(0 2 * * ? 1969)", "Year '1969' is not a value: use 1970-2199"),
        ("cron(? 2 * * ? *)", "Minutes '?' is not a value"),
        ("cron(0 2 * * ? */0)", "increment after '/' is a positive whole number"),
        ("cron(0 2 ? * 3#6 *)", "the week after '#' is 1 to 5"),
        ("cron(0 2 ? * 3#1,6#3 *)", "'?' and '#' stand alone"),
        ("cron(0 L * * ? *)", "Hours 'L' is not a value"),
        ("every day", "must be rate(...) or cron(...)"),
        ("cron 0 2 * * ? *", "must be rate(...) or cron(...)"),
    ],
)
def test_invalid_expressions(expression, fragment):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(expression)
    assert fragment in str(info.value)
