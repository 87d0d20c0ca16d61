"""Every domain error emu raises, in one hierarchy.

    EmuError
     +-- ConfigError              a config file is wrong (names file, function, key)
     +-- InvokeError              a request to the Invoke API cannot be served
     |    +-- FunctionNotFound        404 ResourceNotFoundException
     |    +-- InvalidRequestContent   400 InvalidRequestContentException
     |    +-- RequestTooLarge         413 RequestTooLargeException
     |    +-- Throttled               429 TooManyRequestsException
     +-- BackendError             an environment could not be started

Errors carry context only; how each is rendered on the wire is decided once,
in ``emulator.wire.lambda_errors``.
"""

from __future__ import annotations


class EmuError(Exception):
    """Base of every error emu raises on purpose."""


class ConfigError(EmuError):
    """A config file is invalid. The message names the file, the function and the key."""

    def __init__(self, file: object, message: str, function: str | None = None, key: str | None = None):
        self.file = str(file)
        self.function = function
        self.key = key
        self.detail = message
        where = self.file
        if function:
            where += f": function '{function}'"
        if key:
            where += f": '{key}'"
        super().__init__(f"{where}: {message}")


class InvokeError(EmuError):
    """A request that is refused before any function code runs."""


class FunctionNotFound(InvokeError):
    def __init__(self, arn: str):
        self.arn = arn
        super().__init__(f"Function not found: {arn}")


class InvalidRequestContent(InvokeError):
    def __init__(self, reason: str):
        super().__init__(f"Could not parse request body into json: {reason}")


class RequestTooLarge(InvokeError):
    def __init__(self, limit: int, operation: str = "InvokeFunction"):
        self.limit = limit
        super().__init__(f"Request must be smaller than {limit} bytes for the {operation} operation")


class Throttled(InvokeError):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__("Rate Exceeded.")


class BackendError(EmuError):
    """An environment could not be started (a missing interpreter, an unreadable bootstrap)."""


class InvalidParameterValue(InvokeError):
    """A header or parameter has a value Lambda would refuse."""


class UnsupportedRoute(InvokeError):
    """A Lambda API path emu does not model."""
