"""``emu up`` as a subprocess for a test session: a free loopback port, ready when healthy, stopped cleanly.

The pytest plugin starts one ``EmuServer`` per config file and stops it at the
end of the session. Its output goes to a log file, whose tail is the message when
emu does not come up.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

READY_TIMEOUT_S = 60.0  # a first run may build virtualenvs before the health check answers
STOP_TIMEOUT_S = 10.0


class EmuStartError(Exception):
    """emu did not come up; the message ends with its output."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmuServer:
    def __init__(self, config: Path, log_path: Path, extra_args: tuple[str, ...] = ()) -> None:
        self.config = config
        self.log_path = log_path
        self._args = extra_args
        self.port = 0
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = READY_TIMEOUT_S) -> None:
        # A port another process takes between our probe and emu's bind shows up as
        # emu exiting at once ("port ... is already in use"): try another.
        for _ in range(3):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "emulator", "up", "--config", str(self.config), "--port", str(self.port),
                     "--no-watch", *self._args],
                    cwd=self.config.parent,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
            if self._wait_ready(timeout):
                return
            if "already in use" not in self.log():
                break
        code = self._proc.poll() if self._proc else None
        self.stop()
        how = f"exited with status {code}" if code is not None else f"did not answer within {timeout:.0f} s"
        raise EmuStartError(f"emu up --config {self.config} {how}; its output:\n{self.log()[-4000:]}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            try:
                if requests.get(self.url + "/_emu/health", timeout=1).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.05)
        return False

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> int | None:
        """SIGTERM, as Ctrl-C would: emu stops its workers before it exits. SIGKILL if it hangs."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode
