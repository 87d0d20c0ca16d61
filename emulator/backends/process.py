"""The process backend: each environment is a local worker process.

Workers run in a session of their own so that killing one also kills anything it
forked, and their stdout and stderr share one pipe so that log lines keep the
order the function wrote them in.
"""

from __future__ import annotations

import asyncio
import os
import signal

import psutil

from emulator.backends.base import Backend, Handle, LaunchSpec, OutputSink
from emulator.errors import BackendError



class ProcessHandle(Handle):
    def __init__(self, proc: asyncio.subprocess.Process, on_output: OutputSink) -> None:
        self._proc = proc
        self.pid = proc.pid
        self._ps: psutil.Process | None = None
        self._pump = asyncio.ensure_future(self._read_output(on_output))

    async def _read_output(self, on_output: OutputSink) -> None:
        stream = self._proc.stdout
        assert stream is not None
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # a line longer than the stream's limit: pass it on in pieces
                line = await stream.read(65536)
            if not line:
                return
            on_output(line.rstrip(b"\r\n"))

    async def wait(self) -> int:
        code = await self._proc.wait()
        # Output written just before exit is still in the pipe: let it drain first,
        # so a crash's last words reach the invocation's log.
        try:
            await asyncio.wait_for(asyncio.shield(self._pump), 1.0)
        except asyncio.TimeoutError:
            pass
        return code

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
            for child in self._ps.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            return total
        except psutil.Error:
            return 0

    def peak_memory_bytes(self) -> int:
        # VmHWM is the kernel's own high-water mark, so a short spike between two
        # samples is still seen.
        try:
            with open(f"/proc/{self.pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmHWM:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            pass
        return 0


class ProcessBackend(Backend):
    name = "process"

    async def start(self, spec: LaunchSpec, on_output: OutputSink) -> Handle:
        try:
            proc = await asyncio.create_subprocess_exec(
                *spec.argv,
                cwd=spec.cwd,
                env=dict(spec.env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                limit=1 << 20,
            )
        except OSError as exc:
            raise BackendError(f"cannot start {spec.argv[0]}: {exc.strerror or exc}") from exc
        return ProcessHandle(proc, on_output)
