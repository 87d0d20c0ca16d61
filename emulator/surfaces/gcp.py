"""Cloud Functions over HTTP: ``/{name}`` and ``/{name}/{path…}``, the 1st-gen URL shape.

Every method, query string, header and body goes to the function unchanged,
with the function's name taken off the front of the path as the platform does,
and the answer comes back unchanged. Bodies stream both ways.

One exception: a structured-mode CloudEvent sent to a legacy ``event`` function
is re-sent in binary mode. functions-framework converts only binary-mode
CloudEvents for such functions (a structured one reaches them with an empty
context), and Eventarc only ever delivers binary mode, so this is the same event
in the form the platform would have carried it.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, AsyncIterator
from urllib.parse import quote

from emulator.execution.gcp_invoke import GcpInvoker, Headers
from emulator.execution.gcp_pool import GcpPool
from emulator.runtimes.gcp_python import signature_of
from emulator.surfaces.asgi import Receive, Scope, Send, header
from emulator.wire.gcp_events import is_json

# HTTP Protocol Binding for CloudEvents 1.0.2, §3.2.1.
_STRUCTURED = "application/cloudevents+json"


class _AsgiSink:
    __slots__ = ("_send",)

    def __init__(self, send: Send) -> None:
        self._send = send

    async def start(self, status: int, headers: Headers) -> None:
        await self._send({"type": "http.response.start", "status": status, "headers": headers})

    async def body(self, chunk: bytes, more: bool) -> None:
        await self._send({"type": "http.response.body", "body": chunk, "more_body": more})


class GcpSurface:
    def __init__(self, invoker: GcpInvoker) -> None:
        self.invoker = invoker

    async def __call__(self, scope: Scope, receive: Receive, send: Send, pool: GcpPool) -> None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        # Keep the path exactly as the client encoded it, minus "/{name}".
        rest = raw_path[1 + len(pool.spec.name):] or b"/"
        target = rest.decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers: Headers = list(scope["headers"])
        body = await _body(receive)
        content_type = header(scope, b"content-type") or ""
        if content_type.split(";", 1)[0].strip().lower() == _STRUCTURED and signature_of(pool.spec) == "event":
            if not isinstance(body, bytes):
                body = b"".join([chunk async for chunk in body])
            headers, body = _as_binary_mode(headers, body) or (headers, body)
        await self.invoker.request(pool, scope["method"], target, headers, body, _AsgiSink(send))


def _as_binary_mode(headers: Headers, body: bytes) -> tuple[Headers, bytes] | None:
    """A structured-mode CloudEvent as binary mode (HTTP binding §3.1), or None if the body is not one."""
    try:
        doc: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), str) for k in ("specversion", "id", "source", "type")):
        return None
    content_type = doc.get("datacontenttype") or "application/json"
    try:
        if "data_base64" in doc:
            data = base64.b64decode(doc["data_base64"], validate=True)
        elif "data" not in doc:
            data = b""
        elif isinstance(doc["data"], str) and not is_json(content_type):
            data = doc["data"].encode()
        else:
            data = json.dumps(doc["data"]).encode()
    except (TypeError, binascii.Error):
        return None
    out = [(k, v) for k, v in headers if k not in (b"content-type", b"content-length")]
    for name, value in doc.items():
        if name in ("data", "data_base64", "datacontenttype"):
            continue
        if not (isinstance(name, str) and name.isascii() and name.isalnum()):
            return None
        text = value if isinstance(value, str) else json.dumps(value)
        out.append((b"ce-" + name.lower().encode(), _header_value(text)))
    out.append((b"content-type", str(content_type).encode("latin-1", "replace")))
    return out, data


def _header_value(value: str) -> bytes:
    # The cloudevents SDK functions-framework uses does not percent-decode ce-* headers,
    # so printable ASCII goes as is; only what cannot be a header value is encoded (§3.1.3.2).
    if value.isascii() and value.isprintable() and value == value.strip():
        return value.encode("ascii")
    return quote(value, safe="!#$&'()*+,/:;<=>?@[\\]^`{|}~").encode("ascii")


async def _body(receive: Receive) -> bytes | AsyncIterator[bytes]:
    """The request body: bytes when it came in one piece (the usual case), else a stream."""
    first = await receive()
    if not first.get("more_body"):
        return first.get("body", b"")

    async def rest() -> AsyncIterator[bytes]:
        yield first.get("body", b"")
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            yield message.get("body", b"")
            more = message.get("more_body", False)

    return rest()
