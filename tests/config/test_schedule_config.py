"""Schedules in config: Cloud Scheduler's unix cron and time zones, a GCP function's schedule trigger,
the schedule and SQS settings, and an EventBridge target's input."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from emulator.config import load_project
from emulator.config.model import Project, Settings, TriggerSpec
from emulator.config.schedule import ScheduleError, check_time_zone, parse_unix_cron
from emulator.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    for folder, source in (("web", "def web(request):\n    return 'ok'\n"), ("fn", "def handler(e, c):\n    return e\n")):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / ("main.py" if folder == "web" else "app.py")).write_text(source)
    path = tmp_path / "emu.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def gcp(trigger: str, extra: str = "", settings: str = "") -> str:
    return settings + f"functions:\n  web:\n    provider: gcp\n    runtime: python311\n    code: ./web\n    trigger: {trigger}\n{extra}"


def aws(events: str, settings: str = "") -> str:
    return settings + f"functions:\n  fn:\n    runtime: python3.11\n    handler: app.handler\n    code: ./fn\n    events: {events}\n"


def load(tmp_path: Path, text: str) -> Project:
    return load_project(write(tmp_path, text))


def load_error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_project(write(tmp_path, text))
    return info.value


# -- unix cron and time zones, as plain strings ------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("*/5 * * * *", "*/5 * * * *"),
        ("  0   9 * * MON-FRI ", "0 9 * * MON-FRI"),
        ("0 0 1 jan *", "0 0 1 jan *"),
        ("0-30/10 8-18 1,15 */2 0", "0-30/10 8-18 1,15 */2 0"),
        ("0 9 * * 7", "0 9 * * 7"),
        ("0 9 * * THU", "0 9 * * THU"),
    ],
)
def test_unix_crons(expression, expected):
    assert parse_unix_cron(expression) == expected


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("* * * *", "needs five fields"),
        ("0 9 * * * *", "needs five fields"),
        ("rate(5 minutes)", "not EventBridge's syntax"),
        ("cron(0 9 * * ? *)", "not EventBridge's syntax"),
        ("0 9 ? * *", "'?' is not unix cron"),
        ("0 9 L * *", "'L' is not unix cron"),
        ("0 9 * * 1#2", "'1#2' is not unix cron"),
        ("H 9 * * *", "'H' is not unix cron"),
        ("61 * * * *", "a value is out of range"),
        ("0 9 * * 8", "a value is out of range"),
        ("0 9 32 * *", "a value is out of range"),
    ],
)
def test_what_unix_cron_refuses(expression, fragment):
    with pytest.raises(ScheduleError, match=fragment):
        parse_unix_cron(expression)


def test_time_zones():
    assert check_time_zone("Europe/Berlin") == "Europe/Berlin"
    assert check_time_zone("Etc/UTC") == "Etc/UTC"
    for bad in ("Mars/Olympus", "CEST+2", "../etc"):
        with pytest.raises(ScheduleError, match="unknown time zone"):
            check_time_zone(bad)


# -- a GCP function's schedule trigger -----------------------------------------------------------


def test_schedule_trigger_defaults_to_utc_and_no_body(tmp_path):
    spec = load(tmp_path, gcp("{schedule: '*/5 * * * *'}")).functions["web"]
    assert spec.trigger == TriggerSpec(kind="schedule", schedule="*/5 * * * *", time_zone="Etc/UTC")
    assert not spec.is_event_driven  # an HTTP function: HTTP's timeout range applies
    assert spec.timeout == 60


def test_schedule_trigger_with_time_zone_and_body(tmp_path):
    text = gcp("\n      schedule: 0 9 * * MON-FRI\n      time_zone: America/New_York\n      body: '{\"job\": 1}'", "    timeout: 1800\n")
    spec = load(tmp_path, text).functions["web"]
    assert spec.trigger == TriggerSpec(kind="schedule", schedule="0 9 * * MON-FRI", time_zone="America/New_York", body='{"job": 1}')
    assert spec.timeout == 1800


@pytest.mark.parametrize(
    ("trigger", "extra", "key", "fragment"),
    [
        ("{schedule: 'rate(5 minutes)'}", "", "trigger.schedule", "not EventBridge's syntax"),
        ("{schedule: '0 9 ? * *'}", "", "trigger.schedule", "is not unix cron"),
        ("{schedule: 5}", "", "trigger.schedule", "must be a non-empty string"),
        ("{schedule: '* * * * *', time_zone: Mars/Olympus}", "", "trigger.time_zone", "unknown time zone"),
        ("{schedule: '* * * * *', body: 5}", "", "trigger.body", "must be a non-empty string"),
        ("{schedule: '* * * * *', timezone: UTC}", "", "trigger.timezone", "did you mean 'time_zone'?"),
        ("{schedule: '* * * * *', pubsub: orders}", "", "trigger", "give either pubsub or schedule, not both"),
        ("{schedule: '* * * * *'}", "    signature: cloudevent\n", "signature", "a scheduled function is an HTTP function"),
    ],
)
def test_invalid_schedule_triggers(tmp_path, trigger, extra, key, fragment):
    error = load_error(tmp_path, gcp(trigger, extra))
    assert (error.function, error.key) == ("web", key), str(error)
    assert fragment in str(error)


# -- settings ----------------------------------------------------------------------------------------


def test_schedule_and_sqs_settings(tmp_path):
    settings = "settings:\n  schedule_speedup: 60\n  sqs_visibility_timeout: 0.2\n"
    project = load(tmp_path, aws("[{sqs: jobs}]", settings))
    assert (project.settings.schedule_speedup, project.settings.sqs_visibility_timeout) == (60, 0.2)
    assert (Settings().schedule_speedup, Settings().sqs_visibility_timeout) == (1.0, 1.0)


@pytest.mark.parametrize(
    ("settings", "key", "fragment"),
    [
        ("schedule_speedup: 0.5\n", "settings.schedule_speedup", "must be between 1 and 3600, got 0.5"),
        ("schedule_speedup: 100000\n", "settings.schedule_speedup", "must be between 1 and 3600"),
        ("schedule_speedup: fast\n", "settings.schedule_speedup", "must be a number"),
        ("sqs_visibility_timeout: -1\n", "settings.sqs_visibility_timeout", "must be between 0 and 43200"),
    ],
)
def test_invalid_schedule_and_sqs_settings(tmp_path, settings, key, fragment):
    error = load_error(tmp_path, aws("[]", "settings:\n  " + settings))
    assert error.key == key and fragment in str(error), str(error)


# -- an EventBridge target's input ----------------------------------------------------------------


def test_schedule_input_must_be_json_text(tmp_path):
    error = load_error(tmp_path, aws("[{schedule: {expression: rate(1 hour), input: 'not json'}}]"))
    assert error.key == "events[0].schedule.input" and "must be valid JSON text" in str(error)
    trigger = load(tmp_path, aws("[{schedule: {expression: rate(1 hour), input: '[1, 2]'}}]")).functions["fn"].events[0]
    assert trigger.input == "[1, 2]"
