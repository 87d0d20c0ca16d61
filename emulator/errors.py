"""Every domain error emu raises, in one hierarchy.

    EmuError
     +-- ConfigError              a config file is wrong (names file, function, key)
     +-- InvokeError              a request to the Invoke API cannot be served
     |    +-- FunctionNotFound        404 ResourceNotFoundException
     |    +-- InvalidRequestContent   400 InvalidRequestContentException
     |    +-- RequestTooLarge         413 RequestTooLargeException
     |    +-- Throttled               429 TooManyRequestsException
     +-- BackendError             an environment could not be started
     |    +-- DependenciesFailed      its requirements.txt could not be installed
     +-- StorageError             a local bucket cannot do what was asked
          +-- NoSuchBucket            no such bucket: neither in a trigger nor a folder
          +-- NoSuchKey               no object under that key
          +-- InvalidObjectKey        a key that would leave its bucket's folder, or cannot be a file
     +-- MessagingError           an SNS or SQS API request cannot be served
          +-- NoSuchTopic             no topic by that ARN
          +-- NoSuchQueue             no queue at that URL or by that name
          +-- InvalidParameter        a parameter has a value the service refuses
          |    +-- MissingParameter       a required parameter is absent
          +-- InvalidMessageContents  a message body with characters SQS refuses
          +-- EmptyBatch              a batch request without entries
          +-- TooManyEntriesInBatch   more than 10 entries
          +-- BatchIdsNotDistinct     two entries share an Id
          +-- InvalidBatchId          an entry's Id breaks the rule
          +-- BatchTooLong            the entries add up to more than the service takes
          +-- UnknownAction           an operation emu does not serve

Errors carry context only; how each is rendered on the wire is decided once,
in ``emulator.wire.lambda_errors`` (storage errors: ``emulator.wire.s3_xml``; messaging
errors: ``emulator.wire.sns_query`` and ``emulator.wire.sqs_json``, one table each).
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


class DependenciesFailed(BackendError):
    """A function's virtualenv could not be built: ``summary`` is pip's own reason, for the error payload."""

    def __init__(self, reason: str, summary: str | None = None):
        self.summary = summary or reason
        super().__init__(f"requirements.txt could not be installed: {reason}")


class InvalidParameterValue(InvokeError):
    """A header or parameter has a value Lambda would refuse."""


class UnsupportedRoute(InvokeError):
    """A Lambda API path emu does not model."""


class StorageError(EmuError):
    """A local bucket cannot do what was asked. ``bucket`` and ``key`` say where."""

    def __init__(self, message: str, bucket: str, key: str | None = None):
        self.bucket = bucket
        self.key = key
        super().__init__(message)


class NoSuchBucket(StorageError):
    def __init__(self, bucket: str):
        super().__init__("The specified bucket does not exist", bucket)


class NoSuchKey(StorageError):
    def __init__(self, bucket: str, key: str):
        super().__init__("The specified key does not exist.", bucket, key)


class InvalidObjectKey(StorageError):
    def __init__(self, bucket: str, key: str, reason: str):
        self.reason = reason
        super().__init__(f"Object key {key!r} cannot be stored: {reason}", bucket, key)


class MessagingError(EmuError):
    """An SNS or SQS request that is refused; the message is the one the service gives."""


class NoSuchTopic(MessagingError):
    def __init__(self, arn: str):
        self.arn = arn
        super().__init__("Topic does not exist")


class NoSuchQueue(MessagingError):
    def __init__(self, queue: str):
        self.queue = queue
        super().__init__("The specified queue does not exist.")


class InvalidParameter(MessagingError):
    pass


class MissingParameter(InvalidParameter):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f"The request must contain the parameter {name}.")


class InvalidMessageContents(MessagingError):
    def __init__(self) -> None:
        super().__init__(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
            "#xE000 to #xFFFD | #x10000 to #x10FFFF"
        )


class EmptyBatch(MessagingError):
    def __init__(self) -> None:
        super().__init__("The batch request doesn't contain any entries.")


class TooManyEntriesInBatch(MessagingError):
    def __init__(self, limit: int = 10):
        super().__init__(f"Maximum number of entries per request are {limit}.")


class BatchIdsNotDistinct(MessagingError):
    def __init__(self, entry_id: str):
        super().__init__(f"Id {entry_id} repeated.")


class InvalidBatchId(MessagingError):
    def __init__(self, entry_id: str):
        super().__init__(
            f"A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
            f"It can be at most 80 letters long: {entry_id!r}"
        )


class BatchTooLong(MessagingError):
    def __init__(self, limit: int):
        super().__init__(f"Batch requests cannot be longer than {limit} bytes.")


class UnknownAction(MessagingError):
    def __init__(self, action: str):
        self.action = action
        super().__init__(f"The action {action} is not valid for this web service.")
