"""Lambda path benchmark: warm latency, throughput, cold start and router memory.

    python bench/lambda_invoke.py [--quick]

Everything is measured in one run, beside baselines measured in the same run on
the same machine, so the ratios mean something on a noisy 2-core box:
- the floor of a cold start: ``python -m awslambdaric`` spawned by hand, until it
  first asks for work;
- the ceiling of the HTTP stack: a bare ASGI app on the same uvicorn, which
  answers at once with no worker behind it;
- the ceiling of the workers: the same awslambdaric processes fed by a minimal
  Runtime API with nothing in front of it (bench/runtime_ceiling.py).
Medians are quoted; loopback only, bounded request counts.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time

from harness import BENCH, Emu, free_port, loadgen, percentiles

CONFIG = """
functions:
  echo:
    runtime: python3.11
    handler: app.handler
    code: ./echo
    memory: 256
    timeout: 10
    provisioned_concurrency: 4
"""
BODY = b'{"hello": "world"}'


def warm_http_client(emu: Emu, n: int) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", emu.port)
    path = "/2015-03-31/functions/echo/invocations"
    samples = []
    for i in range(n + 200):
        start = time.perf_counter()
        conn.request("POST", path, BODY)
        response = conn.getresponse()
        response.read()
        if i >= 200:
            samples.append(time.perf_counter() - start)
        assert response.status == 200
    conn.close()
    return percentiles(samples)


def warm_boto3(emu: Emu, n: int) -> tuple[float, float]:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "lambda", endpoint_url=emu.url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 0}),
    )
    samples = []
    for i in range(n + 50):
        start = time.perf_counter()
        client.invoke(FunctionName="echo", Payload=BODY)["Payload"].read()
        if i >= 50:
            samples.append(time.perf_counter() - start)
    return percentiles(samples)


def cold_floor(runs: int) -> float:
    """Spawn of ``python -m awslambdaric`` until its first GET /next reaches a bare socket."""
    samples = []
    code = BENCH / "functions" / "echo"
    for _ in range(runs):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        env = {"PATH": os.environ.get("PATH", ""), "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % server.getsockname()[1],
               "_HANDLER": "app.handler", "PYTHONPATH": str(code), "LAMBDA_TASK_ROOT": str(code)}
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "awslambdaric", "app.handler"], cwd=code, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn, _ = server.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        samples.append(time.perf_counter() - start)
        proc.kill()
        proc.wait()
        conn.close()
        server.close()
    return statistics.median(samples) * 1000


def cold_emu(runs: int) -> tuple[float, float]:
    """Client-observed latency of a cold invoke, and the Init Duration emu reported for it."""
    emu = Emu(CONFIG.replace("provisioned_concurrency: 4", "provisioned_concurrency: 0"), {"echo": "echo"}, ("--always-cold",))
    try:
        latencies, inits = [], []
        conn = http.client.HTTPConnection("127.0.0.1", emu.port)
        for _ in range(runs):
            time.sleep(0.2)  # let the previous environment be torn down first
            start = time.perf_counter()
            conn.request("POST", "/2015-03-31/functions/echo/invocations", BODY, {"X-Amz-Log-Type": "Tail"})
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - start)
            import base64

            log = base64.b64decode(response.getheader("X-Amz-Log-Result")).decode()
            inits.append(float(log.split("Init Duration: ")[1].split(" ms")[0]))
        return statistics.median(latencies) * 1000, statistics.median(inits)
    finally:
        emu.close()


def bare_asgi_ceiling(concurrency: int, total: int) -> dict:
    """A do-nothing ASGI app on the same uvicorn stack: the most any router could do here."""
    port = free_port()
    app = (
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http': return\n"
        "    await receive()\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': [(b'content-length', b'2')]})\n"
        "    await send({'type': 'http.response.body', 'body': b'{}'})\n"
    )
    code = (
        f"import uvicorn\n{app}\n"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, loop='uvloop', http='httptools', lifespan='off', "
        "access_log=False, log_level='warning')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        return loadgen(f"http://127.0.0.1:{port}/", concurrency, total)
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer requests, for a smoke run")
    args = parser.parse_args()
    scale = 0.2 if args.quick else 1.0
    n = lambda count: max(50, int(count * scale))  # noqa: E731

    floor = cold_floor(n(15) if not args.quick else 5)
    cold_latency, cold_init = cold_emu(n(15) if not args.quick else 5)

    emu = Emu(CONFIG, {"echo": "echo"})
    try:
        emu.wait_idle("echo", 4)
        p50, p99 = warm_http_client(emu, n(3000))
        b50, b99 = warm_boto3(emu, n(500))
        url = emu.url + "/2015-03-31/functions/echo/invocations"
        loadgen(url, 8, n(2000))  # scale out and warm up before measuring
        c8 = loadgen(url, 8, n(20000))
        envs_c8 = len(emu.environments("echo"))
        loadgen(url, 32, n(2000))
        c32 = loadgen(url, 32, n(20000))
        envs_c32 = len(emu.environments("echo"))
        rss = emu.rss_mb()
    finally:
        emu.close()
    ceiling8 = bare_asgi_ceiling(8, n(20000))
    workers8 = json.loads(subprocess.run([sys.executable, str(BENCH / "runtime_ceiling.py"), str(envs_c8), "3"],
                                         check=True, capture_output=True, text=True).stdout)

    def errors(result: dict) -> int:
        return sum(count for status, count in result["statuses"].items() if not str(status).startswith("2"))

    rows = [
        ("warm p50 / p99, http.client keep-alive", f"{p50:.2f} ms / {p99:.2f} ms", "bar: p50 <= 0.8 ms"),
        ("warm p50 / p99, boto3", f"{b50:.2f} ms / {b99:.2f} ms", ""),
        (f"invokes/s at c=8 ({envs_c8} environments)", f"{c8['rps']:.0f}/s, p50 {c8['p50_ms']:.2f} ms",
         f"bar: >= 4000/s; {c8['rps'] / ceiling8['rps']:.2f}x a bare ASGI app ({ceiling8['rps']:.0f}/s)"),
        (f"awslambdaric alone, {envs_c8} workers, no router", f"{workers8['rps']:.0f}/s",
         f"emu reaches {c8['rps'] / workers8['rps']:.2f}x of what its workers can do"),
        (f"invokes/s at c=32 ({envs_c32} environments)", f"{c32['rps']:.0f}/s, p50 {c32['p50_ms']:.2f} ms", ""),
        ("non-2xx answers (c=8 + c=32)", str(errors(c8) + errors(c32)), "bar: 0"),
        ("router RSS after c=32", f"{rss:.1f} MB", "bar: < 100 MB"),
        ("cold start floor (awslambdaric spawn -> first /next)", f"{floor:.1f} ms", ""),
        ("cold invoke through emu (client-observed)", f"{cold_latency:.1f} ms",
         f"bar: <= floor + 20 ms; here floor + {cold_latency - floor:.1f} ms ({cold_latency / floor:.2f}x)"),
        ("Init Duration emu reported", f"{cold_init:.1f} ms", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"emu Lambda benchmark ({os.cpu_count()} cores, medians; load client: {c8.get('client', 'bench/loadgen.py')})")
    for name, value, note in rows:
        print(f"  {name.ljust(width)}  {value:<28} {note}")
    print(json.dumps({"c8": c8, "c32": c32, "ceiling_c8": ceiling8}, indent=None))


if __name__ == "__main__":
    main()
