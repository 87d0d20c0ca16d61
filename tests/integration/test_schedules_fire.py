"""Schedules through a real ``emu up``: fired on request through the admin surface, on their own with a
sped-up clock, for Lambda (EventBridge's Scheduled Event) and Cloud Functions (Cloud Scheduler's POST)."""

from __future__ import annotations

import json
import re
import time

import requests

CONFIG = """
settings:
  schedule_speedup: {speedup}
functions:
  nightly:
    runtime: python3.11
    handler: app.handler
    code: ./log
    events:
      - schedule: cron(0 2 * * ? *)
  report:
    runtime: python3.11
    handler: app.handler
    code: ./log
    events:
      - schedule: {{expression: rate(1 hour), input: '{{"job": "report", "n": 1}}'}}
      - schedule: rate(1 day)
  plain:
    runtime: python3.11
    handler: app.handler
    code: ./log
  tick:
    provider: gcp
    runtime: python311
    entry_point: tick
    code: ./tick
    trigger: {{schedule: "0 9 * * MON-FRI", time_zone: Europe/Berlin, body: '{{"from": "scheduler"}}'}}
"""
FUNCTIONS = {"log": "event_log", "tick": "gcp_scheduled"}
SETTLE_S = 0.5


def events(emu) -> list[dict]:
    return [json.loads(line.split("| EVENT ", 1)[1]) for line in emu.log().splitlines() if "| EVENT " in line]


def calls(emu) -> list[dict]:
    """What the GCP function printed for each request: its method, headers and body."""
    found = []
    for line in emu.log().splitlines():
        if "CALLED " in line:
            # functions-framework wraps printed lines in a JSON log entry.
            text = line.split("| ", 1)[1]
            message = json.loads(text)["message"] if text.startswith("{") else text
            found.append(json.loads(message.split("CALLED ", 1)[1]))
    return found


def fire(emu, function: str) -> requests.Response:
    return requests.post(f"{emu.url}/_emu/schedules/{function}/fire", timeout=5)


def test_firing_a_schedule_delivers_the_scheduled_event(emu_server):
    emu = emu_server(CONFIG.format(speedup=1), FUNCTIONS)
    answer = fire(emu, "nightly")
    assert answer.status_code == 200 and answer.json() == {"function": "nightly", "fired": ["nightly-schedule"]}
    emu.wait_for_log("| EVENT ")
    [item] = events(emu)
    event = item["event"]
    assert (item["function"], event["detail-type"], event["source"], event["detail"]) == ("nightly", "Scheduled Event", "aws.events", {})
    assert (event["version"], event["account"], event["region"]) == ("0", "123456789012", "us-east-1")
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/nightly-schedule"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert re.fullmatch(r"[0-9a-f-]{36}", event["id"])


def test_a_targets_input_replaces_the_event_and_every_schedule_of_the_function_fires(emu_server):
    emu = emu_server(CONFIG.format(speedup=1), FUNCTIONS)
    assert fire(emu, "report").json()["fired"] == ["report-schedule", "report-schedule-2"]
    emu.wait_for_log("| EVENT ", count=2)
    time.sleep(SETTLE_S)
    received = [e["event"] for e in events(emu)]
    assert len(received) == 2
    assert {"job": "report", "n": 1} in received
    [scheduled] = [e for e in received if "detail-type" in e]
    assert scheduled["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/report-schedule-2"]


def test_the_admin_surface_lists_schedules_and_refuses_a_function_without_one(emu_server):
    emu = emu_server(CONFIG.format(speedup=1), FUNCTIONS)
    listed = requests.get(emu.url + "/_emu/schedules", timeout=5).json()["schedules"]
    assert [(s["function"], s["name"], s["provider"], s["expression"], s["fired"]) for s in listed] == [
        ("nightly", "nightly-schedule", "aws", "cron(0 2 * * ? *)", 0),
        ("report", "report-schedule", "aws", "rate(1 hour)", 0),
        ("report", "report-schedule-2", "aws", "rate(1 day)", 0),
        ("tick", "tick-schedule", "gcp", "0 9 * * MON-FRI in Europe/Berlin", 0),
    ]
    assert all(s["next"].endswith("Z") for s in listed)
    assert next(s for s in listed if s["function"] == "nightly")["next"].endswith("T02:00:00Z")
    missing = fire(emu, "plain")
    assert missing.status_code == 404 and "has no schedule" in missing.json()["message"]
    assert requests.get(f"{emu.url}/_emu/schedules/nightly/fire", timeout=5).status_code == 405


def test_a_scheduled_cloud_function_gets_cloud_schedulers_post(emu_server):
    emu = emu_server(CONFIG.format(speedup=1), FUNCTIONS)
    assert fire(emu, "tick").json() == {"function": "tick", "fired": ["tick-schedule"]}
    emu.wait_for_log("CALLED ")
    [call] = calls(emu)
    headers = call["headers"]
    assert call["method"] == "POST" and call["body"] == '{"from": "scheduler"}'
    assert headers["user-agent"] == "Google-Cloud-Scheduler"
    assert headers["x-cloudscheduler"] == "true"
    assert headers["x-cloudscheduler-jobname"] == "tick-schedule"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers["x-cloudscheduler-scheduletime"])
    assert headers["content-type"] == "application/octet-stream"


def test_schedules_fire_on_their_own_on_a_sped_up_clock(emu_server):
    # At 3600x an hour passes each second: rate(1 hour) fires every second, and an
    # every-minute Cloud Scheduler job sixty times as often.
    config = CONFIG.format(speedup=3600).replace('"0 9 * * MON-FRI"', '"0 * * * *"')
    emu = emu_server(config, FUNCTIONS)
    log = emu.wait_for_log("schedule report-schedule (rate(1 hour)): firing report", count=2)
    assert "schedule tick-schedule (0 * * * * in Europe/Berlin): firing tick" in emu.wait_for_log("CALLED ", count=2)
    emu.wait_for_log("| EVENT ", count=2)
    assert {"job": "report", "n": 1} in [e["event"] for e in events(emu)]
    # Each Cloud Scheduler call says which hour (on the schedule's clock) it stands for.
    times = [c["headers"]["x-cloudscheduler-scheduletime"] for c in calls(emu)]
    assert all(t.endswith(":00:00Z") for t in times) and len(set(times)) == len(times)
    assert log.count("schedule report-schedule (rate(1 hour)): firing report") >= 2


def test_schedules_follow_config_reloads(emu_server, tmp_path):
    emu = emu_server(CONFIG.format(speedup=1), FUNCTIONS)
    emu_yaml = emu.root / "emu.yaml"
    emu_yaml.write_text(emu_yaml.read_text().replace("      - schedule: cron(0 2 * * ? *)\n", "      - schedule: cron(30 4 * * ? *)\n"))
    emu.wait_for_log("nightly: reconfigured")
    listed = wait_for_schedules(emu, lambda s: s.get("nightly-schedule", {}).get("expression") == "cron(30 4 * * ? *)")
    assert listed["nightly-schedule"]["next"].endswith("T04:30:00Z")
    emu_yaml.write_text(emu_yaml.read_text().replace("    events:\n      - schedule: cron(30 4 * * ? *)\n", ""))
    emu.wait_for_log("nightly: reconfigured", count=2)
    listed = wait_for_schedules(emu, lambda s: "nightly-schedule" not in s)
    assert sorted(listed) == ["report-schedule", "report-schedule-2", "tick-schedule"]
    assert fire(emu, "nightly").status_code == 404


def wait_for_schedules(emu, check, timeout: float = 10) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while True:
        listed = {s["name"]: s for s in requests.get(emu.url + "/_emu/schedules", timeout=5).json()["schedules"]}
        if check(listed) or time.monotonic() > deadline:
            assert check(listed), listed
            return listed
        time.sleep(0.05)


def test_emu_events_endpoint_sends_a_scheduled_event_to_its_rules_function(emu_server):
    emu = emu_server(CONFIG.format(speedup=1), FUNCTIONS)
    event = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {},
             "resources": ["arn:aws:events:us-east-1:123456789012:rule/nightly-schedule"]}
    assert requests.post(emu.url + "/_emu/events/aws/schedule", json=event, timeout=5).json() == {"functions": ["nightly"]}
    # A rule emu does not know (emu event's default) goes to every scheduled Lambda function.
    other = {**event, "resources": ["arn:aws:events:us-east-1:123456789012:rule/emu-schedule"]}
    assert requests.post(emu.url + "/_emu/events/aws/schedule", json=other, timeout=5).json() == {"functions": ["nightly", "report"]}
    emu.wait_for_log("| EVENT ", count=3)
    assert requests.post(emu.url + "/_emu/events/aws/schedule", json={"no": "resources"}, timeout=5).status_code == 400
