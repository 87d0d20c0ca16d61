"""Every Lambda error on the wire, from plain data: one test per API error row, then the function errors."""

from __future__ import annotations

import json

import pytest

from emulator import errors
from emulator.wire import lambda_errors

RID = "8f5ae4c2-9b0e-4b8a-9d61-0c6f0d1e2a3b"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:nope"


def api_error(exc: errors.InvokeError) -> tuple[int, dict[bytes, bytes], dict]:
    status, headers, body = lambda_errors.api_error(exc, RID)
    return status, dict(headers), json.loads(body)


# -- API errors: status, x-amzn-ErrorType (what botocore maps to an exception), body ----------

@pytest.mark.parametrize(
    "exc, status, error_type, body",
    [
        pytest.param(
            errors.FunctionNotFound(ARN), 404, b"ResourceNotFoundException",
            {"Type": "User", "Message": f"Function not found: {ARN}"},
            id="FunctionNotFound",
        ),
        pytest.param(
            errors.InvalidRequestContent("Unexpected character"), 400, b"InvalidRequestContentException",
            {"Type": "User", "message": "Could not parse request body into json: Unexpected character"},
            id="InvalidRequestContent",
        ),
        pytest.param(
            errors.InvalidParameterValue("bad qualifier"), 400, b"InvalidParameterValueException",
            {"Type": "User", "message": "bad qualifier"},
            id="InvalidParameterValue",
        ),
        pytest.param(
            errors.RequestTooLarge(6291456), 413, b"RequestTooLargeException",
            {"Type": "User", "message": "Request must be smaller than 6291456 bytes for the InvokeFunction operation"},
            id="RequestTooLarge",
        ),
        pytest.param(
            errors.Throttled("ReservedFunctionConcurrentInvocationLimitExceeded"), 429, b"TooManyRequestsException",
            {"Type": "User", "message": "Rate Exceeded.", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"},
            id="Throttled",
        ),
        pytest.param(
            errors.UnsupportedRoute("no such operation"), 404, b"UnknownOperationException",
            {"Type": "User", "message": "no such operation"},
            id="UnsupportedRoute",
        ),
    ],
)
def test_api_error(exc, status, error_type, body):
    got_status, headers, got_body = api_error(exc)
    assert got_status == status
    assert headers == {
        b"content-type": b"application/json",
        b"x-amzn-errortype": error_type,
        b"x-amzn-requestid": RID.encode(),
    }
    assert got_body == body


def test_every_api_error_has_a_row():
    # A new InvokeError without a row here would escape as a 500.
    def leaves(cls):
        subclasses = cls.__subclasses__()
        return [cls] if not subclasses else [leaf for sub in subclasses for leaf in leaves(sub)]

    assert set(leaves(errors.InvokeError)) == set(lambda_errors._API_ERRORS)


# -- function errors: the payload of a 200 with X-Amz-Function-Error ---------------------

def payload(raw: bytes) -> dict:
    return json.loads(raw)


def test_timed_out():
    assert payload(lambda_errors.timed_out(RID, 3)) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {RID} Error: Task timed out after 3.00 seconds",
    }
    assert payload(lambda_errors.timed_out(RID, 1.5))["errorMessage"].endswith("after 1.50 seconds")


@pytest.mark.parametrize(
    "status, how",
    [(3, "exit status 3"), (0, "exit status 0"), (-9, "signal: killed"), (-15, "signal: terminated"), (-6, "signal: aborted"), (-11, "signal: segmentation fault"), (-7, "signal: signal 7")],
)
def test_exited(status, how):
    assert payload(lambda_errors.exited(RID, status)) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {RID} Error: Runtime exited with error: {how}",
    }


def test_out_of_memory():
    assert payload(lambda_errors.out_of_memory(RID)) == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {RID} Error: Runtime exited with error: signal: killed",
    }


def test_response_too_large():
    assert payload(lambda_errors.response_too_large()) == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
    }


def test_invalid_entrypoint():
    assert payload(lambda_errors.invalid_entrypoint(RID, "no bootstrap")) == {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": f"RequestId: {RID} Error: no bootstrap",
    }



def test_dependencies_failed():
    # The Python runtime's init error shape: no request id yet, an empty stack.
    assert payload(lambda_errors.dependencies_failed("app", "ERROR: No matching distribution found for nope")) == {
        "errorType": "Runtime.ImportModuleError",
        "errorMessage": "Unable to import module 'app': its requirements.txt could not be installed: "
        "ERROR: No matching distribution found for nope",
        "requestId": "",
        "stackTrace": [],
    }

@pytest.mark.parametrize(
    "body, header, error_type",
    [
        (b'{"errorType": "OrderError", "errorMessage": "x"}', None, "OrderError"),
        (b'{"errorType": "OrderError"}', "Runtime.Custom", "Runtime.Custom"),  # the header wins
        (b'{"errorMessage": "no type"}', None, "Runtime.Unknown"),
        (b'{"errorType": ""}', None, "Runtime.Unknown"),
        (b'{"errorType": 42}', None, "Runtime.Unknown"),
        (b'["a list"]', None, "Runtime.Unknown"),
        (b"not json", None, "Runtime.Unknown"),
        (b"", "", "Runtime.Unknown"),
    ],
)
def test_error_type_of(body, header, error_type):
    assert lambda_errors.error_type_of(body, header) == error_type
