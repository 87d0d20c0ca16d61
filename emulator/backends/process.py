"""The process backend: each environment is a local worker process.

Workers run in a session of their own so that killing one also kills anything it
forked, and their stdout and stderr share one pipe so that log lines keep the
order the function wrote them in.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import psutil

from emulator.backends.base import Backend, Handle, LaunchSpec, OutputSink
from emulator.errors import BackendError

_CHILDREN_EVERY_S = 1.0



class _WorkerProtocol(asyncio.SubprocessProtocol):
    """Splits the worker's output into lines and passes each on as soon as it is read.

    Lines are delivered from the I/O callback itself, not from a reader task, so a
    line written before the worker's response has reached the pool by the time the
    pool settles that response.
    """

    def __init__(self, on_output: OutputSink) -> None:
        self._on_output = on_output
        self._partial = b""
        self.exited: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.drained: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > 65536:  # a runaway line: pass it on in pieces
            lines.append(self._partial)
            self._partial = b""
        for line in lines:
            self._on_output(line.rstrip(b"\r"))

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if self._partial:
            self._on_output(self._partial)
            self._partial = b""
        if not self.drained.done():
            self.drained.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


class ProcessHandle(Handle):
    def __init__(self, transport: asyncio.SubprocessTransport, protocol: _WorkerProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self.pid = transport.get_pid()
        self._ps: psutil.Process | None = None
        self._children: list[psutil.Process] = []
        self._children_at = float("-inf")
        self._status_fd: int | None = None

    async def wait(self) -> int:
        await self._protocol.exited
        # Output written just before exit may still be in the pipe: let it drain first,
        # so a crash's last words reach the invocation's log. A forked child that
        # keeps the pipe open must not hold us up for long.
        try:
            await asyncio.wait_for(asyncio.shield(self._protocol.drained), 1.0)
        except asyncio.TimeoutError:
            pass
        code = self._transport.get_returncode()
        self._transport.close()
        self._close_status()
        return code if code is not None else -9

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def memory_bytes(self) -> int:
        try:
            if self._ps is None:
                self._ps = psutil.Process(self.pid)
            total = self._ps.memory_info().rss
            # Finding children scans all of /proc, so the list is refreshed once a second.
            now = time.monotonic()
            if now - self._children_at >= _CHILDREN_EVERY_S:
                self._children = self._ps.children(recursive=True)
                self._children_at = now
        except psutil.Error:
            return 0
        for child in self._children:
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def peak_memory_bytes(self) -> int:
        # VmHWM is the kernel's own high-water mark, so a short spike between two
        # samples is still seen. The status file is kept open and re-read with
        # pread: opening it each time cost more than the rest of an invocation.
        try:
            if self._status_fd is None:
                self._status_fd = os.open(f"/proc/{self.pid}/status", os.O_RDONLY)
            status = os.pread(self._status_fd, 8192, 0)
        except OSError:
            return 0
        start = status.find(b"VmHWM:")
        if start < 0:
            return 0  # a zombie has no memory left to report
        return int(status[start + 6 : status.index(b"kB", start)]) * 1024

    def _close_status(self) -> None:
        if self._status_fd is not None:
            os.close(self._status_fd)
            self._status_fd = None


class ProcessBackend(Backend):
    name = "process"

    async def start(self, spec: LaunchSpec, on_output: OutputSink) -> Handle:
        loop = asyncio.get_running_loop()
        try:
            transport, protocol = await loop.subprocess_exec(
                lambda: _WorkerProtocol(on_output),
                *spec.argv,
                cwd=spec.cwd,
                env=dict(spec.env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise BackendError(f"cannot start {spec.argv[0]}: {exc.strerror or exc}") from exc
        return ProcessHandle(transport, protocol)
