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
    """Closed-loop load: ``wrk`` when installed (a C client costs the 2-core machine
    less), else bench/loadgen.py. Same result shape either way."""
    if shutil.which("wrk"):
        return _wrk(url, concurrency, total, body)
    out = subprocess.run(
        [sys.executable, str(BENCH / "loadgen.py"), url, "-c", str(concurrency), "-n", str(total), "--body", body],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def _wrk(url: str, concurrency: int, total: int, body: str) -> dict:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("EMU %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,\n'
        "    latency:percentile(50), latency:percentile(99), summary.errors.status, summary.errors.connect + summary.errors.read\n"
        "    + summary.errors.write, summary.errors.timeout))\n"
        "end\n"
    )
    # wrk runs for a time, not a count: aim at about ``total`` requests at ~3,000/s, bounded.
    seconds = min(10, max(2, round(total / 3000)))
    try:
        out = subprocess.run(
            ["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{seconds}s", "-s", str(script), url],
            check=True, capture_output=True, text=True,
        ).stdout
    finally:
        script.unlink()
    fields = next(line for line in out.splitlines() if line.startswith("EMU ")).split()[1:]
    requests_, duration_us, p50_us, p99_us, non_2xx, socket_errors, timeouts = (int(f) for f in fields)
    return {
        "client": "wrk",
        "concurrency": concurrency,
        "requests": requests_,
        "rps": requests_ / (duration_us / 1e6),
        "p50_ms": p50_us / 1000,
        "p99_ms": p99_us / 1000,
        # wrk counts non-2xx answers together; the runs here expect only 200s.
        "statuses": {"200": requests_ - non_2xx, "non-2xx": non_2xx},
        "socket_errors": socket_errors + timeouts,
    }


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_s)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
