"""A Cloud Function's instances, as a user sees them through a real ``emu up``.

Cold and warm starts, scale-out to ``max_instances`` and Cloud Run's 429 past it,
min instances and idle reaping, ``--always-cold``, the gen1 and gen2 timeouts,
and every way an instance can fail (exception, exit, import error, memory),
each followed by a request that works. State is read where a user would read
it: the response, emu's log and ``/_emu/functions``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import psutil
import pytest
import requests

from conftest import EmuProcess

CONFIG = """
functions:
  fresh:
    provider: gcp
    runtime: python311
    entry_point: echo
    code: ./http
  web:
    provider: gcp
    runtime: python311
    entry_point: echo
    code: ./http
    project: demo-project
    environment: {GREETING: hello}
  web1:
    provider: gcp
    runtime: python311
    entry_point: echo
    code: ./http
    generation: 1
  raises:
    provider: gcp
    runtime: python311
    entry_point: raises
    code: ./http
  exits:
    provider: gcp
    runtime: python311
    entry_point: exits
    code: ./http
  hog:
    provider: gcp
    runtime: python311
    entry_point: hog
    code: ./http
    memory: 256
  broken:
    provider: gcp
    runtime: python311
    entry_point: broken
    code: ./broken
  slow1:
    provider: gcp
    runtime: python311
    entry_point: slow
    code: ./http
    generation: 1
    timeout: 1
  slow2:
    provider: gcp
    runtime: python311
    entry_point: slow
    code: ./http
    timeout: 1
  dies:
    provider: gcp
    runtime: python311
    entry_point: dies
    code: ./dies
  digest:
    provider: gcp
    runtime: python311
    entry_point: digest
    code: ./bodies
  stream:
    provider: gcp
    runtime: python311
    entry_point: stream
    code: ./bodies
"""
FUNCTIONS = {"http": "gcp_http", "broken": "gcp_fail", "bodies": "gcp_bodies", "dies": "gcp_dies"}
LOG_LINE = re.compile(
    r"Function execution took (\d+) ms, finished with status code: (\d+)\texecution_id=(\S+)\t"
    r"(cold \(init \d+ ms\)|warm)\tbilled=(\d+) ms\tmemory=(\d+) MB"
)


@pytest.fixture(scope="module")
def emu(emu_module_server: Callable[..., EmuProcess]) -> EmuProcess:
    return emu_module_server(CONFIG, FUNCTIONS)


def get(emu: EmuProcess, path: str, **kwargs: object) -> requests.Response:
    return requests.get(emu.url + path, timeout=30, **kwargs)


def request_lines(emu: EmuProcess, function: str) -> list[re.Match[str]]:
    """The per-request log lines of ``function``, oldest first."""
    prefix = re.compile(rf"{re.escape(function)} +\| ")
    return [m for line in emu.log().splitlines() if prefix.match(line) and (m := LOG_LINE.search(line))]


def log_line_of(emu: EmuProcess, function: str, execution_id: str) -> re.Match[str]:
    emu.wait_for_log(f"execution_id={execution_id}\t")
    [line] = [m for m in request_lines(emu, function) if m[3] == execution_id]
    return line


def only_pid(emu: EmuProcess, function: str) -> int:
    [env] = emu.environments(function)
    return env["pid"]


# -- cold and warm ----------------------------------------------------------------


def test_cold_then_warm_on_the_same_instance(emu: EmuProcess) -> None:
    first = get(emu, "/fresh/first")
    second = get(emu, "/fresh/second")

    assert first.status_code == second.status_code == 200
    assert first.json()["pid"] == second.json()["pid"]
    ids = [r.headers["Function-Execution-Id"] for r in (first, second)]
    assert ids[0] != ids[1]
    # The function is told its execution id, as functions-framework expects.
    assert first.json()["headers"]["function-execution-id"] == ids[0]

    cold, warm = (log_line_of(emu, "fresh", i) for i in ids)
    assert cold[4].startswith("cold (init ") and warm[4] == "warm"
    assert cold[2] == warm[2] == "200"
    for line in (cold, warm):
        assert int(line[5]) >= 100 and int(line[5]) % 100 == 0  # billed in 100 ms steps
        assert int(line[5]) >= int(line[1])
        assert int(line[6]) > 0
    [env] = emu.environments("fresh")
    assert env["state"] == "idle" and env["served"] == 2 and env["init_ms"] > 0


# -- the platform's variables -------------------------------------------------------


def test_gen2_environment(emu: EmuProcess) -> None:
    env = get(emu, "/web").json()["env"]
    port = int(env.pop("PORT"))
    assert port != emu.port
    assert env == {
        "K_SERVICE": "web",
        "K_REVISION": env["K_REVISION"],
        "K_CONFIGURATION": "web",
        "FUNCTION_TARGET": "echo",
        "FUNCTION_SIGNATURE_TYPE": "http",
        "GOOGLE_CLOUD_PROJECT": "demo-project",
        "LOG_EXECUTION_ID": "true",
        "GREETING": "hello",
    }
    assert env["K_REVISION"].startswith("web-")


def test_gen1_environment_has_no_log_execution_id(emu: EmuProcess) -> None:
    env = get(emu, "/web1").json()["env"]
    assert env["K_SERVICE"] == env["K_CONFIGURATION"] == "web1"
    assert env["FUNCTION_TARGET"] == "echo" and env["FUNCTION_SIGNATURE_TYPE"] == "http"
    assert env["PORT"].isdigit()
    assert env["GOOGLE_CLOUD_PROJECT"]
    assert env["K_REVISION"]
    assert env["LOG_EXECUTION_ID"] is None and env["GREETING"] is None


# -- timeouts -----------------------------------------------------------------------


def test_gen1_timeout_is_408_and_the_instance_is_killed(emu: EmuProcess) -> None:
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(get, emu, "/slow1?sleep=5")
        [env] = emu.wait_for_environments("slow1", lambda envs: len(envs) == 1 and envs[0]["state"] == "busy")
        response = pending.result()

    assert response.status_code == 408
    assert "Function-Execution-Id" in response.headers
    emu.wait_for_exit(env["pid"])
    assert log_line_of(emu, "slow1", response.headers["Function-Execution-Id"])[2] == "408"

    after = get(emu, "/slow1?sleep=0")
    assert after.status_code == 200
    assert only_pid(emu, "slow1") != env["pid"]


def test_gen2_timeout_is_504_and_the_instance_is_retired(emu: EmuProcess) -> None:
    assert get(emu, "/slow2?sleep=0").status_code == 200
    pid = only_pid(emu, "slow2")

    response = get(emu, "/slow2?sleep=3")
    assert response.status_code == 504
    assert log_line_of(emu, "slow2", response.headers["Function-Execution-Id"])[2] == "504"
    # The instance takes no more requests and stops once it has none left.
    emu.wait_for_exit(pid)

    after = get(emu, "/slow2?sleep=0")
    assert after.status_code == 200
    assert only_pid(emu, "slow2") != pid


# -- failures and recovery ------------------------------------------------------------


def test_uncaught_exception_is_a_crash_and_the_instance_stays(emu: EmuProcess) -> None:
    first = get(emu, "/raises")
    pid = only_pid(emu, "raises")
    second = get(emu, "/raises")

    for response in (first, second):
        assert response.status_code == 500
        assert response.headers["X-Google-Status"] == "crash"
    [env] = emu.environments("raises")
    assert env["pid"] == pid and env["served"] == 2
    emu.wait_for_log("RuntimeError: the function broke", count=2)


def test_exit_is_500_then_a_new_worker(emu: EmuProcess) -> None:
    assert get(emu, "/exits?ok=1").status_code == 200
    pid = only_pid(emu, "exits")
    [worker] = psutil.Process(pid).children()

    crashed = get(emu, "/exits")
    assert crashed.status_code == 500
    log_line_of(emu, "exits", crashed.headers["Function-Execution-Id"])

    after = get(emu, "/exits?ok=1")
    assert after.status_code == 200 and after.text == "fine"
    # gunicorn's master replaces its worker, as it does in a Cloud Run container,
    # so the instance stays and the request is served by a new process.
    assert only_pid(emu, "exits") == pid
    assert [p.pid for p in psutil.Process(pid).children()] != [worker.pid]


def test_an_instance_that_dies_is_replaced(emu: EmuProcess) -> None:
    first = get(emu, "/dies?ok=1")
    assert first.status_code == 200
    instance = int(first.text)
    assert only_pid(emu, "dies") == instance

    assert get(emu, "/dies").status_code == 500
    emu.wait_for_exit(instance)
    # Wait until emu itself has seen the exit (the pid may be gone a moment before).
    emu.wait_for_environments("dies", lambda envs: all(env["pid"] != instance for env in envs))

    after = get(emu, "/dies?ok=1")
    assert after.status_code == 200 and int(after.text) != instance
    assert only_pid(emu, "dies") == int(after.text)


def test_import_error_is_500_until_the_code_is_fixed(emu: EmuProcess) -> None:
    for _ in range(2):
        response = get(emu, "/broken")
        assert response.status_code == 500
    emu.wait_for_log("ModuleNotFoundError: No module named 'module_that_does_not_exist'", count=2)
    assert get(emu, "/_emu/health").status_code == 200
    assert get(emu, "/web").status_code == 200  # the rest of emu carries on

    (emu.root / "broken" / "main.py").write_text("def broken(request):\n    return 'fixed'\n")
    fixed = get(emu, "/broken")
    assert fixed.status_code == 200 and fixed.text == "fixed"


def test_over_the_memory_limit_is_500_then_recovery(emu: EmuProcess) -> None:
    assert get(emu, "/hog?ok=1").status_code == 200
    pid = only_pid(emu, "hog")

    response = get(emu, "/hog?mb=400&hold=3")
    assert response.status_code == 500
    emu.wait_for_exit(pid)
    emu.wait_for_log("Memory limit of 256 MiB exceeded")
    assert log_line_of(emu, "hog", response.headers["Function-Execution-Id"])[2] == "500"

    after = get(emu, "/hog?ok=1")
    assert after.status_code == 200 and after.text == "fine"

    # A fresh instance's first request is measured too: its worker is known from the start.
    pid = only_pid(emu, "hog")
    response = get(emu, "/hog?mb=400&hold=0.3")
    assert response.status_code == 500
    emu.wait_for_exit(pid)


# -- large bodies ---------------------------------------------------------------------------


def test_20_mb_request_body_arrives_intact(emu: EmuProcess) -> None:
    body = os.urandom(20 * 1024 * 1024)
    response = requests.post(emu.url + "/digest", data=body, timeout=60)
    assert response.status_code == 200
    assert response.json() == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}

    # And sent chunked, as a stream of unknown length.
    pieces = [body[i : i + 1024 * 1024] for i in range(0, len(body), 1024 * 1024)]
    response = requests.post(emu.url + "/digest", data=iter(pieces), timeout=60)
    assert response.json() == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}


def test_20_mb_streamed_response_arrives_intact(emu: EmuProcess) -> None:
    expected = hashlib.sha256()
    for i in range(20):
        expected.update(bytes([65 + i % 26]) * (1024 * 1024))

    received, size = hashlib.sha256(), 0
    with requests.get(emu.url + "/stream?mb=20", stream=True, timeout=60) as response:
        assert response.status_code == 200
        for chunk in response.iter_content(256 * 1024):
            received.update(chunk)
            size += len(chunk)
    assert size == 20 * 1024 * 1024
    assert received.hexdigest() == expected.hexdigest()


# -- scale-out and the queue -----------------------------------------------------------------

LIMITS = """
settings:
  queue_timeout: 1
functions:
  limited:
    provider: gcp
    runtime: python311
    entry_point: slow
    code: ./http
    max_instances: 2
  queued:
    provider: gcp
    runtime: python311
    entry_point: slow
    code: ./http
    max_instances: 1
"""


def busy(n: int) -> Callable[[list[dict]], bool]:
    return lambda envs: sum(env["state"] == "busy" for env in envs) == n


def test_scale_out_to_max_instances_then_429(emu_server: Callable[..., EmuProcess]) -> None:
    emu = emu_server(LIMITS, {"http": "gcp_http"})
    with ThreadPoolExecutor(2) as pool:
        holding = [pool.submit(get, emu, "/limited?sleep=2.5") for _ in range(2)]
        emu.wait_for_environments("limited", busy(2))

        throttled = get(emu, "/limited?sleep=0")
        assert throttled.status_code == 429
        assert len(emu.environments("limited")) == 2  # no third instance

        results = [f.result() for f in holding]
    assert all(r.status_code == 200 for r in results)
    assert len({r.json()["pid"] for r in results}) == 2
    # The function never ran, so there is no execution line: only the throttle is logged.
    emu.wait_for_log(f"limited | {throttled.headers['Function-Execution-Id']}: ")


def test_a_queued_request_gets_a_slot_within_queue_timeout(emu_server: Callable[..., EmuProcess]) -> None:
    emu = emu_server(LIMITS, {"http": "gcp_http"})
    with ThreadPoolExecutor(1) as pool:
        holding: Future[requests.Response] = pool.submit(get, emu, "/queued?sleep=0.5")
        emu.wait_for_environments("queued", busy(1))
        queued = get(emu, "/queued?sleep=0")
        first = holding.result()

    assert first.status_code == queued.status_code == 200
    assert first.json()["pid"] == queued.json()["pid"]


# -- min instances, idle reaping, always cold ----------------------------------------------------

IDLE = """
settings:
  idle_ttl: 0.5
functions:
  kept:
    provider: gcp
    runtime: python311
    entry_point: echo
    code: ./http
    min_instances: 1
  reaped:
    provider: gcp
    runtime: python311
    entry_point: echo
    code: ./http
"""


def test_min_instances_start_with_emu_and_stay_while_idle_ones_are_reaped(emu_server: Callable[..., EmuProcess]) -> None:
    emu = emu_server(IDLE, {"http": "gcp_http"})
    [kept] = emu.wait_for_environments("kept", lambda envs: len(envs) == 1 and envs[0]["state"] == "idle")
    assert kept["provisioned"]
    assert emu.environments("reaped") == []

    assert get(emu, "/reaped").status_code == 200
    pid = only_pid(emu, "reaped")
    emu.wait_for_environments("reaped", lambda envs: envs == [])
    emu.wait_for_exit(pid)

    # Well past idle_ttl, the min instance is still there, and serves warm.
    [still] = emu.environments("kept")
    assert still["pid"] == kept["pid"]
    served = get(emu, "/kept")
    assert served.status_code == 200
    assert log_line_of(emu, "kept", served.headers["Function-Execution-Id"])[4] == "warm"
    assert only_pid(emu, "kept") == kept["pid"]


ALWAYS_COLD = """
functions:
  web:
    provider: gcp
    runtime: python311
    entry_point: echo
    code: ./http
"""


def test_always_cold_gives_every_request_a_new_instance(emu_server: Callable[..., EmuProcess]) -> None:
    emu = emu_server(ALWAYS_COLD, {"http": "gcp_http"}, args=["--always-cold"])
    responses = [get(emu, "/web") for _ in range(2)]

    assert all(r.status_code == 200 for r in responses)
    assert responses[0].json()["pid"] != responses[1].json()["pid"]
    for r in responses:
        assert log_line_of(emu, "web", r.headers["Function-Execution-Id"])[4].startswith("cold")
