"""Hot reload through a real ``emu up``: files are edited on disk, and invokes show the result.

Each edit is followed by waiting for the reload line emu prints; that line, the
invoke responses and ``/_emu/functions`` are what a user would see. (Named apart
from tests/test_reload.py: test module names must be unique in this suite.)
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import requests

from conftest import FUNCTIONS, EmuProcess

TWO = """
functions:
  a:
    runtime: python3.11
    handler: app.handler
    code: ./a
    timeout: 10
  b:
    runtime: python3.11
    handler: app.handler
    code: ./b
"""
VERSIONED = {"a": "versioned", "b": "versioned"}
# Longer than a burst's quiet window: saves further apart than this are separate reloads.
BETWEEN_BURSTS_S = 0.5


def invoke(emu: EmuProcess, name: str, payload: dict | None = None) -> tuple[dict, dict]:
    response = emu.lambda_client().invoke(FunctionName=name, Payload=json.dumps(payload or {}))
    return response, json.loads(response["Payload"].read())


def save(path: Path, version: str) -> None:
    """Rewrite the VERSION line, as an editor saves: the whole file, in place."""
    text = re.sub(r'^VERSION = ".*"', f'VERSION = "{version}"', path.read_text(), flags=re.M)
    path.write_text(text)


def pids(emu: EmuProcess, name: str) -> set[int]:
    return {env["pid"] for env in emu.environments(name)}


# -- code edits -------------------------------------------------------------------


def test_an_edit_reloads_that_function_and_no_other(emu_server, tmp_path):
    emu = emu_server(TWO, VERSIONED)
    _, a1 = invoke(emu, "a")
    _, b1 = invoke(emu, "b")
    assert a1["version"] == b1["version"] == "v1"

    save(tmp_path / "a" / "app.py", "v2")
    log = emu.wait_for_log("a: reloaded (1 environment recycled) in ")
    _, a2 = invoke(emu, "a")
    assert a2["version"] == "v2" and a2["pid"] != a1["pid"]
    emu.wait_for_exit(a1["pid"])

    _, b2 = invoke(emu, "b")
    assert b2 == b1 and pids(emu, "b") == {b1["pid"]}  # still warm, same process
    assert "b: reloaded" not in log


def test_provisioned_environments_come_back_with_the_new_code(emu_server, tmp_path):
    emu = emu_server(TWO.replace("timeout: 10", "timeout: 10\n    provisioned_concurrency: 2"), VERSIONED)
    old = {e["pid"] for e in emu.wait_for_environments("a", lambda envs: [e["state"] for e in envs] == ["idle", "idle"])}

    save(tmp_path / "a" / "app.py", "v2")
    emu.wait_for_log("a: reloaded (2 environments recycled)")
    new = emu.wait_for_environments(
        "a", lambda envs: [e["state"] for e in envs] == ["idle", "idle"] and not {e["pid"] for e in envs} & old
    )
    assert all(e["provisioned"] for e in new)
    _, body = invoke(emu, "a")
    assert body["version"] == "v2" and body["pid"] in {e["pid"] for e in new}


def test_a_burst_of_saves_is_one_reload(emu_server, tmp_path):
    emu = emu_server(TWO, VERSIONED)
    invoke(emu, "a")
    for n in range(2, 7):
        save(tmp_path / "a" / "app.py", f"v{n}")
    emu.wait_for_log("a: reloaded")

    # A later save elsewhere, seen after anything the burst could still have caused.
    time.sleep(BETWEEN_BURSTS_S)
    save(tmp_path / "b" / "app.py", "v2")
    log = emu.wait_for_log("b: reloaded")
    assert log.count("a: reloaded") == 1
    assert invoke(emu, "a")[1]["version"] == "v6"


def test_a_busy_invocation_finishes_on_the_old_code(emu_server, tmp_path):
    emu = emu_server(TWO, VERSIONED)
    _, first = invoke(emu, "a")
    slow: dict = {}
    worker = threading.Thread(target=lambda: slow.update(invoke(emu, "a", {"sleep": 2})[1]))
    worker.start()
    emu.wait_for_environments("a", lambda envs: [e["state"] for e in envs] == ["busy"])

    save(tmp_path / "a" / "app.py", "v2")
    emu.wait_for_log("a: reloaded (1 environment recycled)")
    assert [e["state"] for e in emu.environments("a")] == ["retiring"]
    _, after = invoke(emu, "a")
    assert after["version"] == "v2" and after["pid"] != first["pid"]

    worker.join(10)
    assert slow == {**first, "version": "v1"}  # the invocation in flight ran the code it started with
    emu.wait_for_exit(first["pid"])  # and its environment retired once it was done
    assert pids(emu, "a") == {after["pid"]}


SLOW_INIT = """
functions:
  slow:
    runtime: python3.11
    handler: app.handler
    code: ./slow
  web:
    provider: gcp
    runtime: python311
    entry_point: versioned
    code: ./web
"""


def test_a_save_during_a_cold_start_still_answers_what_waited_for_it(emu_server, tmp_path):
    # Each environment takes a second to start; the save lands in the middle.
    for code, name in (("slow", "app.py"), ("web", "main.py")):
        (tmp_path / code).mkdir()
        text = (FUNCTIONS / "versioned" / name).read_text()
        (tmp_path / code / name).write_text(text.replace("import os\n", "import os\nimport time\n\ntime.sleep(1)\n", 1))
    emu = emu_server(SLOW_INIT)

    results: dict = {}
    waiting = [
        threading.Thread(target=lambda: results.update(slow=invoke(emu, "slow")[1])),
        threading.Thread(target=lambda: results.update(web=requests.get(emu.url + "/web", timeout=30).json())),
    ]
    for thread in waiting:
        thread.start()
    for name in ("slow", "web"):
        emu.wait_for_environments(name, lambda envs: [e["state"] for e in envs] == ["starting"])
    save(tmp_path / "slow" / "app.py", "v2")
    save(tmp_path / "web" / "main.py", "v2")
    emu.wait_for_log("slow: reloaded (1 environment recycled)")
    emu.wait_for_log("web: reloaded (1 environment recycled)")
    for thread in waiting:
        thread.join(30)

    # Answered by the environment it waited for, which then retired.
    assert results["slow"]["version"] in ("v1", "v2") and results["web"]["version"] in ("v1", "v2")
    for name in ("slow", "web"):
        emu.wait_for_environments(name, lambda envs: envs == [])
    assert invoke(emu, "slow")[1]["version"] == "v2"
    assert requests.get(emu.url + "/web", timeout=30).json()["version"] == "v2"


def test_a_broken_save_fails_as_lambda_would_until_the_next_save(emu_server, tmp_path):
    emu = emu_server(TWO, VERSIONED)
    app = tmp_path / "a" / "app.py"
    good = app.read_text()
    invoke(emu, "a")

    app.write_text(good.replace("def handler(event, context):", "def handler(event, context)"))
    emu.wait_for_log("a: reloaded")
    for _ in range(2):  # every invoke retries init, and fails the same way
        response, body = invoke(emu, "a")
        assert response["FunctionError"] == "Unhandled"
        assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert requests.get(emu.url + "/_emu/health", timeout=5).status_code == 200

    app.write_text(good.replace('VERSION = "v1"', 'VERSION = "fixed"'))
    emu.wait_for_log("a: reloaded", count=2)
    response, body = invoke(emu, "a")
    assert "FunctionError" not in response and body["version"] == "fixed"


GCP = """
functions:
  web:
    provider: gcp
    runtime: python311
    entry_point: versioned
    code: ./web
  a:
    runtime: python3.11
    handler: app.handler
    code: ./a
"""


def test_a_gcp_edit_serves_the_new_code(emu_server, tmp_path):
    emu = emu_server(GCP, {"web": "versioned", "a": "versioned"})
    main = tmp_path / "web" / "main.py"
    first = requests.get(emu.url + "/web", timeout=30).json()
    _, lambda_before = invoke(emu, "a")
    assert first["version"] == "v1"

    save(main, "v2")
    emu.wait_for_log("web: reloaded (1 environment recycled)")
    second = requests.get(emu.url + "/web", timeout=30).json()
    assert second["version"] == "v2" and second["pid"] != first["pid"]

    # Broken, it answers 500 as Cloud Functions does; fixed, it serves again.
    main.write_text(main.read_text().replace("import functions_framework", "import functions_framework_typo"))
    emu.wait_for_log("web: reloaded", count=2)
    assert requests.get(emu.url + "/web", timeout=30).status_code == 500
    main.write_text(main.read_text().replace("functions_framework_typo", "functions_framework").replace('"v2"', '"v3"'))
    emu.wait_for_log("web: reloaded", count=3)
    assert requests.get(emu.url + "/web", timeout=30).json()["version"] == "v3"

    assert invoke(emu, "a")[1] == lambda_before  # the other function was never touched


# -- what is not watched -------------------------------------------------------------

AT_ROOT = """
functions:
  root:
    runtime: python3.11
    handler: app.handler
    code: .
"""


def test_edits_in_ignored_places_reload_nothing(emu_server, tmp_path):
    # The project root is the code: it also holds emu.yaml, emu's log and its state folder.
    (tmp_path / "env" / "lib").mkdir(parents=True)
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")  # a virtualenv, whatever its name
    (tmp_path / "app.py").write_text((FUNCTIONS / "versioned" / "app.py").read_text())
    emu = emu_server(AT_ROOT, {"src": "versioned"})
    _, before = invoke(emu, "root")

    ignored = [
        "__pycache__/app.cpython-311.pyc",
        "src/__pycache__/app.cpython-311.pyc",
        ".git/HEAD",
        ".git/objects/ab/cdef0123",
        "node_modules/left-pad/index.js",
        "node_modules/left-pad/lib/helper.py",
        ".emu/buckets/photos/cat.jpg",
        ".venv/lib/python3.11/site-packages/thing.py",
        "env/lib/site.py",
        "server.log",
        ".app.py.swp",
        "app.py~",
        ".#app.py",
    ]
    for name in ignored:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("changed\n")
    for _ in range(3):  # each invoke writes to emu.log, in the watched folder
        invoke(emu, "root")

    time.sleep(BETWEEN_BURSTS_S)
    assert "root: reloaded" not in emu.log()
    assert pids(emu, "root") == {before["pid"]}

    save(tmp_path / "app.py", "v2")  # the watcher is alive: a real edit still reloads
    emu.wait_for_log("root: reloaded")
    assert invoke(emu, "root")[1]["version"] == "v2"


def test_a_new_package_directory_is_watched(emu_server, tmp_path):
    # With a .git beside the code, the root is watched on its own and each subdirectory
    # whole, so a directory made after start needs a watch of its own.
    (tmp_path / ".git").mkdir()
    (tmp_path / "app.py").write_text("import pkg.mod\n\ndef handler(event, context):\n    return {'version': pkg.mod.VERSION}\n")
    emu = emu_server(AT_ROOT, {"src": "versioned"})
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text('VERSION = "v1"\n')
    emu.wait_for_log("root: reloaded")
    time.sleep(BETWEEN_BURSTS_S)  # the new directory's watch is set up after its reload
    assert invoke(emu, "root")[1] == {"version": "v1"}
    reloads = emu.log().count("root: reloaded")

    save(tmp_path / "pkg" / "mod.py", "v2")
    emu.wait_for_log("root: reloaded", count=reloads + 1)
    assert invoke(emu, "root")[1] == {"version": "v2"}


def test_no_watch_turns_reload_off(emu_server, tmp_path):
    emu = emu_server(TWO, VERSIONED, args=["--no-watch"])
    _, before = invoke(emu, "a")
    save(tmp_path / "a" / "app.py", "v2")
    (tmp_path / "emu.yaml").write_text(TWO.replace("timeout: 10", "timeout: 20"))
    time.sleep(BETWEEN_BURSTS_S)
    assert invoke(emu, "a")[1] == before
    log = emu.log()
    assert "reloaded" not in log and "reconfigured" not in log and "watching" not in log


# -- config edits ------------------------------------------------------------------------


def test_config_edits_add_remove_and_reconfigure_functions(emu_server, tmp_path):
    emu = emu_server(TWO, VERSIONED)
    emu_yaml = tmp_path / "emu.yaml"
    _, a1 = invoke(emu, "a")
    _, b1 = invoke(emu, "b")
    assert "emu: watching 2 code folders and emu.yaml for changes" in emu.log()

    # Add one: it is served at once; the others keep their warm environments.
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "app.py").write_text((tmp_path / "a" / "app.py").read_text().replace('"v1"', '"c1"'))
    emu_yaml.write_text(TWO + "  c:\n    runtime: python3.11\n    handler: app.handler\n    code: ./c\n")
    emu.wait_for_log("c: added in ")
    assert invoke(emu, "c")[1]["version"] == "c1"
    assert invoke(emu, "a")[1] == a1 and invoke(emu, "b")[1] == b1

    # The new function's code is watched too.
    save(tmp_path / "c" / "app.py", "c2")
    emu.wait_for_log("c: reloaded")
    assert invoke(emu, "c")[1]["version"] == "c2"

    # Reconfigure one: new environments with the new settings; the rest untouched.
    emu_yaml.write_text(emu_yaml.read_text().replace("    code: ./b\n", "    code: ./b\n    environment: {GREETING: hi}\n"))
    emu.wait_for_log("b: reconfigured (1 environment recycled) in ")
    _, b2 = invoke(emu, "b")
    assert b2["greeting"] == "hi" and b2["pid"] != b1["pid"]
    assert invoke(emu, "a")[1] == a1

    # Remove one: 404, as Lambda answers for a function that does not exist.
    emu_yaml.write_text(emu_yaml.read_text().replace(TWO.split("  b:")[0], "functions:\n"))
    emu.wait_for_log("a: removed (1 environment recycled) in ")
    emu.wait_for_exit(a1["pid"])
    response = requests.post(emu.url + "/2015-03-31/functions/a/invocations", data=b"{}", timeout=5)
    assert response.status_code == 404 and response.headers["X-Amzn-ErrorType"] == "ResourceNotFoundException"
    assert sorted(emu.functions()) == ["b", "c"]
    assert invoke(emu, "b")[1] == b2


def test_an_invalid_config_edit_keeps_the_last_good_one(emu_server, tmp_path):
    emu = emu_server(TWO, VERSIONED)
    emu_yaml = tmp_path / "emu.yaml"
    _, a1 = invoke(emu, "a")

    emu_yaml.write_text(TWO.replace("timeout: 10", "timeout: lots") + "  c: {runtime: python3.11, handler: app.handler, code: ./a}\n")
    log = emu.wait_for_log("config not applied")
    [line] = [line for line in log.splitlines() if "config not applied" in line]
    assert "emu.yaml: function 'a': 'timeout': must be a number" in line
    assert invoke(emu, "a")[1] == a1  # still serving, same warm environment
    assert sorted(emu.functions()) == ["a", "b"]

    emu_yaml.write_text(TWO.replace("timeout: 10", "timeout: 20"))
    emu.wait_for_log("a: reconfigured")
    _, a2 = invoke(emu, "a")
    assert a2["version"] == "v1" and a2["pid"] != a1["pid"]
