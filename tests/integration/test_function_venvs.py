"""Per-function dependencies through a real ``emu up``: virtualenvs built with real pip.

Dependencies are tiny wheels made in the test's folder (``tests/wheelhouse.py``),
so pip installs them offline; only the worker's own packages (awslambdaric,
functions-framework) come from the index, which pip's cache makes quick. The
virtualenv cache is shared by the module's tests (``EMU_CACHE_DIR``), so a
requirements.txt one test built is a cache hit for the next. Marked ``slow``:
each fresh build takes seconds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests

from conftest import FUNCTIONS, EmuProcess
from wheelhouse import probe_wheel

pytestmark = pytest.mark.slow

BOTH = """
functions:
  a:
    runtime: python3.11
    handler: app.handler
    code: ./a
  twin:
    runtime: python3.11
    handler: app.handler
    code: ./twin
  g:
    provider: gcp
    runtime: python311
    entry_point: probe
    code: ./g
"""
ONE = """
functions:
  a:
    runtime: python3.11
    handler: app.handler
    code: ./a
    timeout: 10
"""
BROKEN = """
functions:
  broken:
    runtime: python3.11
    handler: app.handler
    code: ./broken
  gbroken:
    provider: gcp
    runtime: python311
    entry_point: probe
    code: ./gbroken
  fine:
    runtime: python3.11
    handler: app.handler
    code: ./fine
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emu-cache")


@pytest.fixture(scope="module")
def wheel_one(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheel for the whole module: requirements.txt naming it has the same bytes in every test."""
    return probe_wheel(tmp_path_factory.mktemp("wheels"), "one")


def function(root: Path, folder: str, requirements: str | None, source: str = "venv_probe") -> Path:
    code = root / folder
    shutil.copytree(FUNCTIONS / source, code)
    if requirements is not None:
        (code / "requirements.txt").write_text(requirements)
    return code


def lines_of(log: str, name: str) -> list[str]:
    """What emu printed under ``name``'s prefix, without it."""
    return [line.split(" | ", 1)[1] for line in log.splitlines() if " | " in line and line.split(" | ", 1)[0].strip() == name]


def invoke(emu: EmuProcess, name: str) -> tuple[dict, dict]:
    response = emu.lambda_client().invoke(FunctionName=name, Payload=b"{}")
    return response, json.loads(response["Payload"].read())


def test_each_cloud_imports_its_own_dependency_and_not_emus(emu_server, tmp_path, cache, wheel_one):
    requirements = f"# the probe\n{wheel_one}\n"
    for folder in ("a", "twin", "g"):
        function(tmp_path, folder, requirements)
    emu = emu_server(BOTH, env={"EMU_CACHE_DIR": str(cache)})

    _, a = invoke(emu, "a")
    assert a["probe"] == "one"
    assert a["requests"] is False  # emu has requests; a function with a requirements.txt does not see it
    assert Path(a["prefix"]).parent.resolve() == (cache / "venvs").resolve()
    _, twin = invoke(emu, "twin")
    assert twin == a  # the same requirements.txt: the same virtualenv, built once

    response = requests.get(emu.url + "/g", timeout=60)
    assert response.status_code == 200
    g = response.json()
    assert g["probe"] == "one" and g["requests"] is False
    assert g["prefix"] != a["prefix"]  # GCP's worker packages are not Lambda's

    log = emu.log()
    key = Path(a["prefix"]).name
    assert log.count(f"dependencies: building virtualenv {key}") <= 1  # 0 if an earlier test built it
    for name, worker in (("a", "awslambdaric"), ("g", "functions-framework")):
        said = [line for line in lines_of(log, name) if line.startswith("dependencies: ")]
        # A line per step (or the cache hit), naming what emu adds.
        assert any(f"+ {worker}==" in line for line in said), said
    if "dependencies: step 2/2" in "\n".join(lines_of(log, "g")):
        assert any(line.startswith("Successfully installed") for line in lines_of(log, "g"))  # pip's own output, prefixed


def test_a_second_emu_up_reuses_the_cached_virtualenv(emu_server, tmp_path, cache, wheel_one):
    function(tmp_path, "a", f"{wheel_one}\n")
    first = emu_server(ONE, env={"EMU_CACHE_DIR": str(cache)})
    _, body = invoke(first, "a")
    assert body["probe"] == "one"
    key = Path(body["prefix"]).name
    first.stop()

    second = emu_server(ONE, env={"EMU_CACHE_DIR": str(cache)})
    log = second.wait_for_log(f"dependencies: using virtualenv {key}")
    _, body = invoke(second, "a")
    assert body["probe"] == "one"
    assert "building virtualenv" not in second.log()
    assert "cached" in log.split(f"using virtualenv {key}", 1)[1].splitlines()[0]


def test_a_broken_requirements_txt_fails_that_function_alone(emu_server, tmp_path, cache):
    function(tmp_path, "broken", f"{tmp_path / 'missing' / 'nothing-1.0-py3-none-any.whl'}\n")
    function(tmp_path, "gbroken", "emu-no-such-package-7f3c9a1e==1.0\n")
    shutil.copytree(FUNCTIONS / "hello", tmp_path / "fine")
    emu = emu_server(BROKEN, env={"EMU_CACHE_DIR": str(cache)})

    response, body = invoke(emu, "broken")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Unable to import module 'app': its requirements.txt could not be installed")
    assert "No such file or directory" in body["errorMessage"]  # pip's own reason

    again, body_again = invoke(emu, "broken")
    assert again["FunctionError"] == "Unhandled" and body_again == body
    steps = [line for line in lines_of(emu.log(), "broken") if line.startswith("dependencies: step 2/2")]
    assert len(steps) == 1  # the failure is remembered: pip is not run per request

    gcp = requests.get(emu.url + "/gbroken", timeout=60)
    assert gcp.status_code == 500
    log = emu.wait_for_log("dependencies: requirements.txt could not be installed", count=2)
    said = [line for line in lines_of(log, "gbroken") if "could not be installed" in line]
    assert said and "ERROR:" in said[0]

    _, fine = invoke(emu, "fine")
    assert "errorType" not in fine


def test_editing_requirements_txt_rebuilds_before_the_next_cold_start(emu_server, tmp_path, cache, wheel_one):
    code = function(tmp_path, "a", f"{wheel_one}\n")
    emu = emu_server(ONE, env={"EMU_CACHE_DIR": str(cache)})
    _, body = invoke(emu, "a")
    assert body["probe"] == "one"

    wheels = tmp_path / "wheels"
    (code / "requirements.txt").write_text(f"{probe_wheel(wheels, 'two', '2.0')}\n")
    emu.wait_for_log("a: reloaded")
    _, body = invoke(emu, "a")
    assert body["probe"] == "two"

    # A wheel that is not there yet: the build fails, and the function says so.
    later = wheels / "later" / "emu_probe_dep-3.0-py3-none-any.whl"
    (code / "requirements.txt").write_text(f"{later}\n")
    emu.wait_for_log("a: reloaded", count=2)
    response, body = invoke(emu, "a")
    assert response["FunctionError"] == "Unhandled" and body["errorType"] == "Runtime.ImportModuleError"

    # Once it is there, any save in the function's code retries the build.
    probe_wheel(later.parent, "three", "3.0")
    (code / "app.py").write_text((code / "app.py").read_text() + "\n")
    emu.wait_for_log("a: reloaded", count=3)
    _, body = invoke(emu, "a")
    assert body["probe"] == "three"
