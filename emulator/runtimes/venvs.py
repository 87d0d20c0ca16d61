"""Per-function virtualenvs: a Python function whose code has a ``requirements.txt`` runs in its own.

Owns the cache of virtualenvs (``<cache dir>/venvs/<key>``), the key, and the
builds. The key is a hash of requirements.txt's bytes, the interpreter and the
packages emu adds for the worker (and the function's folder, when the file
names relative paths), so an edit to any of them makes a new virtualenv and an
unchanged one is reused across ``emu up`` runs. What the file points at (a
local package, a nested ``-r`` file) is not hashed: a change there needs an
edit to requirements.txt. A function without a requirements.txt keeps running
on emu's own interpreter.

A build is ``python -m venv`` and one ``pip install`` (the function's
requirements and the worker's packages resolved together), run as asyncio
subprocesses so emu serves other functions meanwhile. emu's own pip installs
into the new virtualenv (``pip --python``), which then needs no pip of its own
(seconds saved per build); pip reads its own config, so the host's index
settings apply. Each step is a line on the console, pip's
output is shown under the function's name, and a failure is a
``DependenciesFailed`` for that function alone, remembered until its code
changes, so a broken requirements.txt costs one pip run, not one per request.

Builds of one virtualenv happen once: one task per directory in this process,
and a file lock beside it across emu processes. A virtualenv counts only once
its ready marker is written, last; a directory without one is a build that
died, and is built again. (It is built where it will be used: a virtualenv's
scripts name their own path, so it cannot be built elsewhere and renamed.)

Seams: the registry's launchers await ``Venvs.python_for`` and hand the
interpreter to the runtime recipe; the registry calls ``prepare`` when a
function is added or its code changes. The rules (``requirement_names``,
``worker_packages``, ``venv_key``, ``pip_summary``) are sync and I/O-free.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Iterable, Mapping

from emulator.config.model import FunctionSpec, Provider
from emulator.console import Console
from emulator.errors import DependenciesFailed

REQUIREMENTS = "requirements.txt"
READY_MARKER = ".emu-ready"
# Part of every key: bump it when a build's shape changes, so old virtualenvs are not reused.
LAYOUT = 1
# At most this many builds run at once; more would only share the same cores and disk.
BUILDS_AT_ONCE = 2
_LOCK_POLL_S = 0.2
_SUMMARY_CHARS = 1000

# What the platform runs a function with that its requirements.txt does not list:
# Lambda's runtime interface client and the boto3 every Python Lambda runtime
# ships with, and Google's functions-framework (which
# needs cloudevents.http, gone in cloudevents 2). ``None`` pins the version emu
# itself runs, so a function behaves the same with and without a requirements.txt.
# A package the requirements name themselves is left to them, as Google's
# buildpack leaves a listed functions-framework.
WORKER_PACKAGES: Mapping[Provider, tuple[tuple[str, str | None], ...]] = {
    "aws": (("awslambdaric", None), ("boto3", None)),
    "gcp": (("functions-framework", None), ("cloudevents", ">=1.11,<2")),
}

# A requirement line's project name (PEP 508), when the line starts with one
# rather than an option, a path or a URL.
_NAME = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(?:[<>=!~;@(]|$)")
# Variables that would make pip, or the interpreter it runs, see something other than the new virtualenv.
_DROPPED_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV", "PIP_PYTHON", "PIP_TARGET", "PIP_PREFIX", "PIP_USER")


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """``$EMU_CACHE_DIR``, else ``$XDG_CACHE_HOME/emu``, else ``~/.cache/emu``."""
    if environ.get("EMU_CACHE_DIR"):
        return Path(environ["EMU_CACHE_DIR"]).expanduser().resolve()
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".cache")
    return Path(base).expanduser().resolve() / "emu"


def normalize(name: str) -> str:
    """A project name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(text: str) -> frozenset[str]:
    """The projects a requirements file names by name (not those given as a path or URL only)."""
    names = set()
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        match = _NAME.match(line)
        if match:
            names.add(normalize(match.group(1)))
    return frozenset(names)


def names_relative_paths(text: str) -> bool:
    """Whether a requirements file points at files relative to its folder (``./pkg``, ``-r base.txt``, ``-e ../lib``).

    pip reads those from the function's folder, so the same text elsewhere is a
    different virtualenv. Options are counted in: most of them take a path.
    """
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line.startswith("-"):
            return True
        if "://" not in line and not line.startswith("/") and ("/" in line or "\\" in line or line.startswith(".")):
            return True
    return False


def worker_packages(provider: Provider, listed: frozenset[str], installed: Mapping[str, str]) -> tuple[str, ...]:
    """What emu adds to ``provider``'s virtualenvs: requirement strings, minus what the function lists itself."""
    packages = []
    for name, spec in WORKER_PACKAGES[provider]:
        if normalize(name) in listed:
            continue
        if spec is None:
            spec = f"=={installed[name]}" if name in installed else ""
        packages.append(name + spec)
    return tuple(packages)


def interpreter_tag() -> str:
    """What a virtualenv is tied to: the interpreter it was made from, by version and place."""
    return f"{sys.implementation.name} {sys.version} {platform.machine()} {sys.base_prefix}"


def venv_key(requirements: bytes, packages: Iterable[str], interpreter: str, folder: str = "") -> str:
    """The virtualenv's name: a hash of what it is made from (``folder`` when the requirements name relative paths)."""
    digest = hashlib.sha256()
    for part in (f"layout {LAYOUT}".encode(), interpreter.encode(), "\n".join(packages).encode(), requirements, folder.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:16]


def pip_summary(lines: Iterable[str]) -> str:
    """pip's own account of why it failed: its ERROR lines, else its last words."""
    lines = [line.strip() for line in lines if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    summary = " ".join(errors or lines[-3:]) or "pip gave no reason"
    return summary if len(summary) <= _SUMMARY_CHARS else summary[: _SUMMARY_CHARS - 1] + "…"


def _installed_versions() -> dict[str, str]:
    versions = {}
    for name, _ in (entry for entries in WORKER_PACKAGES.values() for entry in entries):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:  # emu runs without it: let pip choose
            pass
    return versions


def _host_pip_works() -> bool:
    """Whether emu's own pip can install into another interpreter (``pip --python``, pip 22.3+)."""
    if importlib.util.find_spec("pip") is None:
        return False
    try:
        major, minor = (int(part) for part in importlib.metadata.version("pip").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return (major, minor) >= (22, 3)


@dataclass(frozen=True, slots=True)
class Plan:
    """One function's virtualenv, as decided from its spec and its requirements.txt."""

    requirements: Path
    venv: Path
    packages: tuple[str, ...]  # what emu adds

    @property
    def key(self) -> str:
        return self.venv.name

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def describe(self) -> str:
        return REQUIREMENTS + "".join(f" + {package}" for package in self.packages)


class Venvs:
    """The virtualenvs of one ``emu up``: which exist, which are building, which failed."""

    def __init__(self, console: Console, host_env: Mapping[str, str], python: str = sys.executable) -> None:
        self._console = console
        self._python = python
        self._env = {k: v for k, v in host_env.items() if k not in _DROPPED_VARIABLES}
        self._env["PYTHONUNBUFFERED"] = "1"  # pip's lines as it writes them
        self._installed = _installed_versions()
        self._host_pip = _host_pip_works()
        self._interpreter = interpreter_tag()
        self._slots = asyncio.Semaphore(BUILDS_AT_ONCE)
        self._builds: dict[Path, asyncio.Task[None]] = {}
        self._failed: dict[Path, DependenciesFailed] = {}
        self._shown: set[tuple[str, Path]] = set()  # (function, venv) pairs already told which virtualenv they use

    def plan(self, spec: FunctionSpec, venvs_dir: Path) -> Plan | None:
        """The virtualenv ``spec`` runs in, or None: no requirements.txt, or a runtime that is not emu's Python."""
        if spec.is_provided:
            return None
        requirements = spec.code / REQUIREMENTS
        try:
            text = requirements.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DependenciesFailed(f"cannot read {requirements}: {exc.strerror or exc}") from exc
        decoded = text.decode("utf-8", "replace")
        packages = worker_packages(spec.provider, requirement_names(decoded), self._installed)
        folder = str(spec.code) if names_relative_paths(decoded) else ""
        return Plan(requirements, venvs_dir / venv_key(text, packages, self._interpreter, folder), packages)

    def prepare(self, spec: FunctionSpec, venvs_dir: Path, retry: bool = False) -> None:
        """Start building ``spec``'s virtualenv in the background, if it needs one that is not built.

        ``retry`` forgets a build of it that failed: its code changed, and what
        broke the build (a local package, the network) may have been fixed.
        """
        try:
            plan = self.plan(spec, venvs_dir)
        except DependenciesFailed as exc:
            self._console.error(spec.name, f"dependencies: {exc}")
            return
        if plan is None:
            return
        if retry and self._failed.pop(plan.venv, None) is not None:
            self._shown.discard((spec.name, plan.venv))
        if plan.venv not in self._failed:
            self._ensure(spec.name, plan)

    async def python_for(self, spec: FunctionSpec, venvs_dir: Path) -> str:
        """The interpreter to run ``spec`` with, once its virtualenv is built; raises ``DependenciesFailed``."""
        plan = self.plan(spec, venvs_dir)
        if plan is None:
            return self._python
        build = self._ensure(spec.name, plan)
        if build is not None:
            await asyncio.shield(build)
        failed = self._failed.get(plan.venv)
        if failed is not None:
            raise failed
        return str(plan.python)

    def _ensure(self, function: str, plan: Plan) -> asyncio.Task[None] | None:
        """The build of ``plan`` under way (started now if need be), or None when there is nothing to build."""
        if plan.venv in self._failed:
            return None
        build = self._builds.get(plan.venv)
        if build is None and (plan.venv / READY_MARKER).is_file():
            self._show(function, plan, f"dependencies: using virtualenv {plan.key} ({plan.describe()}, cached)")
            return None
        if build is None:
            self._shown.add((function, plan.venv))  # the build's own lines say it all
            self._console.platform(function, f"dependencies: building virtualenv {plan.key} for {plan.requirements} in {plan.venv.parent}")
            build = asyncio.ensure_future(self._build(function, plan))
            self._builds[plan.venv] = build
            build.add_done_callback(lambda _: self._builds.pop(plan.venv, None))
        else:
            self._show(function, plan, f"dependencies: waiting for virtualenv {plan.key}, being built")
        return build

    def _show(self, function: str, plan: Plan, line: str) -> None:
        if (function, plan.venv) not in self._shown:
            self._shown.add((function, plan.venv))
            self._console.platform(function, line)

    # -- building -----------------------------------------------------------------

    async def _build(self, function: str, plan: Plan) -> None:
        """Build ``plan``'s virtualenv; a failure is recorded in ``_failed``, never raised."""
        try:
            async with self._slots, self._locked(function, plan):
                if (plan.venv / READY_MARKER).is_file():  # another emu built it while this one waited
                    self._console.platform(function, f"dependencies: using virtualenv {plan.key} ({plan.describe()}, cached)")
                    return
                try:
                    await self._build_locked(function, plan)
                except (DependenciesFailed, OSError):
                    await _remove(plan.venv)  # under the lock: it may be another emu's to build next
                    raise
        except DependenciesFailed as exc:
            self._fail(function, plan, exc)
        except OSError as exc:  # the cache folder cannot be made, locked or written
            self._fail(function, plan, DependenciesFailed(f"cannot build in {plan.venv.parent}: {exc.strerror or exc}"))

    def _fail(self, function: str, plan: Plan, exc: DependenciesFailed) -> None:
        self._failed[plan.venv] = exc
        self._console.error(function, f"dependencies: {exc}")

    async def _build_locked(self, function: str, plan: Plan) -> None:
        started = time.monotonic()

        def say(line: str) -> None:
            self._console.platform(function, "dependencies: " + line)

        await _remove(plan.venv)  # what a build that died left behind
        say(f"step 1/2: python -m venv (python {platform.python_version()})")
        venv = [self._python, "-m", "venv", *(["--without-pip"] if self._host_pip else []), str(plan.venv)]
        await self._step(function, venv, plan, "python -m venv")
        pip = [self._python, "-m", "pip", "--python", str(plan.python)] if self._host_pip else [str(plan.python), "-m", "pip"]
        say(f"step 2/2: pip install -r {plan.describe()}")
        options = ["--disable-pip-version-check", "--no-input", "--progress-bar", "off"]
        await self._step(function, [*pip, "install", *options, "-r", str(plan.requirements), *plan.packages], plan, "pip install")
        marker = {"requirements": plan.requirements.read_text(errors="replace"), "packages": plan.packages, "python": self._interpreter}
        ready = plan.venv / (READY_MARKER + ".tmp")
        ready.write_text(json.dumps(marker, indent=1))
        os.replace(ready, plan.venv / READY_MARKER)
        say(f"virtualenv {plan.key} ready in {time.monotonic() - started:.1f} s")

    async def _step(self, function: str, argv: list[str], plan: Plan, what: str) -> None:
        """Run one build step, its output under the function's name; raises ``DependenciesFailed``."""
        tail: deque[str] = deque(maxlen=40)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=plan.requirements.parent,  # relative paths in requirements.txt are the function's
                env=self._env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C is emu's to handle: it stops the build itself
                limit=1 << 20,
            )
        except OSError as exc:
            raise DependenciesFailed(f"{what} could not start: {exc.strerror or exc}") from exc
        try:
            assert proc.stdout is not None
            async for raw in proc.stdout:
                line = raw.rstrip(b"\r\n")
                if line.strip():
                    tail.append(line.decode("utf-8", "replace"))
                    self._console.output(function, line)
            code = await proc.wait()
        except BaseException:  # cancelled at shutdown: take the step down with it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise
        if code != 0:
            raise DependenciesFailed(f"{what} failed (exit status {code}): {pip_summary(tail)}", summary=pip_summary(tail))

    @contextlib.asynccontextmanager
    async def _locked(self, function: str, plan: Plan) -> AsyncIterator[None]:
        """Hold the virtualenv's file lock: another emu building the same one is waited for, not raced."""
        plan.venv.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(plan.venv.parent / f"{plan.key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                if not told:
                    self._console.platform(function, f"dependencies: waiting for another emu building virtualenv {plan.key}")
                    told = True
                await asyncio.sleep(_LOCK_POLL_S)
            yield
        finally:
            os.close(fd)  # releases the lock

    async def aclose(self) -> None:
        """Stop the builds under way; what they leave has no marker and is built again next time."""
        builds = list(self._builds.values())
        for build in builds:
            build.cancel()
        if builds:
            await asyncio.gather(*builds, return_exceptions=True)


async def _remove(path: Path) -> None:
    if path.exists():
        await asyncio.get_running_loop().run_in_executor(None, lambda: shutil.rmtree(path, ignore_errors=True))
