"""Shared test fixtures: a real ``emu up`` subprocess on a free loopback port.

``emu_server(config_text, files)`` writes a project into a temporary folder,
starts emu on it, waits for ``/_emu/health`` and hands back an ``EmuProcess``
with its URL, a boto3 client and its log. Every process is stopped afterwards.
``emu_module_server`` does the same once for a whole test module.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable, Iterator

import psutil
import pytest
import requests

FUNCTIONS = Path(__file__).parent / "functions"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmuProcess:
    def __init__(self, root: Path, args: list[str], env: dict[str, str] | None = None) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / "emu.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "up", "--port", str(self.port), *args],
            cwd=root,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )

    def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"emu exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "/_emu/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or slow to answer on a busy machine
                pass
            time.sleep(0.05)
        raise AssertionError(f"emu did not become ready:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 10, count: int = 1) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log()
            if log.count(text) >= count:
                return log
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not seen {count} times in the log:\n{self.log()}")

    def functions(self) -> dict[str, dict]:
        body = requests.get(self.url + "/_emu/functions", timeout=5).json()
        return {f["name"]: f for f in body["functions"]}

    def environments(self, name: str) -> list[dict]:
        return self.functions()[name]["environments"]

    def wait_for_environments(self, name: str, check: Callable[[list[dict]], bool], timeout: float = 15) -> list[dict]:
        """Poll ``/_emu/functions`` until ``check`` holds for ``name``'s environments."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            envs = self.environments(name)
            if check(envs):
                return envs
            time.sleep(0.05)
        raise AssertionError(f"environments of {name} never matched; last seen: {self.environments(name)}\n{self.log()}")

    @staticmethod
    def wait_for_exit(pid: int, timeout: float = 10) -> None:
        """Wait until ``pid`` is gone (a zombie nobody has reaped yet counts as gone)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    return
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)
        raise AssertionError(f"process {pid} is still running")

    def lambda_client(self, **config: object):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "lambda",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 0}, read_timeout=60, **config),
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def write_project(root: Path, config: str, functions: dict[str, str] | None = None, config_name: str = "emu.yaml") -> None:
    """``config`` is the config file's text; ``functions`` maps a code dir to a folder under tests/functions."""
    (root / config_name).write_text(textwrap.dedent(config))
    for target, source in (functions or {}).items():
        shutil.copytree(FUNCTIONS / source, root / target)


@pytest.fixture
def emu_server(tmp_path: Path) -> Iterator[Callable[..., EmuProcess]]:
    yield from _servers(lambda: tmp_path)


@pytest.fixture(scope="module")
def emu_module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., EmuProcess]]:
    """``emu_server`` for a whole module: one ``emu up`` its tests share, each started in a folder of its own."""
    yield from _servers(lambda: tmp_path_factory.mktemp("emu"))


def _servers(new_root: Callable[[], Path]) -> Iterator[Callable[..., EmuProcess]]:
    started: list[EmuProcess] = []

    def start(
        config: str,
        functions: dict[str, str] | None = None,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        ready: bool = True,
        config_name: str = "emu.yaml",
    ) -> EmuProcess:
        root = new_root()
        write_project(root, config, functions, config_name)
        emu = EmuProcess(root, args or [], env)
        started.append(emu)
        if ready:
            emu.wait_ready()
        return emu

    yield start
    for emu in started:
        emu.stop()
