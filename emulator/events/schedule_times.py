"""When a schedule fires next: EventBridge ``rate``/``cron`` and Cloud Scheduler's unix cron.

Sans-io: instants in, instants out, no clock and no timers (those are ``schedules``').
croniter does the calendar arithmetic; this module translates EventBridge's six
cron fields (docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html)
into croniter's syntax, field by field:

    EventBridge                      croniter
    ?                                *            (the other day field decides)
    Day-of-week 1-7, SUN=1           0-6, SUN=0   (names are the same)
    Day-of-week L                    6            (the last day of the week, Saturday)
    Day-of-week nL                   Ln           (the last such weekday of the month)
    Day-of-week n#k                  (n-1)#k      (the k-th such weekday)
    Day-of-month L, nW               l, nW
    Year                             a seventh field, after croniter's seconds field (0)

EventBridge's years run to 2199, croniter's to 2099: the later years are dropped, and a
schedule left with no year fires never (``None``). EventBridge crons and rates are in UTC;
a Cloud Scheduler job's cron is in its time zone, with its daylight-saving jumps.

A rate fires every period from the moment it was armed (EventBridge counts from the
rule's creation); the first fire is one period after.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta, timezone

from croniter import CroniterBadDateError, croniter

from emulator.config.model import ScheduleTrigger

_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_CRONITER_YEARS = (1970, 2099)
_AWS_YEARS = (1970, 2199)
# How far ahead croniter looks for a match (its default, 50, misses a lone far year).
_SEARCH_YEARS = _CRONITER_YEARS[1] - _CRONITER_YEARS[0]


def next_rate(anchor: datetime, period_s: int, after: datetime) -> datetime:
    """The first ``anchor + k * period`` (k ≥ 1) strictly after ``after``."""
    period = timedelta(seconds=period_s)
    if after < anchor:
        return anchor + period
    elapsed = (after - anchor) // period
    return anchor + (elapsed + 1) * period


def croniter_expression(fields: tuple[str, ...]) -> str | None:
    """EventBridge's six cron fields as a croniter expression; ``None`` when no year is left to fire in."""
    minutes, hours, day_of_month, month, day_of_week, year = fields
    parts = [minutes, hours, _day_of_month(day_of_month), month, _day_of_week(day_of_week)]
    if year == "*":
        return " ".join(parts)
    years = _years(year)
    if not years:
        return None
    return " ".join([*parts, "0", ",".join(str(y) for y in years)])


def next_aws_cron(fields: tuple[str, ...], after: datetime) -> datetime | None:
    """The first minute strictly after ``after`` (UTC) that the EventBridge cron matches; ``None``: never again."""
    expression = croniter_expression(fields)
    if expression is None:
        return None
    return _next(expression, after.astimezone(timezone.utc))


def next_unix_cron(expression: str, time_zone: str, after: datetime) -> datetime | None:
    """The first time strictly after ``after`` that a Cloud Scheduler cron matches in ``time_zone``, in UTC."""
    local = after.astimezone(zoneinfo.ZoneInfo(time_zone))
    found = _next(expression, local)
    return None if found is None else found.astimezone(timezone.utc)


def next_eventbridge(trigger: ScheduleTrigger, anchor: datetime, after: datetime) -> datetime | None:
    """When an EventBridge schedule fires next after ``after``; a rate counts from ``anchor``."""
    if trigger.rate_seconds is not None:
        return next_rate(anchor, trigger.rate_seconds, after)
    assert trigger.cron is not None
    return next_aws_cron(trigger.cron, after)


def _next(expression: str, after: datetime) -> datetime | None:
    try:
        found: datetime = croniter(expression, after, max_years_between_matches=_SEARCH_YEARS).get_next(datetime)
    except CroniterBadDateError:  # nothing matches in the years croniter searches
        return None
    return found


def _day_of_month(field: str) -> str:
    if field == "?":
        return "*"
    return "l" if field.upper() == "L" else field.upper()


def _day_of_week(field: str) -> str:
    if field == "?":
        return "*"
    return ",".join(_day_of_week_item(item) for item in field.upper().split(","))


def _day_of_week_item(item: str) -> str:
    if item == "L":
        return "6"
    if item.endswith("L"):
        return f"L{_weekday(item[:-1])}"
    if "#" in item:
        day, _, nth = item.partition("#")
        return f"{_weekday(day)}#{nth}"
    start, slash, step = item.partition("/")
    if start == "*":
        return item
    low, dash, high = start.partition("-")
    text = str(_weekday(low)) + (f"-{_weekday(high)}" if dash else "")
    return text + (f"/{step}" if slash else "")


def _weekday(text: str) -> int:
    """EventBridge's day (1-7 or SUN-SAT) as croniter's number, SUN=0."""
    if text in _DAY_NAMES:
        return _DAY_NAMES.index(text)
    return int(text) - 1


def _years(field: str) -> list[int]:
    """The years an EventBridge Year field names, within croniter's range."""
    years: set[int] = set()
    for item in field.split(","):
        start, slash, step = item.partition("/")
        low, dash, high = start.partition("-")
        if low == "*":
            first, last = _AWS_YEARS
        else:
            first = int(low)
            last = int(high) if dash else (_AWS_YEARS[1] if slash else first)
        years.update(range(first, last + 1, int(step) if slash else 1))
    return sorted(y for y in years if _CRONITER_YEARS[0] <= y <= _CRONITER_YEARS[1])
