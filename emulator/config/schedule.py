"""EventBridge schedule expressions: ``rate(...)`` and ``cron(...)``, checked as EventBridge checks them.

Owns the syntax only; when a schedule fires is the schedule trigger's business.
``parse_schedule`` returns a ``ScheduleTrigger`` or raises ``ScheduleError`` with a
message the config readers put after the file, function and key.

Follows docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html:

    rate(value unit)        value a positive whole number; unit minute(s), hour(s) or day(s),
                            singular exactly when value is 1: rate(1 hour), rate(5 minutes)
    cron(Min Hour DoM Month DoW Year)
        Minutes       0-59                 , - * /
        Hours         0-23                 , - * /
        Day-of-month  1-31                 , - * ? / L W
        Month         1-12 or JAN-DEC      , - * /
        Day-of-week   1-7 or SUN-SAT       , - * ? L #
        Year          1970-2199            , - * /
    One of Day-of-month and Day-of-week must be ``?`` and the other must not.

Cloud Scheduler's jobs (a GCP function's ``trigger: {schedule: ...}``) take unix cron
instead, in a time zone from the tz database
(cloud.google.com/scheduler/docs/configuring/cron-job-schedules):

    Minute Hour Day-of-month Month Day-of-week     five fields; * , - / and names
                                                   (JAN-DEC, SUN-SAT; 0 and 7 are Sunday)
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

from croniter import croniter

from emulator.config.model import ScheduleTrigger


class ScheduleError(ValueError):
    """An expression EventBridge would refuse; the message says why."""


_RATE = re.compile(r"rate\(\s*(?P<value>\d+)\s+(?P<unit>[a-z]+)\s*\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_CRON = re.compile(r"cron\((?P<fields>[^()]*)\)")


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names for low, low+1, ...
    specials: str = ""  # wildcards beyond , - * / that this field allows


# (name, range, names, extra wildcards) per position, in cron order.
_FIELDS = (
    _Field("Minutes", 0, 59),
    _Field("Hours", 0, 23),
    _Field("Day-of-month", 1, 31, specials="?LW"),
    _Field("Month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
    _Field("Day-of-week", 1, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), specials="?L#"),
    _Field("Year", 1970, 2199),
)
_DAY_OF_MONTH, _DAY_OF_WEEK = 2, 4


def parse_schedule(expression: str, input: str | None = None) -> ScheduleTrigger:
    """The trigger for ``expression``; ``ScheduleError`` when EventBridge would refuse it."""
    text = expression.strip()
    if text.startswith("rate("):
        return ScheduleTrigger(expression=text, rate_seconds=_rate(text), input=input)
    if text.startswith("cron("):
        return ScheduleTrigger(expression=text, cron=_cron(text), input=input)
    raise ScheduleError(f"must be rate(...) or cron(...), got {expression!r}")


def _rate(text: str) -> int:
    match = _RATE.fullmatch(text)
    if match is None:
        raise ScheduleError(f"{text!r} is not rate(value unit), e.g. rate(5 minutes)")
    value, unit = int(match["value"]), match["unit"]
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in _UNIT_SECONDS:
        raise ScheduleError(f"{text!r}: the unit must be minute(s), hour(s) or day(s)")
    if value < 1:
        raise ScheduleError(f"{text!r}: the value must be a positive whole number")
    if (value == 1) != (unit == singular):
        wanted = singular if value == 1 else singular + "s"
        raise ScheduleError(f"{text!r}: with a value of {value} the unit is '{wanted}'")
    return value * _UNIT_SECONDS[singular]


def _cron(text: str) -> tuple[str, ...]:
    match = _CRON.fullmatch(text)
    fields = tuple(match["fields"].split()) if match else ()
    if len(fields) != len(_FIELDS):
        raise ScheduleError(
            f"{text!r} needs six fields: cron(Minutes Hours Day-of-month Month Day-of-week Year)"
        )
    for field, value in zip(_FIELDS, fields):
        try:
            _check_field(field, value)
        except ScheduleError as exc:
            raise ScheduleError(f"{text!r}: {field.name} {exc}") from None
    day_of_month, day_of_week = fields[_DAY_OF_MONTH], fields[_DAY_OF_WEEK]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleError(f"{text!r}: exactly one of Day-of-month and Day-of-week must be '?'")
    return fields


def _check_field(field: _Field, value: str) -> None:
    items = value.upper().split(",")
    if len(items) > 1 and ("?" in items or "#" in value):
        raise ScheduleError(f"{value!r}: '?' and '#' stand alone")
    for item in items:
        _check_item(field, item)


def _check_item(field: _Field, item: str) -> None:
    if item == "*" or (item == "?" and "?" in field.specials):
        return
    if "L" in field.specials and item == "L":
        return
    if "W" in field.specials and item.endswith("W"):  # 15W: the weekday nearest the 15th
        _number(field, item[:-1])
        return
    if "#" in field.specials and "#" in item:  # 3#2: the second Tuesday
        day, _, nth = item.partition("#")
        _number(field, day)
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise ScheduleError(f"{item!r}: the week after '#' is 1 to 5")
        return
    if "L" in field.specials and field.names and item.endswith("L"):  # 6L: the last Friday
        _number(field, item[:-1])
        return
    start, slash, step = item.partition("/")
    if slash and (not step.isdigit() or int(step) < 1):
        raise ScheduleError(f"{item!r}: the increment after '/' is a positive whole number")
    if start == "*" and slash:
        return
    low, dash, high = start.partition("-")
    _number(field, low)
    if dash:
        _number(field, high)


def _number(field: _Field, text: str) -> int:
    if text in field.names:
        return field.low + field.names.index(text)
    if text.isdigit() and field.low <= int(text) <= field.high:
        return int(text)
    names = f" or {field.names[0]}-{field.names[-1]}" if field.names else ""
    raise ScheduleError(f"{text!r} is not a value: use {field.low}-{field.high}{names}")


# Each piece of a unix cron field, between , - and /: a number, *, or a month or day name.
# Quartz's ? L W # and croniter's H are not unix cron.
_UNIX_CRON_PIECE = re.compile(r"\d+|\*|" + "|".join(_FIELDS[3].names + _FIELDS[4].names), re.IGNORECASE)


def parse_unix_cron(expression: str) -> str:
    """A Cloud Scheduler schedule, its fields joined by single spaces; ``ScheduleError`` if unix cron refuses it."""
    if expression.strip().startswith(("rate(", "cron(")):
        raise ScheduleError(
            f"{expression!r}: Cloud Scheduler takes unix cron, five fields like '*/5 * * * *', not EventBridge's syntax"
        )
    fields = expression.split()
    if len(fields) != 5:
        raise ScheduleError(f"{expression!r} needs five fields: Minute Hour Day-of-month Month Day-of-week")
    for field in fields:
        if not all(_UNIX_CRON_PIECE.fullmatch(piece) for piece in re.split(r"[,/-]", field)):
            raise ScheduleError(f"{expression!r}: {field!r} is not unix cron (use numbers, names, * , - and /)")
    text = " ".join(fields)
    if not croniter.is_valid(text):
        raise ScheduleError(f"{expression!r} is not a valid schedule: a value is out of range")
    return text


def check_time_zone(name: str) -> str:
    """``name`` if the tz database knows it (``Europe/Berlin``, ``Etc/UTC``); ``ScheduleError`` otherwise."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name!r}: use a tz database name like 'Europe/Berlin' or 'Etc/UTC'") from None
    return name
