"""The most invokes/s awslambdaric workers can do on this machine: a baseline, not emu.

    python bench/runtime_ceiling.py WORKERS SECONDS

Starts WORKERS ``python -m awslambdaric`` processes against a minimal Runtime
API that answers ``/next`` at once with a canned event and counts responses: no
Invoke API, no pool, no logs. Prints one JSON line. Whatever emu reaches is a
fraction of this.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

EVENT = b'{"hello": "world"}'
NEXT = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: r-%d\r\n"
    b"Lambda-Runtime-Deadline-Ms: 9999999999999\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:echo\r\n"
    b"Lambda-Runtime-Trace-Id: Root=1-0-0\r\nContent-Length: %d\r\n\r\n%s"
)
ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}"


class _Runtime(asyncio.Protocol):
    done = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            if head.startswith(b"GET"):
                _Runtime.done += 1
                self.transport.write(NEXT % (_Runtime.done, len(EVENT), EVENT))  # type: ignore[attr-defined]
            else:
                self.transport.write(ACCEPTED)  # type: ignore[attr-defined]


async def main(workers: int, seconds: float) -> None:
    server = await asyncio.get_running_loop().create_server(_Runtime, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    code = Path(__file__).parent / "functions" / "echo"
    env = {"PATH": os.environ.get("PATH", ""), "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}", "PYTHONPATH": str(code),
           "_HANDLER": "app.handler", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11"}
    procs = [subprocess.Popen([sys.executable, "-m", "awslambdaric", "app.handler"], cwd=code, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    await asyncio.sleep(1.0)  # let them start
    start_count, start = _Runtime.done, time.perf_counter()
    await asyncio.sleep(seconds)
    rate = (_Runtime.done - start_count) / (time.perf_counter() - start)
    for proc in procs:
        proc.kill()
    print(json.dumps({"workers": workers, "rps": rate}))


if __name__ == "__main__":
    import uvloop

    uvloop.run(main(int(sys.argv[1]), float(sys.argv[2])))
