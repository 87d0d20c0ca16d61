"""The execution environment lifecycle, as a user sees it through a real ``emu up``.

Scale-out, throttles, idle reaping, provisioned environments, and every way an
environment can fail (timeout, crash, out of memory, broken code, an oversized
response), each followed by an invoke that works. State is read where a user
would read it: the invoke response, its Tail log, and ``/_emu/functions``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

THROTTLE_REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"


def invoke(client, name, payload, **kwargs):
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload), **kwargs)
    body = response["Payload"].read()
    return response, json.loads(body) if body else None


def tail(response) -> str:
    return base64.b64decode(response["LogResult"]).decode()


def report_of(log: str) -> str:
    [report] = [line for line in log.splitlines() if line.startswith("REPORT RequestId: ")]
    return report


def max_memory_mb(report: str) -> int:
    return int(re.search(r"\tMax Memory Used: (\d+) MB\t", report).group(1))


# -- scaling and throttling -----------------------------------------------------

SLOW = """
functions:
  slow:
    runtime: python3.11
    handler: app.handler
    code: ./slow
"""


def test_concurrent_invokes_each_get_an_environment(emu_server):
    emu = emu_server(SLOW, {"slow": "slow"})
    client = emu.lambda_client(max_pool_connections=4)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: invoke(client, "slow", {"sleep": 1.5}), range(4)))

    assert all(r["StatusCode"] == 200 and "FunctionError" not in r for r, _ in results)
    pids = {body["pid"] for _, body in results}
    assert len(pids) == 4
    envs = emu.environments("slow")
    assert {env["pid"] for env in envs} == pids
    assert all(env["state"] == "idle" and env["served"] == 1 for env in envs)


THROTTLED = """
functions:
  limited:
    runtime: python3.11
    handler: app.handler
    code: ./slow
    timeout: 10
    reserved_concurrency: 2
  disabled:
    runtime: python3.11
    handler: app.handler
    code: ./hello
    reserved_concurrency: 0
"""


@pytest.fixture
def throttled(emu_server):
    return emu_server(THROTTLED, {"slow": "slow", "hello": "hello"})


def test_invokes_past_reserved_concurrency_are_throttled(throttled):
    emu = throttled
    client = emu.lambda_client()
    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(invoke, client, "limited", {"sleep": 3}) for _ in range(2)]
        emu.wait_for_environments("limited", lambda envs: [env["state"] for env in envs] == ["busy", "busy"])

        with pytest.raises(client.exceptions.TooManyRequestsException) as info:
            client.invoke(FunctionName="limited", Payload=b"{}")
        assert info.value.response["Reason"] == THROTTLE_REASON
        raw = requests.post(emu.url + "/2015-03-31/functions/limited/invocations", data=b"{}")
        assert raw.status_code == 429
        assert raw.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
        assert raw.json()["Reason"] == THROTTLE_REASON
        assert len(emu.environments("limited")) == 2  # throttled, not queued or scaled past the cap

        results = [future.result() for future in running]
    assert all("FunctionError" not in response for response, _ in results)
    # Capacity is back once they finish, on one of the two warm environments.
    response, body = invoke(client, "limited", {"sleep": 0})
    assert "FunctionError" not in response
    assert body["pid"] in {body["pid"] for _, body in results}


def test_reserved_concurrency_zero_always_throttles(throttled):
    client = throttled.lambda_client()
    for _ in range(2):
        with pytest.raises(client.exceptions.TooManyRequestsException) as info:
            client.invoke(FunctionName="disabled", Payload=b"{}")
        assert info.value.response["Reason"] == THROTTLE_REASON
    assert throttled.environments("disabled") == []


# -- idle reaping, cold starts, provisioned environments --------------------------

HELLO = """
functions:
  hello:
    runtime: python3.11
    handler: app.handler
    code: ./hello
"""


def test_idle_environments_are_reaped_after_idle_ttl(emu_server):
    emu = emu_server("settings: {idle_ttl: 1}\n" + HELLO, {"hello": "hello"})
    client = emu.lambda_client()
    first, body = invoke(client, "hello", {}, LogType="Tail")
    assert "Init Duration: " in tail(first)

    emu.wait_for_environments("hello", lambda envs: envs == [])
    emu.wait_for_exit(body["pid"])

    second, again = invoke(client, "hello", {}, LogType="Tail")
    assert again["pid"] != body["pid"]
    assert "Init Duration: " in tail(second)


@pytest.mark.parametrize(
    "settings, args",
    [("settings: {idle_ttl: 0}\n", []), ("", ["--always-cold"])],
    ids=["idle_ttl_0", "always_cold"],
)
def test_every_invoke_is_cold(emu_server, settings, args):
    emu = emu_server(settings + HELLO, {"hello": "hello"}, args=args)
    client = emu.lambda_client()
    pids = set()
    for n in range(3):
        response, body = invoke(client, "hello", {"n": n}, LogType="Tail")
        assert body["event"] == {"n": n}
        assert "Init Duration: " in tail(response)
        pids.add(body["pid"])
        emu.wait_for_exit(body["pid"])  # retired as soon as it answered
    assert len(pids) == 3


PROVISIONED = """
settings: {idle_ttl: 1}
functions:
  warm:
    runtime: python3.11
    handler: app.handler
    code: ./env_echo
    provisioned_concurrency: 2
  ondemand:
    runtime: python3.11
    handler: app.handler
    code: ./hello
"""


def test_provisioned_environments_start_with_emu_and_are_never_reaped(emu_server):
    emu = emu_server(PROVISIONED, {"env_echo": "env_echo", "hello": "hello"})
    envs = emu.wait_for_environments("warm", lambda envs: len(envs) == 2 and all(env["state"] == "idle" for env in envs))
    assert all(env["provisioned"] for env in envs)
    pids = {env["pid"] for env in envs}

    client = emu.lambda_client()
    response, body = invoke(client, "warm", {"keys": ["AWS_LAMBDA_INITIALIZATION_TYPE"]}, LogType="Tail")
    assert "FunctionError" not in response
    assert body == {"AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency"}
    # Its init was paid before anyone asked, so no invocation reports it.
    assert "Init Duration" not in base64.b64decode(response["LogResult"]).decode()
    assert {env["pid"] for env in emu.environments("warm")} == pids  # served by one of them

    # An on-demand environment idle since after the provisioned ones is reaped:
    # the reaper has run past idle_ttl, and the provisioned ones are still there.
    invoke(client, "ondemand", {})
    emu.wait_for_environments("ondemand", lambda envs: envs == [])
    envs = emu.environments("warm")
    assert {env["pid"] for env in envs} == pids
    assert all(env["state"] == "idle" and env["provisioned"] for env in envs)


# -- failures, each followed by an invoke that works -------------------------------

FAILING = """
functions:
  hangs:
    runtime: python3.11
    handler: app.handler
    code: ./hangs
    timeout: 1
  exits:
    runtime: python3.11
    handler: app.handler
    code: ./exits
  oom:
    runtime: python3.11
    handler: app.handler
    code: ./oom
    memory: 128
  big:
    runtime: python3.11
    handler: app.handler
    code: ./big_response
"""


@pytest.fixture
def failing(emu_server):
    return emu_server(FAILING, {"hangs": "hangs", "exits": "exits", "oom": "oom", "big_response": "big_response"})


def test_timeout_kills_the_environment(failing):
    emu = failing
    client = emu.lambda_client()
    assert invoke(client, "hangs", {"ok": True})[1] == "fine"
    [env] = emu.environments("hangs")

    response, body = invoke(client, "hangs", {}, LogType="Tail")
    rid = response["ResponseMetadata"]["RequestId"]
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds"}
    log = tail(response)
    assert "going to sleep" in log
    assert f"{rid} Task timed out after 1.00 seconds" in log
    assert "\tStatus: timeout\t" in report_of(log)
    emu.wait_for_exit(env["pid"])

    response, body = invoke(client, "hangs", {"ok": True}, LogType="Tail")
    assert "FunctionError" not in response and body == "fine"
    assert "Init Duration: " in tail(response)
    emu.wait_for_environments("hangs", lambda envs: len(envs) == 1 and envs[0]["pid"] != env["pid"])


def test_crash_is_an_exit_error(failing):
    client = failing.lambda_client()
    response, body = invoke(client, "exits", {}, LogType="Tail")
    rid = response["ResponseMetadata"]["RequestId"]
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3"}
    log = tail(response)
    assert "exiting hard" in log  # its last words, written just before it died
    assert "\tStatus: error\tError Type: Runtime.ExitError\t" in report_of(log)

    response, body = invoke(client, "exits", {"ok": True})
    assert "FunctionError" not in response and body == "fine"


@pytest.mark.parametrize("hold", [1.0, 0], ids=["held", "allocate_and_return"])
def test_memory_over_the_limit_is_out_of_memory(failing, hold):
    client = failing.lambda_client()
    response, body = invoke(client, "oom", {"mb": 300, "hold": hold}, LogType="Tail")
    rid = response["ResponseMetadata"]["RequestId"]
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert body["errorMessage"].startswith(f"RequestId: {rid} Error: ")
    report = report_of(tail(response))
    assert max_memory_mb(report) > 128
    assert "\tError Type: Runtime.OutOfMemory\t" in report

    response, body = invoke(client, "oom", {"ok": True})
    assert "FunctionError" not in response and body == "fine"


def test_response_over_6_mb_is_too_large(failing):
    client = failing.lambda_client()
    response, body = invoke(client, "big", {})
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"

    response, body = invoke(client, "big", {"bytes": 1000})
    assert "FunctionError" not in response and body == "x" * 998


BROKEN = """
functions:
  broken:
    runtime: python3.11
    handler: app.handler
    code: ./broken
"""
FIXED_APP = "def handler(event, context):\n    return {'fixed': True}\n"


@pytest.mark.parametrize(
    "code, error_type, message",
    [
        ("import_error", "Runtime.ImportModuleError", "Unable to import module 'app': No module named 'module_that_does_not_exist'"),
        ("syntax_error", "Runtime.UserCodeSyntaxError", "Syntax error in module 'app'"),
    ],
)
def test_init_errors_repeat_until_the_code_is_fixed(emu_server, tmp_path, code, error_type, message):
    emu = emu_server(BROKEN, {"broken": code})
    client = emu.lambda_client()
    for _ in range(2):  # each invoke retries init in a fresh environment, as Lambda does
        response, body = invoke(client, "broken", {}, LogType="Tail")
        assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
        assert body["errorType"] == error_type
        assert body["errorMessage"].startswith(message)
        assert "Init Duration: " in tail(response)
    assert requests.get(emu.url + "/_emu/health", timeout=5).status_code == 200
    emu.wait_for_environments("broken", lambda envs: envs == [])

    # No reload needed: a failed environment is never reused, so the next cold start reads the file.
    (tmp_path / "broken" / "app.py").write_text(FIXED_APP)
    response, body = invoke(client, "broken", {})
    assert "FunctionError" not in response and body == {"fixed": True}


# -- what a function sees -----------------------------------------------------------

ENVIRONMENT = """
settings:
  region: eu-west-1
  env_file: shared.env
functions:
  echo:
    runtime: python3.11
    handler: app.handler
    code: ./echo
    memory: 256
    environment:
      OWN: function
      SHARED: function
"""
PLATFORM_KEYS = [
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV", "_HANDLER", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "TZ", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_LAMBDA",
]


def test_environment_variables(emu_server, tmp_path):
    (tmp_path / "shared.env").write_text("SHARED=file\nFROM_FILE=file\n")
    host = {"AWS_ACCESS_KEY_ID": "AKIDHOST", "AWS_SECRET_ACCESS_KEY": "host-secret", "AWS_SESSION_TOKEN": "host-token", "EMU_TEST_HOST_ONLY": "1"}
    emu = emu_server(ENVIRONMENT, {"echo": "env_echo"}, env=host)
    keys = [*PLATFORM_KEYS, "OWN", "SHARED", "FROM_FILE", "EMU_TEST_HOST_ONLY"]
    response, seen = invoke(emu.lambda_client(), "echo", {"keys": keys})
    assert "FunctionError" not in response, seen

    assert {k: v for k, v in seen.items() if v is None} == {"EMU_TEST_HOST_ONLY": None}  # the shell is not passed through
    assert seen["AWS_LAMBDA_FUNCTION_NAME"] == "echo"
    assert seen["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert seen["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert seen["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/echo"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", seen["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert seen["AWS_REGION"] == seen["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert seen["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert seen["_HANDLER"] == "app.handler"
    assert seen["LAMBDA_TASK_ROOT"] == str((tmp_path / "echo").resolve())
    assert os.path.isdir(seen["LAMBDA_RUNTIME_DIR"])
    runtime_api = re.fullmatch(r"127\.0\.0\.1:(\d+)", seen["AWS_LAMBDA_RUNTIME_API"])
    assert runtime_api and int(runtime_api.group(1)) != emu.port  # a port of its own
    assert seen["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert seen["TZ"] == ":UTC"
    assert (seen["AWS_ACCESS_KEY_ID"], seen["AWS_SECRET_ACCESS_KEY"], seen["AWS_SESSION_TOKEN"]) == ("AKIDHOST", "host-secret", "host-token")
    assert seen["AWS_ENDPOINT_URL_LAMBDA"] == emu.url
    # The function's own variables win over the env file's.
    assert (seen["OWN"], seen["SHARED"], seen["FROM_FILE"]) == ("function", "function", "file")


ECHO = """
functions:
  echo:
    runtime: python3.11
    handler: app.handler
    code: ./echo
"""


def test_dummy_credentials_without_the_users(emu_server):
    emu = emu_server(ECHO, {"echo": "env_echo"}, env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
    _, seen = invoke(emu.lambda_client(), "echo", {"keys": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]})
    assert all(seen.values()), seen  # boto3 in the function must find some credentials


CHAIN = """
functions:
  caller:
    runtime: python3.11
    handler: app.handler
    code: ./chain
    timeout: 30
  hello:
    runtime: python3.11
    handler: app.handler
    code: ./hello
"""


def test_a_function_invokes_another_through_emu(emu_server):
    emu = emu_server(CHAIN, {"chain": "chain", "hello": "hello"})
    response, body = invoke(emu.lambda_client(), "caller", {"target": "hello", "payload": {"from": "caller"}})
    assert "FunctionError" not in response, body
    assert body["status"] == 200 and body["endpoint"] == emu.url
    assert body["result"]["event"] == {"from": "caller"}
