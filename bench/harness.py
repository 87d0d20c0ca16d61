"""What every benchmark shares: a temporary project, a running ``emu up``, a few stats."""

from __future__ import annotations

import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emu:
    """``emu up`` on a temporary project, its output discarded as a quiet terminal would."""

    def __init__(self, config: str, functions: dict[str, str], args: tuple[str, ...] = ()) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="emu-bench-"))
        (self.root / "emu.yaml").write_text(config)
        for target, source in functions.items():
            shutil.copytree(BENCH / "functions" / source, self.root / target)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "up", "--port", str(self.port), *args],
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/_emu/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("emu did not start")

    def environments(self, name: str) -> list[dict]:
        functions = requests.get(self.url + "/_emu/functions", timeout=5).json()["functions"]
        return next(f for f in functions if f["name"] == name)["environments"]

    def wait_idle(self, name: str, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for e in self.environments(name) if e["state"] == "idle") >= count:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{name}: {count} idle environments never appeared")

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process(self.proc.pid).memory_info().rss / 1048576

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def loadgen(url: str, concurrency: int, total: int, body: str = '{"hello": "world"}') -> dict:
    out = subprocess.run(
        [sys.executable, str(BENCH / "loadgen.py"), url, "-c", str(concurrency), "-n", str(total), "--body", body],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_s)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
