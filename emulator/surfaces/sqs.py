"""The SQS API boto3 calls: ``POST /`` with ``X-Amz-Target: AmazonSQS.<Operation>``.

Serves SendMessage, SendMessageBatch, GetQueueUrl, ListQueues and GetQueueAttributes
on the queues in ``events.queues``; reading and rendering are ``wire.sqs_json``'s.
Any other operation is answered ``UnsupportedOperation``.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from emulator import errors
from emulator.events.queues import MAX_RECEIVES, Queue, Queues
from emulator.execution.invocation import new_request_id
from emulator.surfaces.asgi import BodyTooLarge, Receive, Scope, Send, read_body, respond
from emulator.wire import sqs_json

# A batch of ten 1 MiB-at-most messages, plus JSON's escaping.
_BODY_LIMIT = 4 * sqs_json.MESSAGE_LIMIT


class SqsSurface:
    def __init__(self, queues: Queues) -> None:
        self.queues = queues
        self._operations: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "SendMessage": self._send,
            "SendMessageBatch": self._send_batch,
            "GetQueueUrl": self._queue_url,
            "ListQueues": self._list,
            "GetQueueAttributes": self._attributes,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send, operation: str) -> None:
        request_id = new_request_id()
        try:
            handler = self._operations.get(operation)
            if handler is None:
                raise errors.UnknownAction(operation)
            try:
                raw = await read_body(receive, _BODY_LIMIT)
            except BodyTooLarge:
                raise errors.BatchTooLong(sqs_json.MESSAGE_LIMIT) from None
            answer = sqs_json.ok(handler(sqs_json.parse_body(raw)), request_id)
        except errors.MessagingError as exc:
            answer = sqs_json.error(exc, request_id)
        await respond(send, *answer)

    def _queue(self, doc: dict[str, Any]) -> Queue:
        name = sqs_json.queue_name(doc)
        queue = self.queues.get(name)
        if queue is None:
            raise errors.NoSuchQueue(name)
        return queue

    def _send(self, doc: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(doc)
        outgoing = sqs_json.message(doc, queue.is_fifo)
        sent = self.queues.send(queue.name, outgoing)
        return sqs_json.sent(sent.message_id, outgoing, sent.sequence_number)

    def _send_batch(self, doc: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(doc)
        successful, failed = [], []
        for entry in sqs_json.batch_entries(doc):
            try:
                outgoing = sqs_json.message(entry, queue.is_fifo)
            except errors.MessagingError as exc:
                failed.append(sqs_json.failed_entry(entry["Id"], exc))
                continue
            sent = self.queues.send(queue.name, outgoing)
            successful.append({"Id": entry["Id"], **sqs_json.sent(sent.message_id, outgoing, sent.sequence_number)})
        return {"Successful": successful, "Failed": failed}

    def _queue_url(self, doc: dict[str, Any]) -> dict[str, Any]:
        name = doc.get("QueueName")
        if not isinstance(name, str) or not name:
            raise errors.MissingParameter("QueueName")
        if self.queues.get(name) is None:
            raise errors.NoSuchQueue(name)
        return {"QueueUrl": self.queues.url(name)}

    def _list(self, doc: dict[str, Any]) -> dict[str, Any]:
        prefix = doc.get("QueueNamePrefix") or ""
        urls = [self.queues.url(name) for name in self.queues.names() if name.startswith(prefix)]
        return {"QueueUrls": urls} if urls else {}

    def _attributes(self, doc: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(doc)
        visible, hidden, in_flight = queue.counts(time.monotonic())
        attributes = {
            "QueueArn": self.queues.arn(queue.name),
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": str(in_flight),
            "ApproximateNumberOfMessagesDelayed": str(hidden),
            "VisibilityTimeout": f"{self.queues.visibility_timeout():g}",
            "RedrivePolicy": f'{{"maxReceiveCount":{MAX_RECEIVES}}}',
        }
        if queue.is_fifo:
            attributes |= {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        names = doc.get("AttributeNames") or ["All"]
        if "All" not in names:
            attributes = {k: v for k, v in attributes.items() if k in names}
        return {"Attributes": attributes}
