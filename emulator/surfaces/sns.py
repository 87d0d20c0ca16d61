"""The SNS API boto3 calls: a form-encoded ``POST /`` with ``Action=Publish`` and its kin.

Serves Publish, PublishBatch and ListTopics on the topics in ``events.topics``;
reading and rendering are ``wire.sns_query``'s. Any other action is answered
``InvalidAction``.
"""

from __future__ import annotations

from typing import Callable, Mapping

from emulator import errors
from emulator.events.topics import Topics
from emulator.execution.invocation import new_request_id
from emulator.surfaces.asgi import BodyTooLarge, Receive, Scope, Send, read_body, respond
from emulator.wire import sns_query

# A 256 KiB batch, form-encoded (a byte can take three).
_BODY_LIMIT = 4 * sns_query.MESSAGE_LIMIT


class SnsSurface:
    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self._actions: dict[str, Callable[[Mapping[str, str], str], bytes]] = {
            "Publish": self._publish,
            "PublishBatch": self._publish_batch,
            "ListTopics": self._list,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        try:
            try:
                params = sns_query.parse_form(await read_body(receive, _BODY_LIMIT))
            except BodyTooLarge:
                raise errors.InvalidParameter("Invalid parameter: Message too long") from None
            action = params.get("Action", "")
            handler = self._actions.get(action)
            if handler is None:
                raise errors.UnknownAction(action)
            answer = 200, sns_query.headers(request_id), handler(params, request_id)
        except errors.MessagingError as exc:
            answer = sns_query.error(exc, request_id)
        await respond(send, *answer)

    def _publish(self, params: Mapping[str, str], request_id: str) -> bytes:
        topic = self.topics.resolve(sns_query.topic_arn(params))
        note = sns_query.notification(params, "", topic.endswith(".fifo"))
        message_id, sequence = self.topics.publish(topic, note)
        return sns_query.publish_response(message_id, request_id, sequence)

    def _publish_batch(self, params: Mapping[str, str], request_id: str) -> bytes:
        if "TopicArn" not in params:
            raise errors.InvalidParameter("Invalid parameter: TopicArn Reason: no value for required parameter")
        topic = self.topics.resolve(sns_query.topic_arn(params))
        successful: list[tuple[str, str, str | None]] = []
        failed: list[tuple[str, errors.MessagingError]] = []
        for entry_id, prefix in sns_query.batch_prefixes(params):
            try:
                note = sns_query.notification(params, prefix, topic.endswith(".fifo"))
            except errors.MessagingError as exc:
                failed.append((entry_id, exc))
                continue
            successful.append((entry_id, *self.topics.publish(topic, note)))
        return sns_query.publish_batch_response(successful, failed, request_id)

    def _list(self, params: Mapping[str, str], request_id: str) -> bytes:
        return sns_query.list_topics_response([self.topics.arn(name) for name in self.topics.names()], request_id)
