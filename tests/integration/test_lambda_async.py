"""Event (asynchronous) invocations through a real ``emu up``: accepted at once, retried, never throttled.

Each attempt logs its own ``START RequestId: <id>`` with the event's one request
id, so attempts are counted in emu's log.
"""

from __future__ import annotations

import json
import threading
import time

CONFIG = """
settings:
  async_retry_delays: [0.2, 0.2]
functions:
  raises:
    runtime: python3.11
    handler: app.handler
    code: ./raises
  hello:
    runtime: python3.11
    handler: app.handler
    code: ./hello
  single:
    runtime: python3.11
    handler: app.handler
    code: ./slow
    timeout: 10
    reserved_concurrency: 1
"""
FUNCTIONS = {"raises": "raises", "hello": "hello", "slow": "slow"}


def send_event(client, name: str, payload: object) -> str:
    response = client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload))
    assert response["StatusCode"] == 202
    return response["ResponseMetadata"]["RequestId"]


def test_a_failing_event_is_retried_twice_with_the_same_request_id(emu_server):
    emu = emu_server(CONFIG, FUNCTIONS)
    rid = send_event(emu.lambda_client(), "raises", {})
    log = emu.wait_for_log(f"event {rid} failed after 3 attempts (OrderError); dropped")
    assert log.count(f"START RequestId: {rid} ") == 3
    assert log.count(f"END RequestId: {rid}") == 3
    assert log.count("about to fail") == 3


def test_a_succeeding_event_runs_once(emu_server):
    emu = emu_server(CONFIG, FUNCTIONS)
    rid = send_event(emu.lambda_client(), "hello", {"async": True})
    emu.wait_for_log(f"END RequestId: {rid}")
    time.sleep(1)  # well past the retry delays: a retry would have started by now
    log = emu.log()
    assert log.count(f"START RequestId: {rid} ") == 1
    assert f"retrying event {rid}" not in log


def test_an_event_for_a_busy_function_is_accepted_and_runs_later(emu_server):
    emu = emu_server(CONFIG, FUNCTIONS)
    client = emu.lambda_client()
    sync: dict = {}
    busy = threading.Thread(target=lambda: sync.update(client.invoke(FunctionName="single", Payload=b'{"sleep": 1.5}')))
    busy.start()
    try:
        emu.wait_for_environments("single", lambda envs: [env["state"] for env in envs] == ["busy"])
        # A synchronous invoke is throttled now; an event is accepted and waits its turn.
        try:
            client.invoke(FunctionName="single", Payload=b'{"sleep": 0}')
        except client.exceptions.TooManyRequestsException:
            pass
        else:
            raise AssertionError("a second synchronous invoke was not throttled")
        rid = send_event(client, "single", {"sleep": 0})
    finally:
        busy.join()
    assert "FunctionError" not in sync
    log = emu.wait_for_log(f"END RequestId: {rid}")
    sync_rid = sync["ResponseMetadata"]["RequestId"]
    assert log.index(f"START RequestId: {rid} ") > log.index(f"END RequestId: {sync_rid}")
    assert log.count(f"START RequestId: {rid} ") == 1
