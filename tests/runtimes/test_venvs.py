"""Per-function virtualenvs: the rules as plain data, and the build's locking with real pip.

The rules (names, pins, keys, pip's summary, where the cache is) need no I/O.
The slow tests build a real virtualenv: two ``Venvs`` on one cache folder stand
for two emu processes (their file locks are separate open files, so they
exclude each other as two processes' would).
"""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import pytest

from emulator.config.model import FunctionSpec
from emulator.console import Console
from emulator.runtimes.venvs import (
    READY_MARKER,
    Venvs,
    default_cache_dir,
    names_relative_paths,
    pip_summary,
    requirement_names,
    venv_key,
    worker_packages,
)
from wheelhouse import probe_wheel

INSTALLED = {"awslambdaric": "4.2.2", "boto3": "1.43.11", "functions-framework": "3.10.2"}


def spec(code: Path, provider: str = "aws", runtime: str = "python3.11") -> FunctionSpec:
    return FunctionSpec(name="f", provider=provider, runtime=runtime, handler="app.handler", code=code)  # type: ignore[arg-type]


# -- the rules --------------------------------------------------------------------


def test_requirement_names_are_the_projects_named_by_name():
    text = """
    # a comment
    Flask>=2 ; python_version > "3"
    functions_framework==3.*   # trailing comment
    requests[socks]
    pkg @ https://example.invalid/pkg.whl
    -r other.txt
    -e ./local
    ./vendored/thing
    https://example.invalid/x.tar.gz
    """
    assert requirement_names(text) == {"flask", "functions-framework", "requests", "pkg"}


def test_emu_adds_the_worker_pinned_to_its_own_version():
    assert worker_packages("aws", frozenset(), INSTALLED) == ("awslambdaric==4.2.2", "boto3==1.43.11")
    assert worker_packages("gcp", frozenset(), INSTALLED) == ("functions-framework==3.10.2", "cloudevents>=1.11,<2")


def test_a_worker_package_the_requirements_name_is_theirs():
    # As Google's buildpack does: a listed functions-framework is not overridden.
    assert worker_packages("gcp", frozenset({"functions-framework"}), INSTALLED) == ("cloudevents>=1.11,<2",)
    assert worker_packages("aws", frozenset({"awslambdaric", "boto3"}), INSTALLED) == ()


def test_a_worker_package_emu_lacks_is_left_to_pip():
    assert worker_packages("aws", frozenset(), {}) == ("awslambdaric", "boto3")


def test_the_key_changes_with_each_input_and_only_then():
    base = venv_key(b"six\n", ("awslambdaric==4.2.2",), "cpython 3.11.7")
    assert base == venv_key(b"six\n", ("awslambdaric==4.2.2",), "cpython 3.11.7")
    assert len({
        base,
        venv_key(b"six==1.16\n", ("awslambdaric==4.2.2",), "cpython 3.11.7"),
        venv_key(b"six\n", ("awslambdaric==4.2.1",), "cpython 3.11.7"),
        venv_key(b"six\n", ("awslambdaric==4.2.2",), "cpython 3.12.1"),
    }) == 4


def test_pips_summary_is_its_error_lines():
    lines = [
        "Looking in indexes: https://pypi.org/simple",
        "ERROR: Could not find a version that satisfies the requirement nope (from versions: none)",
        "ERROR: No matching distribution found for nope",
        "",
    ]
    assert pip_summary(lines) == (
        "ERROR: Could not find a version that satisfies the requirement nope (from versions: none) "
        "ERROR: No matching distribution found for nope"
    )
    assert pip_summary(["a", "b", "c", "d"]) == "b c d"  # no ERROR line: its last words
    assert pip_summary([]) == "pip gave no reason"
    assert len(pip_summary(["ERROR: " + "x" * 5000])) == 1000


def test_the_cache_folder_is_emus_variable_else_xdg_else_home(tmp_path):
    assert default_cache_dir({"EMU_CACHE_DIR": str(tmp_path / "c"), "XDG_CACHE_HOME": "/x"}) == tmp_path / "c"
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path / "x"), "HOME": "/h"}) == tmp_path / "x" / "emu"
    assert default_cache_dir({"HOME": str(tmp_path)}) == tmp_path / ".cache" / "emu"


def test_only_python_functions_with_a_requirements_txt_get_a_virtualenv(tmp_path):
    venvs = Venvs(Console(io.StringIO()), {})
    code = tmp_path / "code"
    code.mkdir()
    assert venvs.plan(spec(code), tmp_path / "venvs") is None
    (code / "requirements.txt").write_text("six\n")
    assert venvs.plan(spec(code, runtime="provided.al2023"), tmp_path / "venvs") is None
    aws, gcp = venvs.plan(spec(code), tmp_path / "venvs"), venvs.plan(spec(code, "gcp", "python311"), tmp_path / "venvs")
    assert aws is not None and gcp is not None
    assert aws.venv.parent == tmp_path / "venvs" and aws.venv != gcp.venv


# -- building, for real -------------------------------------------------------------------


@pytest.mark.slow
def test_two_emus_building_one_virtualenv_build_it_once(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "requirements.txt").write_text(f"{probe_wheel(tmp_path / 'wheels', 'one')}\n")
    first_out, second_out = io.StringIO(), io.StringIO()
    consoles = Console(first_out, colour=False), Console(second_out, colour=False)

    async def both() -> list[str]:
        first, second = Venvs(consoles[0], os.environ), Venvs(consoles[1], os.environ)
        try:
            return list(await asyncio.gather(first.python_for(spec(code), tmp_path / "venvs"), second.python_for(spec(code), tmp_path / "venvs")))
        finally:
            await first.aclose()
            await second.aclose()

    pythons = asyncio.run(both())
    for console in consoles:
        console.flush()
    assert pythons[0] == pythons[1]
    assert (Path(pythons[0]).parent.parent / READY_MARKER).is_file()
    said = first_out.getvalue() + second_out.getvalue()
    assert said.count("step 1/2: python -m venv") == 1
    assert "waiting for another emu building virtualenv" in said
    assert said.count("(requirements.txt + awslambdaric==") == 1  # the waiter's cache hit


@pytest.mark.slow
def test_a_build_stopped_at_shutdown_leaves_no_virtualenv_that_counts(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "requirements.txt").write_text(f"{probe_wheel(tmp_path / 'wheels', 'one')}\n")
    out = io.StringIO()

    async def stop_midway() -> Path:
        venvs = Venvs(Console(out, colour=False), os.environ)
        build = asyncio.ensure_future(venvs.python_for(spec(code), tmp_path / "venvs"))
        while "step 2/2" not in out.getvalue():
            await asyncio.sleep(0.01)
        await venvs.aclose()
        with pytest.raises(asyncio.CancelledError):
            await build
        plan = venvs.plan(spec(code), tmp_path / "venvs")
        assert plan is not None
        return plan.venv

    venv = asyncio.run(stop_midway())
    assert not (venv / READY_MARKER).exists()


@pytest.mark.parametrize(
    ("text", "relative"),
    [
        ("six\nrequests>=2\n", False),
        ("/abs/path/pkg-1.0-py3-none-any.whl\n", False),
        ("pkg @ https://example.invalid/pkg.whl\n", False),
        ("./vendor/pkg\n", True),
        ("vendor/pkg-1.0.tar.gz\n", True),
        ("-e ../shared\n", True),
        ("-r base.txt\nsix\n", True),
    ],
)
def test_requirements_naming_relative_paths_are_tied_to_their_folder(tmp_path, text, relative):
    assert names_relative_paths(text) is relative
    venvs = Venvs(Console(io.StringIO()), {})
    keys = set()
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "requirements.txt").write_text(text)
        plan = venvs.plan(spec(tmp_path / folder), tmp_path / "venvs")
        assert plan is not None
        keys.add(plan.key)
    assert len(keys) == (2 if relative else 1)
