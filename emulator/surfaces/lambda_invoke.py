"""The Lambda Invoke API: ``POST /2015-03-31/functions/{FunctionName}/invocations``.

boto3 and ``aws lambda invoke --endpoint-url`` talk to it unchanged. It parses
the request, hands an ``Invocation`` to the function's pool and renders the
outcome: a function failure is a 200 with ``X-Amz-Function-Error``, an API
error is whatever ``wire.lambda_errors`` says.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import parse_qs

from emulator import errors
from emulator.execution.invocation import Invocation, new_request_id
from emulator.execution.registry import Registry
from emulator.surfaces.asgi import JSON, BodyTooLarge, Headers, Receive, Scope, Send, header, read_body, respond
from emulator.wire import lambda_errors

# Request limits: 6 MB synchronous, 1 MB asynchronous.
SYNC_LIMIT = 6 * 1024 * 1024
ASYNC_LIMIT = 1024 * 1024

# Lambda's own FunctionName pattern: a name, a partial ARN or a full ARN, with an optional qualifier.
_FUNCTION_NAME = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:)?(?:[a-z]{2}(?:-gov)?-[a-z]+-\d:)?(?:\d{12}:)?(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_-]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?$"
)
_INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


def parse_function_name(raw: str) -> tuple[str, str | None]:
    """``(name, qualifier)`` from any FunctionName form Lambda accepts; ``name`` is ``raw`` when it matches none."""
    match = _FUNCTION_NAME.match(raw)
    if match is None:
        return raw, None
    return match["name"], match["qualifier"]


class InvokeSurface:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send, function_name: str) -> None:
        request_id = new_request_id()
        try:
            await self._invoke(scope, receive, send, function_name, request_id)
        except errors.InvokeError as exc:
            await respond(send, *lambda_errors.api_error(exc, request_id))

    async def _invoke(self, scope: Scope, receive: Receive, send: Send, function_name: str, request_id: str) -> None:
        name, qualifier = parse_function_name(function_name)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "Qualifier" in query:
            if qualifier is not None and query["Qualifier"][0] != qualifier:
                raise errors.InvalidParameterValue(
                    "The derived qualifier from the function name does not match the specified qualifier."
                )
            qualifier = query["Qualifier"][0]
        pool = self.registry.lambda_pool(name)
        if pool is None:
            raise errors.FunctionNotFound(self.registry.arn(name, qualifier))

        invocation_type = header(scope, b"x-amz-invocation-type") or "RequestResponse"
        if invocation_type not in _INVOCATION_TYPES:
            raise errors.InvalidParameterValue(
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )
        limit = ASYNC_LIMIT if invocation_type == "Event" else SYNC_LIMIT
        try:
            payload = await read_body(receive, limit)
        except BodyTooLarge:
            raise errors.RequestTooLarge(limit) from None
        if not payload.strip():
            payload = b"{}"  # what Lambda hands the handler for an empty body
        try:
            json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.InvalidRequestContent(f"Could not parse payload into json: {exc}") from None
        client_context = _client_context(header(scope, b"x-amz-client-context"))

        base = [(b"x-amzn-requestid", request_id.encode())]
        if invocation_type == "DryRun":
            await respond(send, 204, base)
            return
        inv = Invocation(
            function=name,
            payload=payload,
            function_arn=self.registry.arn(name, qualifier),
            request_id=request_id,
            client_context=client_context,
        )
        if invocation_type == "Event":
            self.registry.async_invoker.submit(pool, inv)
            await respond(send, 202, base)
            return

        outcome = await pool.invoke(inv)
        headers: Headers = [JSON, (b"x-amz-executed-version", b"$LATEST"), *base]
        if outcome.is_error:
            headers.append((b"x-amz-function-error", b"Unhandled"))
        if (header(scope, b"x-amz-log-type") or "").lower() == "tail":
            headers.append((b"x-amz-log-result", base64.b64encode(outcome.log)))
        await respond(send, 200, headers, outcome.payload)


def _client_context(raw: str | None) -> str | None:
    """The decoded ``X-Amz-Client-Context``, passed to the runtime as JSON text."""
    if not raw:
        return None
    try:
        value = json.loads(base64.b64decode(raw, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError) as exc:
        raise errors.InvalidParameterValue("Client context must be a valid Base64-encoded JSON object.") from exc
    # Re-serialised on one line: it travels on as a header.
    return json.dumps(value, separators=(",", ":"))
