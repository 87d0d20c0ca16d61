"""emulator.upstream against real servers on loopback.

A real functions-framework instance (gunicorn gthread, what the router proxies
to) covers the ordinary path; small servers written here cover what it will not
do on demand: chunked and until-close bodies, Connection: close, HTTP/1.0, a
server that drops idle connections, one that dies mid-body, 204/304/HEAD, a
slow consumer, 20 MB both ways. Those run on both asyncio's loop and uvloop
(the one uvicorn uses), since their transports differ where it matters.
Coroutines are driven with ``asyncio.run`` / ``uvloop.run`` from plain tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.client
import json
import os
import socket
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Coroutine, Iterator

import pytest
import uvicorn
import uvloop

from emulator.upstream import Upstream, UpstreamError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Runner = Callable[[Coroutine[object, object, object]], object]

MB = 1024 * 1024


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    return asyncio.run if request.param == "asyncio" else uvloop.run


def free_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """One request off the wire: its raw head, its headers (names in lower case) and its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    headers = {}
    for line in head[:-4].split(b"\r\n")[1:]:
        name, value = line.split(b":", 1)
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        parts = []
        while size := int(await reader.readline(), 16):
            parts.append(await reader.readexactly(size))
            await reader.readline()
        await reader.readline()
        body = b"".join(parts)
    else:
        body = b""
    return head, headers, body


class RawServer:
    """An asyncio server on a free loopback port running ``handle`` for each connection."""

    def __init__(self, handle: Handler) -> None:
        self.handle = handle
        self.connections = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                await self.handle(reader, writer)
        finally:
            writer.close()
            self._tasks.discard(task)

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def keep_alive(respond: Callable[[bytes, bytes], bytes]) -> Handler:
    """A handler answering every request on the connection with ``respond(head, body)``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, _, body = await read_request(reader)
            writer.write(respond(head, body))
            await writer.drain()

    return handle


def ok(body: bytes = b"ok", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


async def pieces(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    block = os.urandom(size)
    for start in range(0, total, size):
        yield block[: min(size, total - start)]


# --- a real functions-framework instance ---------------------------------------------

PROBE = """
    import hashlib
    import flask

    def probe(request):
        body = request.get_data()
        if request.args.get("size"):
            return "x" * int(request.args["size"])
        return flask.jsonify(
            method=request.method,
            raw_uri=request.environ.get("RAW_URI"),
            remote_port=request.environ.get("REMOTE_PORT"),
            host=request.headers.get("Host"),
            length=len(body),
            sha=hashlib.sha256(body).hexdigest(),
            transfer_encoding=request.headers.get("Transfer-Encoding"),
            content_length=request.headers.get("Content-Length"),
            hop=request.headers.get("X-Hop"),
            kept=request.headers.get("X-Kept"),
        )
"""


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    pytest.importorskip("functions_framework")
    root: Path = tmp_path_factory.mktemp("instance")
    (root / "main.py").write_text(textwrap.dedent(PROBE))
    with free_socket() as sock:
        port = sock.getsockname()[1]
    log = open(root / "instance.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "functions_framework", "--target", "probe", "--source", "main.py", "--port", str(port), "--host", "127.0.0.1"],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("functions-framework did not start:\n" + (root / "instance.log").read_text())
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            try:
                conn.request("GET", "/")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
            finally:
                conn.close()
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def probe(upstream: Upstream, method: str = "GET", target: str = "/", headers=(), body=b"") -> dict:
    response = await upstream.request(method, target, list(headers), body)
    assert response.status == 200
    return json.loads(await response.read())


def test_instance_sees_the_request_as_sent(instance: int):
    async def main() -> None:
        upstream = Upstream("127.0.0.1", instance)
        response = await upstream.request("GET", "/a%2Fb/c?x=1&y=%zz", [(b"user-agent", b"t")], b"")
        seen = json.loads(await response.read())
        names = [name for name, _ in response.headers]
        assert response.status == 200
        assert b"connection" not in names and all(name == name.lower() for name in names)
        assert seen["raw_uri"] == "/a%2Fb/c?x=1&y=%zz"
        assert seen["host"] == f"127.0.0.1:{instance}"
        assert seen["content_length"] is None  # an empty GET carries no length

        headers = [(b"Host", b"fn.example"), (b"Connection", b"x-hop"), (b"X-Hop", b"1"), (b"X-Kept", b"2"), (b"Keep-Alive", b"9")]
        seen = await probe(upstream, "POST", "/", headers, b"")
        assert (seen["host"], seen["hop"], seen["kept"], seen["content_length"]) == ("fn.example", None, "2", "0")
        upstream.close()

    uvloop.run(main())


def test_instance_connection_is_kept_and_idle_ones_expire(instance: int):
    async def main() -> None:
        upstream = Upstream("127.0.0.1", instance, idle_timeout=0.2)
        ports = {(await probe(upstream))["remote_port"] for _ in range(3)}
        assert len(ports) == 1
        assert repr(upstream) == f"<Upstream 127.0.0.1:{instance} [0 busy, 1 idle]>"
        await asyncio.sleep(0.3)
        assert (await probe(upstream))["remote_port"] not in ports
        upstream.close()

    uvloop.run(main())


def test_instance_concurrent_requests_share_the_pool(instance: int):
    async def main() -> None:
        upstream = Upstream("127.0.0.1", instance)
        first = await asyncio.gather(*(probe(upstream) for _ in range(6)))
        second = await asyncio.gather(*(probe(upstream) for _ in range(6)))
        assert {seen["remote_port"] for seen in second} <= {seen["remote_port"] for seen in first}
        assert "0 busy" in repr(upstream)
        upstream.close()

    uvloop.run(main())


def test_instance_bodies_bytes_chunked_and_expect(instance: int):
    async def main() -> None:
        upstream = Upstream("127.0.0.1", instance)
        data = os.urandom(3 * MB)
        seen = await probe(upstream, "POST", "/", [(b"content-length", b"5")], data)
        assert (seen["length"], seen["sha"], seen["content_length"]) == (len(data), hashlib.sha256(data).hexdigest(), str(len(data)))

        async def stream() -> AsyncIterator[bytes]:
            for start in range(0, len(data), MB):
                yield data[start : start + MB]

        seen = await probe(upstream, "PUT", "/", [], stream())
        assert (seen["length"], seen["sha"], seen["transfer_encoding"]) == (len(data), hashlib.sha256(data).hexdigest(), "chunked")
        # gunicorn answers Expect with an interim 100 Continue before the real response.
        seen = await probe(upstream, "POST", "/", [(b"expect", b"100-continue")], b"hello")
        assert seen["length"] == 5
        response = await upstream.request("GET", "/?size=5000000", [], b"")
        assert len(await response.read()) == 5_000_000
        assert "1 idle" in repr(upstream)
        upstream.close()

    uvloop.run(main())


def test_instance_head_has_no_body_and_keeps_the_connection(instance: int):
    async def main() -> None:
        upstream = Upstream("127.0.0.1", instance)
        port = (await probe(upstream))["remote_port"]
        response = await upstream.request("HEAD", "/", [], b"")
        assert response.status == 200 and int(dict(response.headers)[b"content-length"]) > 0
        assert await response.read() == b""
        assert (await probe(upstream))["remote_port"] == port
        upstream.close()

    uvloop.run(main())


# --- edge cases on small servers --------------------------------------------------------


def test_request_head_framing(run: Runner):
    heads: list[bytes] = []

    def respond(head: bytes, body: bytes) -> bytes:
        heads.append(head)
        return ok()

    async def main() -> None:
        async with RawServer(keep_alive(respond)) as server:
            upstream = Upstream("127.0.0.1", server.port)
            headers = [(b"X-A", b"1"), (b"TE", b"trailers"), (b"Transfer-Encoding", b"gzip"), (b"Content-Length", b"99"), (b"Upgrade", b"h2c")]
            await (await upstream.request("GET", b"/p?q=%20", headers, b"")).read()
            await (await upstream.request("DELETE", "/d", [(b"host", b"h")], b"abc")).read()
            upstream.close()
        host = b"host: 127.0.0.1:%d\r\n" % server.port
        assert heads[0] == b"GET /p?q=%20 HTTP/1.1\r\nX-A: 1\r\n" + host + b"\r\n"
        assert heads[1] == b"DELETE /d HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\n\r\n"

    run(main())


def test_chunked_response_streams_and_reuses(run: Runner):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x\r\n\r\n")
            for piece in (b"one", b"two", b"three"):
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await writer.drain()
                await asyncio.sleep(0.01)
            writer.write(b"0\r\nx: 1\r\n\r\n")

    async def main() -> None:
        async with RawServer(handle) as server:
            upstream = Upstream("127.0.0.1", server.port)
            response = await upstream.request("GET", "/", [], b"")
            assert response.headers == []
            assert [piece async for piece in response.body()] == [b"one", b"two", b"three"]
            assert await (await upstream.request("GET", "/", [], b"")).read() == b"onetwothree"
            assert server.connections == 1
            upstream.close()

    run(main())


@pytest.mark.parametrize(
    "response",
    [
        ok(b"bye", b"connection: close, x-private\r\nx-private: 1\r\n"),
        b"HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nbye",
        b"HTTP/1.1 200 OK\r\n\r\nbye",  # no length: the body ends with the connection
    ],
    ids=["connection-close", "http-1.0", "until-close"],
)
def test_responses_that_end_the_connection(run: Runner, response: bytes):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response)
        await writer.drain()

    async def main() -> None:
        async with RawServer(handle) as server:
            upstream = Upstream("127.0.0.1", server.port)
            for _ in range(2):
                answer = await upstream.request("GET", "/", [], b"")
                assert answer.headers in ([], [(b"content-length", b"3")])
                assert await answer.read() == b"bye"
            assert server.connections == 2
            upstream.close()

    run(main())


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses_and_head(run: Runner, status: int):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, _, _ = await read_request(reader)
            if head.startswith(b"HEAD"):
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
            elif head.startswith(b"GET /status"):
                writer.write(b"HTTP/1.1 %d X\r\ncontent-length: 7\r\n\r\n" % status)
            else:
                writer.write(ok())

    async def main() -> None:
        async with RawServer(handle) as server:
            upstream = Upstream("127.0.0.1", server.port)
            for method, target in [("HEAD", "/"), ("GET", "/status"), ("HEAD", "/")]:
                response = await upstream.request(method, target, [], b"")
                assert await response.read() == b""
                assert await (await upstream.request("GET", "/", [], b"")).read() == b"ok"
            assert server.connections == 1
            upstream.close()

    run(main())


class IdleDropper(socketserver.ThreadingTCPServer):
    """A blocking server in a thread that closes a connection idle for 0.2 s, as gunicorn does at 2 s."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.connections = 0
        super().__init__(("127.0.0.1", 0), _IdleDropperHandler)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()


class _IdleDropperHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.server.connections += 1  # type: ignore[attr-defined]
        self.connection.settimeout(0.2)
        try:
            while True:
                line = self.rfile.readline()
                while line not in (b"\r\n", b""):
                    line = self.rfile.readline()
                if not line:
                    return
                self.wfile.write(ok())
        except TimeoutError:
            return


@pytest.mark.parametrize("replayable", [True, False])
def test_stale_connection_is_retried_once_for_bytes_bodies(run: Runner, replayable: bool):
    server = IdleDropper()

    async def main() -> None:
        upstream = Upstream("127.0.0.1", server.server_address[1])
        assert await (await upstream.request("GET", "/", [], b"")).read() == b"ok"
        # Block the loop past the server's idle limit, so the client picks the idle
        # connection up before it has seen the server's FIN: the race the retry is for.
        time.sleep(0.35)
        if replayable:
            assert await (await upstream.request("GET", "/", [], b"")).read() == b"ok"
            assert server.connections == 2
        else:
            with pytest.raises(UpstreamError):
                await upstream.request("POST", "/", [], pieces(10))
        upstream.close()

    try:
        run(main())
    finally:
        server.shutdown()
        server.server_close()


def test_server_dying_mid_body(run: Runner):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\npartial")
        await writer.drain()
        await asyncio.sleep(0.05)

    async def main() -> None:
        async with RawServer(handle) as server:
            upstream = Upstream("127.0.0.1", server.port)
            response = await upstream.request("GET", "/", [], b"")
            received = []
            with pytest.raises(UpstreamError):
                async for piece in response.body():
                    received.append(piece)
            assert received == [b"partial"]
            with pytest.raises(UpstreamError):
                await (await upstream.request("GET", "/", [], b"")).read()
            upstream.close()

    run(main())


def test_connect_and_early_close_errors(run: Runner):
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async def main() -> None:
        with free_socket() as sock:
            port = sock.getsockname()[1]
        with pytest.raises(UpstreamError, match="cannot connect"):
            await Upstream("127.0.0.1", port).request("GET", "/", [], b"")
        async with RawServer(hang_up) as server:
            upstream = Upstream("127.0.0.1", server.port)
            with pytest.raises(UpstreamError, match="before the response"):
                await upstream.request("GET", "/", [], b"")
            upstream.close()

    run(main())


def test_close_fails_what_is_in_flight_and_what_comes_later(run: Runner):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf")
        await writer.drain()
        await asyncio.sleep(1)

    async def main() -> None:
        async with RawServer(handle) as server:
            upstream = Upstream("127.0.0.1", server.port)
            response = await upstream.request("GET", "/", [], b"")
            upstream.close()
            with pytest.raises(UpstreamError):
                await response.read()
            with pytest.raises(UpstreamError, match="closed"):
                await upstream.request("GET", "/", [], b"")

    run(main())


def test_slow_consumer_holds_the_server_back(run: Runner):
    total = 64 * MB
    sent = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % total)
            block = b"z" * MB
            for _ in range(total // MB):
                writer.write(block)
                await writer.drain()
                sent += MB

    async def main() -> None:
        async with RawServer(handle) as server:
            upstream = Upstream("127.0.0.1", server.port)
            response = await upstream.request("GET", "/", [], b"")
            await asyncio.sleep(0.3)
            buffered = int(repr(response).split("[incoming, ")[1].split(" ")[0])
            assert buffered <= 1 * MB  # the watermark plus one read, whatever the kernel holds
            assert sent < total
            received = 0
            async for piece in response.body():
                received += len(piece)
            assert received == total
            assert await (await upstream.request("GET", "/", [], b"")).read() is not None
            assert server.connections == 1
            upstream.close()

    run(main())


def test_request_body_waits_for_a_slow_server(run: Runner):
    total = 64 * MB
    produced = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.3)  # not reading: the client must stop sending, not buffer
        progress.append(produced)
        _, _, body = await read_request(reader)
        writer.write(ok(b"%d" % len(body)))
        await writer.drain()

    async def counted() -> AsyncIterator[bytes]:
        nonlocal produced
        async for piece in pieces(total):
            produced += len(piece)
            yield piece

    async def main() -> None:
        async with RawServer(handle) as server:
            upstream = Upstream("127.0.0.1", server.port)
            response = await upstream.request("POST", "/", [], counted())
            assert await response.read() == b"%d" % total
            assert progress[0] < 16 * MB
            upstream.close()

    progress: list[int] = []
    run(main())


async def echo(scope: dict, receive: Callable, send: Callable) -> None:
    """An ASGI app streaming the request body back as it reads it: full duplex."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    while True:
        message = await receive()
        await send({"type": "http.response.body", "body": message.get("body", b""), "more_body": True})
        if not message.get("more_body"):
            break
    await send({"type": "http.response.body", "body": b""})


@contextlib.asynccontextmanager
async def uvicorn_serving(app: Callable) -> AsyncIterator[int]:
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, http="httptools", lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


def test_twenty_megabytes_each_way(run: Runner):
    size = 20 * MB

    async def main() -> None:
        async with uvicorn_serving(echo) as port:
            upstream = Upstream("127.0.0.1", port)
            for body in (pieces(size), os.urandom(size)):
                expected = hashlib.sha256()
                if isinstance(body, bytes):
                    expected.update(body)
                else:
                    source = body

                    async def tee() -> AsyncIterator[bytes]:
                        async for piece in source:
                            expected.update(piece)
                            yield piece

                    body = tee()
                response = await upstream.request("POST", "/", [], body)
                got = hashlib.sha256()
                async for piece in response.body():
                    got.update(piece)
                assert got.hexdigest() == expected.hexdigest()
            assert repr(upstream).endswith("[0 busy, 1 idle]>")
            upstream.close()

    run(main())


def test_early_response_stops_the_request_body(run: Runner):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 413 Too Large\r\ncontent-length: 3\r\n\r\nbig")
        await writer.drain()
        await asyncio.sleep(1)

    async def main() -> None:
        done = asyncio.Event()

        async def endless() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"x" * 1024
                    await asyncio.sleep(0.001)
            finally:
                done.set()

        async with RawServer(handle) as server:
            upstream = Upstream("127.0.0.1", server.port)
            response = await upstream.request("POST", "/", [], endless())
            assert (response.status, await response.read()) == (413, b"big")
            await asyncio.wait_for(done.wait(), 2)
            assert repr(upstream).endswith("[0 busy, 0 idle]>")
            upstream.close()

    run(main())


def test_body_iterator_failure_and_cancellation(run: Runner):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(1)

    async def main() -> None:
        async def broken() -> AsyncIterator[bytes]:
            yield b"a"
            raise ValueError("client went away")

        async with RawServer(handle) as server:
            upstream = Upstream("127.0.0.1", server.port)
            with pytest.raises(ValueError, match="client went away"):
                await upstream.request("POST", "/", [], broken())
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(upstream.request("GET", "/", [], b""), 0.1)
            await asyncio.sleep(0.01)
            assert repr(upstream).endswith("[0 busy, 0 idle]>")
            upstream.close()

    run(main())
