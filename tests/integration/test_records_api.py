"""Invocation records through the admin surface: every outcome on both clouds, queries, the live log, persistence."""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import EmuProcess

CONFIG = """
functions:
  hello:
    runtime: python3.11
    handler: app.handler
    code: ./hello
    memory: 256
  raises:
    runtime: python3.11
    handler: app.handler
    code: ./raises
  hangs:
    runtime: python3.11
    handler: app.handler
    code: ./hangs
    timeout: 1
  exits:
    runtime: python3.11
    handler: app.handler
    code: ./exits
  disabled:
    runtime: python3.11
    handler: app.handler
    code: ./hello
    reserved_concurrency: 0
  web:
    provider: gcp
    runtime: python311
    entry_point: echo
    code: ./web
    generation: 1
  broken:
    provider: gcp
    runtime: python311
    entry_point: broken
    code: ./broken
  on_job:
    provider: gcp
    runtime: python311
    entry_point: on_cloud_event
    code: ./events
    trigger: {pubsub: jobs}
"""
FUNCTIONS = {"hello": "hello", "raises": "raises", "hangs": "hangs", "exits": "exits", "web": "gcp_http",
             "broken": "gcp_fail", "events": "gcp_events"}


@pytest.fixture(scope="module")
def emu(emu_module_server: Any) -> EmuProcess:
    return emu_module_server(CONFIG, FUNCTIONS)


def invoke(emu: EmuProcess, name: str, payload: dict | None = None) -> requests.Response:
    return requests.post(f"{emu.url}/2015-03-31/functions/{name}/invocations", json=payload or {},
                         headers={"X-Amz-Log-Type": "Tail"}, timeout=30)


def records(emu: EmuProcess, **params: Any) -> list[dict]:
    response = requests.get(f"{emu.url}/_emu/invocations", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["invocations"]


def record(emu: EmuProcess, key: str) -> dict:
    response = requests.get(f"{emu.url}/_emu/invocations/{key}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_cold_then_a_warm_lambda_invocation(emu: EmuProcess) -> None:
    first, second = invoke(emu, "hello", {"n": 1}), invoke(emu, "hello", {"n": 2})
    warm, cold = records(emu, function="hello", limit=2)  # newest first
    assert cold["id"] == first.headers["x-amzn-requestid"] and warm["id"] == second.headers["x-amzn-requestid"]
    assert (cold["cold"], warm["cold"]) == (True, False)
    assert cold["init_ms"] > 0 and warm["init_ms"] is None
    assert (cold["provider"], cold["trigger"], cold["outcome"], cold["memory_mb"]) == ("aws", "direct", "ok", 256)
    # Billed per 1 ms, with a cold start's init billed too (the JSON rounds to 0.01 ms).
    assert cold["billed_ms"] - 1 - 0.01 <= cold["duration_ms"] + cold["init_ms"] <= cold["billed_ms"] + 0.01
    assert warm["billed_ms"] - 1 - 0.01 <= warm["duration_ms"] <= warm["billed_ms"] + 0.01
    tail = base64.b64decode(first.headers["x-amz-log-result"]).decode()
    assert cold["report"] in tail and f"Billed Duration: {cold['billed_ms']} ms" in cold["report"]
    assert cold["peak_memory_mb"] > 0 and cold["start"].endswith("Z")


def test_one_record_carries_its_log(emu: EmuProcess) -> None:
    response = invoke(emu, "hello")
    request_id = response.headers["x-amzn-requestid"]
    detail = record(emu, request_id)
    lines = detail["log"].splitlines()
    assert lines[0].startswith(f"START RequestId: {request_id}")
    assert "hello from hello" in lines and lines[-1] == detail["report"]
    assert record(emu, str(detail["seq"]))["id"] == request_id
    missing = requests.get(f"{emu.url}/_emu/invocations/no-such-id", timeout=10)
    assert missing.status_code == 404 and "no-such-id" in missing.json()["message"]


@pytest.mark.parametrize(
    ("name", "outcome", "error_type"),
    [
        ("raises", "error", "OrderError"),
        ("hangs", "timeout", "Sandbox.Timedout"),
        ("exits", "crash", "Runtime.ExitError"),
        ("disabled", "throttled", "ReservedFunctionConcurrentInvocationLimitExceeded"),
    ],
)
def test_each_lambda_outcome_is_recorded(emu: EmuProcess, name: str, outcome: str, error_type: str) -> None:
    invoke(emu, name)
    (latest,) = records(emu, function=name, limit=1)
    assert (latest["outcome"], latest["error_type"]) == (outcome, error_type)
    if outcome == "throttled":
        assert (latest["billed_ms"], latest["report"]) == (0, None)
    elif outcome == "error":  # a handler's error: REPORT has no Status, as in Lambda
        assert "Status" not in latest["report"]
    else:
        assert f"Status: {outcome if outcome == 'timeout' else 'error'}" in latest["report"]


def test_gcp_requests_are_recorded_with_100_ms_billing_and_their_status(emu: EmuProcess) -> None:
    answer = requests.get(f"{emu.url}/web/some/path", timeout=30)
    (latest,) = records(emu, function="web", limit=1)
    assert latest["id"] == answer.headers["function-execution-id"]
    assert (latest["provider"], latest["trigger"], latest["status"], latest["outcome"], latest["platform"]) == (
        "gcp", "http", 200, "ok", "gen1")
    assert latest["billed_ms"] == max(100, math.ceil(latest["duration_ms"] / 100) * 100) and latest["report"] is None
    assert "Function execution took" in record(emu, latest["id"])["log"]
    requests.get(f"{emu.url}/broken", timeout=30)
    (failed,) = records(emu, function="broken", limit=1)
    assert (failed["outcome"], failed["status"]) == ("crash", 500)


def test_an_event_delivery_names_its_trigger(emu: EmuProcess) -> None:
    data = base64.b64encode(b'{"job": 1}').decode()
    requests.post(f"{emu.url}/v1/projects/p/topics/jobs:publish", json={"messages": [{"data": data}]}, timeout=10)
    deadline = time.monotonic() + 20
    while not (found := records(emu, function="on_job")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found and found[0]["trigger"] == "pubsub" and found[0]["outcome"] == "ok"


def test_since_takes_a_seq_an_id_or_a_time_and_limit_bounds(emu: EmuProcess) -> None:
    invoke(emu, "hello")
    mark = records(emu, limit=1)[0]
    ids = [invoke(emu, "hello").headers["x-amzn-requestid"] for _ in range(3)]
    assert [r["id"] for r in records(emu, since=mark["seq"])] == ids[::-1]
    assert [r["id"] for r in records(emu, since=mark["id"])] == ids[::-1]
    assert [r["id"] for r in records(emu, since=ids[0], limit=1)] == [ids[2]]
    later = records(emu, function="hello", since=record(emu, ids[1])["start"])
    assert [r["id"] for r in later] == ids[:0:-1]
    for bad, message in (({"since": "yesterday"}, "since"), ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit")):
        response = requests.get(f"{emu.url}/_emu/invocations", params=bad, timeout=10)
        assert response.status_code == 400 and message in response.json()["message"]


def test_stats_and_usage_summarise_the_records(emu: EmuProcess) -> None:
    invoke(emu, "hello")
    stats = {s["function"]: s for s in requests.get(f"{emu.url}/_emu/stats", timeout=10).json()["functions"]}
    hello = stats["hello"]
    assert hello["invocations"] >= 2 and hello["cold_starts"] >= 1 and hello["errors"] == 0
    assert set(hello["duration_ms"]) == {"p50", "p95", "p99"}
    usage = {u["function"]: u for u in requests.get(f"{emu.url}/_emu/usage", timeout=10).json()["functions"]}
    assert usage["hello"]["memory_mb"] == 256 and len(usage["hello"]["durations_ms"]) == hello["invocations"]
    assert "disabled" not in usage  # throttled invocations ran nowhere and bill nothing
    assert usage["web"]["generation"] == 1 and usage["hello"]["span_s"] > 0


def test_functions_list_their_triggers(emu: EmuProcess) -> None:
    functions = emu.functions()
    assert functions["hello"]["triggers"] == ["direct"] and functions["hello"]["signature"] is None
    assert functions["on_job"]["triggers"] == ["pubsub jobs"] and functions["on_job"]["signature"] == "cloudevent"
    assert functions["web"]["triggers"] == ["http"]


def test_the_live_log_serves_recent_lines_and_streams_new_ones(emu: EmuProcess) -> None:
    invoke(emu, "hello")
    recent = requests.get(f"{emu.url}/_emu/logs", params={"function": "hello", "lines": 3}, timeout=10).json()["lines"]
    assert [line["text"].split(" ")[0] for line in recent] == ["hello", "END", "REPORT"]
    assert {line["function"] for line in recent} == {"hello"}

    seen: list[dict] = []
    with requests.get(f"{emu.url}/_emu/logs", params={"follow": 1, "function": "hello"}, stream=True, timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")

        def read() -> None:
            for raw in stream.iter_lines():
                if raw.startswith(b"data: "):
                    seen.append(json.loads(raw[6:]))
                    if seen[-1]["text"].startswith("REPORT"):
                        return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        time.sleep(0.2)
        request_id = invoke(emu, "hello").headers["x-amzn-requestid"]
        invoke(emu, "raises")  # another function's lines are not this stream's
        reader.join(10)
    assert [line["text"].split(" ")[0] for line in seen] == ["START", "hello", "END", "REPORT"]
    assert request_id in seen[0]["text"]


def test_records_outlive_emu_and_go_where_state_dir_says(emu_server: Any, tmp_path: Path) -> None:
    config = "settings: {state_dir: ../state}\n" + CONFIG.split("  raises:")[0]
    first = emu_server(config, {"hello": "hello"})
    request_id = invoke(first, "hello").headers["x-amzn-requestid"]
    first.stop()
    state = first.root.parent / "state" / "invocations.sqlite3"
    assert state.is_file() and not (first.root / ".emu" / "invocations.sqlite3").exists()
    again = EmuProcess(first.root, [])
    try:
        again.wait_ready()
        assert request_id in [r["id"] for r in records(again)]
    finally:
        again.stop()
