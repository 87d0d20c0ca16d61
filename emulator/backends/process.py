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

from emulator.backends.base import Backend, Handle, LaunchSpec, OutputSink
from emulator.backends.proc_memory import TreeMemory
from emulator.errors import BackendError



class _Output:
    """The worker's stdout and stderr: one pipe of emu's own, split into lines.

    The pipe is emu's rather than the subprocess transport's so that it can also
    be read on demand: ``drain()`` takes whatever the worker has written so far,
    which is how a line printed just before a response is in the invocation's log
    when the response is settled.
    """

    def __init__(self, fd: int, on_output: OutputSink, loop: asyncio.AbstractEventLoop) -> None:
        self._fd = fd
        self._on_output = on_output
        self._loop = loop
        self._partial = b""
        self.closed: asyncio.Future[None] = loop.create_future()
        os.set_blocking(fd, False)
        loop.add_reader(fd, self.drain)

    def drain(self) -> None:
        while self._fd >= 0:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.close()
                return
            self._feed(data)

    def _feed(self, data: bytes) -> None:
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > 65536:  # a runaway line: pass it on in pieces
            lines.append(self._partial)
            self._partial = b""
        for line in lines:
            self._on_output(line.rstrip(b"\r"))

    def close(self) -> None:
        if self._fd < 0:
            return
        self._loop.remove_reader(self._fd)
        os.close(self._fd)
        self._fd = -1
        if self._partial:
            self._on_output(self._partial)
            self._partial = b""
        if not self.closed.done():
            self.closed.set_result(None)


class _Exit(asyncio.SubprocessProtocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.exited: asyncio.Future[None] = loop.create_future()

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


class ProcessHandle(Handle):
    def __init__(self, transport: asyncio.SubprocessTransport, protocol: _Exit, output: _Output) -> None:
        self._transport = transport
        self._protocol = protocol
        self._output = output
        self.pid = transport.get_pid()
        self._memory = TreeMemory(self.pid)

    async def wait(self) -> int:
        await self._protocol.exited
        # Output written just before exit may still be in the pipe: let it drain first,
        # so a crash's last words reach the invocation's log. A forked child that
        # keeps the pipe open must not hold us up for long.
        try:
            await asyncio.wait_for(asyncio.shield(self._output.closed), 1.0)
        except asyncio.TimeoutError:
            pass
        self._output.close()
        code = self._transport.get_returncode()
        self._transport.close()
        self._memory.close()
        return code if code is not None else -9

    def drain_output(self) -> None:
        self._output.drain()

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def memory_bytes(self) -> int:
        return self._memory.now()

    def peak_memory_bytes(self) -> int:
        return self._memory.peak()

    def refresh_children(self) -> int:
        return self._memory.refresh()


class ProcessBackend(Backend):
    name = "process"

    async def start(self, spec: LaunchSpec, on_output: OutputSink) -> Handle:
        loop = asyncio.get_running_loop()
        read_end, write_end = os.pipe()
        try:
            transport, protocol = await loop.subprocess_exec(
                lambda: _Exit(loop),
                *spec.argv,
                cwd=spec.cwd,
                env=dict(spec.env),
                stdin=subprocess.DEVNULL,
                stdout=write_end,
                stderr=write_end,
                start_new_session=True,
            )
        except OSError as exc:
            os.close(read_end)
            raise BackendError(f"cannot start {spec.argv[0]}: {exc.strerror or exc}") from exc
        finally:
            os.close(write_end)  # the worker holds its own copy
        return ProcessHandle(transport, protocol, _Output(read_end, on_output, loop))
