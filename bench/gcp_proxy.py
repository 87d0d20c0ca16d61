"""GCP path benchmark: functions-framework called directly, and the same function through emu.

    python bench/gcp_proxy.py [--quick]

In one run, on the same machine:
- direct: ``python -m functions_framework`` on a port of its own (8 threads);
- emu, one instance at ``concurrency: 8`` (the same shape as direct);
- emu, ``concurrency: 1`` scaled out to 8 instances.
For each: cold start, warm p50/p99 over a keep-alive http.client connection, and
requests/s at 8 and 32 concurrent clients. Medians; loopback only; bounded counts.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time

from harness import BENCH, Emu, free_port, loadgen, percentiles

BODY = b'{"hello": "world"}'
CONFIG = """
settings: {{queue_timeout: 30}}
functions:
  echo:
    provider: gcp
    runtime: python311
    entry_point: echo
    code: ./echo
    concurrency: {concurrency}
    max_instances: {max_instances}
    min_instances: {min_instances}
"""


def warm(port: int, path: str, n: int) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    samples = []
    for i in range(n + 200):
        start = time.perf_counter()
        conn.request("POST", path, BODY, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if i >= 200:
            samples.append(time.perf_counter() - start)
    conn.close()
    return percentiles(samples)


def first_answer(port: int, path: str, start: float) -> float:
    """Seconds from ``start`` until the first request to ``port`` is answered."""
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", path, BODY)
            conn.getresponse().read()
            return time.perf_counter() - start
        except OSError:
            time.sleep(0.002)


def direct_ff(threads: int = 8) -> tuple[subprocess.Popen, int, float]:
    port = free_port()
    code = BENCH / "functions" / "gcp_echo"
    env = {**os.environ, "THREADS": str(threads), "WORKERS": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "functions_framework", "--target", "echo", "--source", str(code / "main.py"),
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return proc, port, first_answer(port, "/", start)


def emu_cold(runs: int) -> float:
    """A request that finds no instance: the client waits for spawn, imports and the answer."""
    samples = []
    for _ in range(runs):
        emu = Emu(CONFIG.format(concurrency=8, max_instances=1, min_instances=0), {"echo": "gcp_echo"})
        try:
            samples.append(first_answer(emu.port, "/echo", time.perf_counter()))
        finally:
            emu.close()
    return statistics.median(samples) * 1000


def measure(port: int, path: str, n: int) -> dict:
    url = f"http://127.0.0.1:{port}{path}"
    p50, p99 = warm(port, path, n)
    loadgen(url, 8, n // 4)  # warm up (and scale out)
    c8 = loadgen(url, 8, n * 3)
    c32 = loadgen(url, 32, n * 3)
    return {"p50": p50, "p99": p99, "c8": c8, "c32": c32}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 600 if args.quick else 3000
    runs = 3 if args.quick else 7

    colds = []
    for _ in range(runs):
        proc, port, cold = direct_ff()
        colds.append(cold)
        proc.terminate()
        proc.wait()
    direct_cold = statistics.median(colds) * 1000
    proc, port, _ = direct_ff()
    try:
        direct = measure(port, "/", n)
    finally:
        proc.terminate()
        proc.wait()

    through_cold = emu_cold(runs)
    emu = Emu(CONFIG.format(concurrency=8, max_instances=1, min_instances=1), {"echo": "gcp_echo"})
    try:
        emu.wait_idle("echo", 1)
        one = measure(emu.port, "/echo", n)
    finally:
        emu.close()
    emu = Emu(CONFIG.format(concurrency=1, max_instances=8, min_instances=8), {"echo": "gcp_echo"})
    try:
        emu.wait_idle("echo", 8)
        eight = measure(emu.port, "/echo", n)
        rss = emu.rss_mb()
    finally:
        emu.close()

    def row(name: str, r: dict) -> str:
        return (f"  {name:<34} p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms  "
                f"c=8 {r['c8']['rps']:.0f}/s  c=32 {r['c32']['rps']:.0f}/s")

    print(f"emu GCP benchmark ({os.cpu_count()} cores, medians; load client: {one['c8'].get('client', 'bench/loadgen.py')})")
    print(row("functions-framework direct", direct))
    print(row("emu, 1 instance x concurrency 8", one))
    print(row("emu, 8 instances x concurrency 1", eight))
    print(f"  cold start: direct {direct_cold:.0f} ms, through emu {through_cold:.0f} ms "
          f"(+{through_cold - direct_cold:.0f} ms; bar <= +20 ms)")
    print(f"  one instance vs direct: throughput c=8 {one['c8']['rps'] / direct['c8']['rps']:.2f}x, "
          f"c=32 {one['c32']['rps'] / direct['c32']['rps']:.2f}x (bar >= 0.8x); "
          f"added p50 {one['p50'] - direct['p50']:+.2f} ms (bar <= 0.3 ms)")
    print(f"  router RSS after the runs: {rss:.1f} MB")
    errors = sum(c for r in (one, eight) for k in ("c8", "c32") for s, c in r[k]["statuses"].items() if not str(s).startswith("2"))
    print(f"  non-2xx answers through emu: {errors}")


if __name__ == "__main__":
    main()
