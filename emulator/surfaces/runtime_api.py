"""The Lambda Runtime API (2018-06-01), served to one environment per listening port.

Every environment gets a port of its own, handed to it as
``AWS_LAMBDA_RUNTIME_API``, so a connection is tied to one environment by where
it arrived: no environment can fetch or answer another's invocation. The
protocol is small and on the hot path, so it is parsed with httptools directly.
Paths, headers and error bodies follow the Runtime Interface Emulator.

TCP_NODELAY is set on every connection: without it libcurl in awslambdaric
waits for a delayed ACK and stalls about 88 ms per invoke.
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import httptools

if TYPE_CHECKING:
    from emulator.execution.invocation import Invocation

_PREFIX = b"/2018-06-01/runtime/"
_NEXT = b"/2018-06-01/runtime/invocation/next"
_INIT_ERROR = b"/2018-06-01/runtime/init/error"
_INVOCATION = b"/2018-06-01/runtime/invocation/"
_ERROR_TYPE_HEADER = b"lambda-runtime-function-error-type"
# Lambda's response limit plus headroom; anything bigger is reported as too large.
MAX_BODY = 6_291_556


@dataclass(frozen=True, slots=True)
class RuntimeApiReply:
    status: int
    body: bytes

    @classmethod
    def accepted(cls) -> RuntimeApiReply:
        return cls(202, b'{"status":"OK"}\n')

    @classmethod
    def invalid_request_id(cls) -> RuntimeApiReply:
        return cls._error(400, "InvalidRequestID", "Invalid request ID")

    @classmethod
    def invalid_state(cls, current: str, attempted: str) -> RuntimeApiReply:
        message = f"State transition from {current} to {attempted} failed for runtime. Error: State transition is not allowed"
        return cls._error(403, "InvalidStateTransition", message)

    @classmethod
    def too_large(cls, limit: int) -> RuntimeApiReply:
        return cls._error(413, "RequestEntityTooLarge", f"Exceeded maximum allowed payload size ({limit} bytes).")

    @classmethod
    def not_found(cls) -> RuntimeApiReply:
        return cls._error(404, "NotFound", "Not Found")

    @classmethod
    def method_not_allowed(cls) -> RuntimeApiReply:
        return cls._error(405, "MethodNotAllowed", "Method Not Allowed")

    @classmethod
    def bad_request(cls) -> RuntimeApiReply:
        return cls._error(400, "InvalidRequest", "Bad Request")

    @classmethod
    def _error(cls, status: int, error_type: str, message: str) -> RuntimeApiReply:
        return cls(status, json.dumps({"errorMessage": message, "errorType": error_type}).encode())


class RuntimeSession(Protocol):
    """What a connection may do, on behalf of the one environment it belongs to."""

    def next(self) -> RuntimeApiReply | asyncio.Future[Invocation]: ...

    def respond(self, request_id: str, body: bytes | None) -> RuntimeApiReply: ...

    def fail(self, request_id: str, body: bytes | None, error_type: str | None) -> RuntimeApiReply: ...

    def init_error(self, body: bytes, error_type: str | None) -> RuntimeApiReply: ...


_REASONS = {200: b"OK", 202: b"Accepted", 400: b"Bad Request", 403: b"Forbidden", 404: b"Not Found", 405: b"Method Not Allowed", 413: b"Payload Too Large", 500: b"Internal Server Error"}


class RuntimeApiProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection from a runtime. Requests are answered in order."""

    def __init__(self, session: RuntimeSession) -> None:
        self._session = session
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._body: list[bytes] = []
        self._size = 0
        self._error_type: str | None = None
        self._queue: list[tuple[bytes, bytes, bytes | None, str | None, bool]] = []
        self._busy = False
        self._waiting: asyncio.Future[Invocation] | None = None

    # -- asyncio.Protocol --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        # A runtime that hangs up while parked on /next must not be handed work.
        if self._waiting is not None and not self._waiting.done():
            self._waiting.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._write(RuntimeApiReply.bad_request(), keep_alive=False)

    # -- httptools callbacks -----------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._body = []
        self._size = 0
        self._error_type = None

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == _ERROR_TYPE_HEADER:
            self._error_type = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size <= MAX_BODY:
            self._body.append(body)

    def on_message_complete(self) -> None:
        body = b"".join(self._body) if self._size <= MAX_BODY else None
        method = self._parser.get_method()
        self._queue.append((method, self._url, body, self._error_type, self._parser.should_keep_alive()))
        if not self._busy:
            self._serve_next()

    # -- dispatch ------------------------------------------------------------------

    def _serve_next(self) -> None:
        while self._queue and self._transport is not None:
            method, url, body, error_type, keep_alive = self._queue.pop(0)
            reply = self._dispatch(method, url, body, error_type)
            if isinstance(reply, RuntimeApiReply):
                self._write(reply, keep_alive)
                continue
            self._busy = True
            self._waiting = reply
            reply.add_done_callback(lambda fut, ka=keep_alive: self._delivered(fut, ka))
            return

    def _delivered(self, fut: asyncio.Future[Invocation], keep_alive: bool) -> None:
        self._busy = False
        self._waiting = None
        if fut.cancelled() or self._transport is None:
            return
        inv = fut.result()
        self._write_invocation(inv, keep_alive)
        self._serve_next()

    def _dispatch(
        self, method: bytes, url: bytes, body: bytes | None, error_type: str | None
    ) -> RuntimeApiReply | asyncio.Future[Invocation]:
        path = url.split(b"?", 1)[0]
        if path == _NEXT:
            return self._session.next() if method == b"GET" else RuntimeApiReply.method_not_allowed()
        if method != b"POST":
            return RuntimeApiReply.method_not_allowed() if path.startswith(_PREFIX) else RuntimeApiReply.not_found()
        if path == _INIT_ERROR:
            if body is None:
                return RuntimeApiReply.too_large(MAX_BODY)
            return self._session.init_error(body, error_type)
        if path.startswith(_INVOCATION):
            request_id, _, action = path[len(_INVOCATION):].partition(b"/")
            rid = request_id.decode("latin-1")
            if action == b"response":
                return self._session.respond(rid, body)
            if action == b"error":
                return self._session.fail(rid, body, error_type)
        return RuntimeApiReply.not_found()

    # -- writing -------------------------------------------------------------------

    def _write(self, reply: RuntimeApiReply, keep_alive: bool) -> None:
        if self._transport is None:
            return
        head = b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (
            reply.status,
            _REASONS.get(reply.status, b"Unknown"),
            len(reply.body),
        )
        self._send(head, reply.body, keep_alive)

    def _write_invocation(self, inv: Invocation, keep_alive: bool) -> None:
        head = [
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
            b"Lambda-Runtime-Aws-Request-Id: %s\r\n" % inv.request_id.encode(),
            b"Lambda-Runtime-Deadline-Ms: %d\r\n" % inv.deadline_ms,
            b"Lambda-Runtime-Invoked-Function-Arn: %s\r\n" % inv.function_arn.encode(),
            b"Lambda-Runtime-Trace-Id: %s\r\n" % inv.trace_id.encode(),
        ]
        if inv.client_context:
            head.append(b"Lambda-Runtime-Client-Context: %s\r\n" % inv.client_context.encode())
        head.append(b"Content-Length: %d\r\n" % len(inv.payload))
        self._send(b"".join(head), inv.payload, keep_alive)

    def _send(self, head: bytes, body: bytes, keep_alive: bool) -> None:
        assert self._transport is not None
        if not keep_alive:
            head += b"Connection: close\r\n"
        self._transport.write(head + b"\r\n" + body)
        if not keep_alive:
            self._transport.close()
            self._transport = None
