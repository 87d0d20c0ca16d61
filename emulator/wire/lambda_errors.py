"""Every Lambda error on the wire: API errors for boto3, and function error payloads.

API errors carry ``x-amzn-ErrorType`` so botocore raises the named exception
(``client.exceptions.ResourceNotFoundException``…). Function errors are never
API errors: they are a 200 with ``X-Amz-Function-Error: Unhandled`` and the
payload below, because a 5xx would make the SDK retry a handler that already ran.
"""

from __future__ import annotations

import json

from emulator import errors

# (status, x-amzn-ErrorType, key of the message in the body) per domain error.
_API_ERRORS: dict[type[errors.InvokeError], tuple[int, str, str]] = {
    errors.FunctionNotFound: (404, "ResourceNotFoundException", "Message"),
    errors.InvalidRequestContent: (400, "InvalidRequestContentException", "message"),
    errors.InvalidParameterValue: (400, "InvalidParameterValueException", "message"),
    errors.RequestTooLarge: (413, "RequestTooLargeException", "message"),
    errors.Throttled: (429, "TooManyRequestsException", "message"),
    errors.UnsupportedRoute: (404, "UnknownOperationException", "message"),
}

# The response limit for synchronous invocations (6 MB plus Lambda's 100 bytes of slack).
RESPONSE_LIMIT = 6_291_556


def api_error(exc: errors.InvokeError, request_id: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    status, type_name, key = _API_ERRORS[type(exc)]
    body: dict[str, str] = {"Type": "User", key: str(exc)}
    if isinstance(exc, errors.Throttled):
        body["Reason"] = exc.reason
    headers = [
        (b"content-type", b"application/json"),
        (b"x-amzn-errortype", type_name.encode()),
        (b"x-amzn-requestid", request_id.encode()),
    ]
    return status, headers, json.dumps(body).encode()


def error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def timed_out(request_id: str, timeout_s: float) -> bytes:
    return error_payload("Sandbox.Timedout", f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds")


def exited(request_id: str, exit_status: int) -> bytes:
    how = f"signal: {_signal_name(-exit_status)}" if exit_status < 0 else f"exit status {exit_status}"
    return error_payload("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited with error: {how}")


def out_of_memory(request_id: str) -> bytes:
    return error_payload("Runtime.OutOfMemory", f"RequestId: {request_id} Error: Runtime exited with error: signal: killed")


def response_too_large() -> bytes:
    return error_payload(
        "Function.ResponseSizeTooLarge",
        f"Response payload size exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",
    )


def invalid_entrypoint(request_id: str, reason: str) -> bytes:
    return error_payload("Runtime.InvalidEntrypoint", f"RequestId: {request_id} Error: {reason}")


def dependencies_failed(module: str, summary: str) -> bytes:
    """A function whose requirements.txt emu could not install, told as Lambda tells a module it cannot import.

    The shape is the Python runtime's init error (``requestId`` empty: there was no
    invocation yet); the message carries pip's reason.
    """
    message = f"Unable to import module '{module}': its requirements.txt could not be installed: {summary}"
    return json.dumps(
        {"errorMessage": message, "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}
    ).encode()


def error_type_of(payload: bytes, header: str | None) -> str:
    """The error type of a runtime-posted error: its header, else the body's ``errorType``."""
    if header:
        return header
    try:
        value = json.loads(payload).get("errorType")
    except (ValueError, AttributeError):
        value = None
    return value if isinstance(value, str) and value else "Runtime.Unknown"


def _signal_name(signum: int) -> str:
    # Go's os/exec spelling, which is what Lambda's messages use.
    return {9: "killed", 15: "terminated", 6: "aborted", 11: "segmentation fault"}.get(signum, f"signal {signum}")
