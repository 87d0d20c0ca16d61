"""``POST /_emu/events/aws/{source}``: an AWS event to the functions subscribed to it.

This is what ``emu event s3|sqs|sns|schedule`` without ``--to`` calls
(``event_delivery.aws_subscribers``). The body is the event as JSON; the answer is
200 ``{"functions": [names]}``, an empty list meaning nobody subscribes; an event
its source cannot take is 400 ``{"message": ...}``, an unknown source 404.

The table: one deliverer per source, each taking the parsed event and returning
the names of the functions it was handed to (raising ValueError for an event it
cannot take). A source with no deliverer yet answers an empty list. Event sources
register their deliverer where the app builds them:
``dispatch.register("s3", buckets.deliver_s3_event)``. What the others do:

    sqs       each record's body and attributes are sent to its queue (eventSourceARN),
              as SendMessage would: the queue's function gets them through its poller
    sns       each record's message is published again on its topic (TopicArn):
              every subscriber gets it once, with its own subscription
    schedule  the event goes as it is to the function whose rule ``resources`` names;
              for a rule emu does not know (emu event's default), to every scheduled
              Lambda function
"""

from __future__ import annotations

import json
from typing import Any, Callable

from emulator.surfaces.asgi import JSON, BodyTooLarge, Receive, Scope, Send, read_body, respond

PREFIX = "/_emu/events/aws/"
# The sources ``emu event`` can send to subscribers; each answers, with or without a deliverer.
SOURCES = ("s3", "sqs", "sns", "schedule")
# Larger than any sample: an SQS batch of 10 messages of 256 KB each.
_BODY_LIMIT = 6 * 1024 * 1024

Deliverer = Callable[[Any], list[str]]


class AwsDispatch:
    def __init__(self) -> None:
        self._deliverers: dict[str, Deliverer] = {}

    def register(self, source: str, deliverer: Deliverer) -> None:
        self._deliverers[source] = deliverer

    def knows(self, source: str) -> bool:
        return source in SOURCES or source in self._deliverers

    def deliver(self, source: str, event: Any) -> list[str]:
        """The functions ``event`` went to (none for a source without a deliverer yet)."""
        deliverer = self._deliverers.get(source)
        return deliverer(event) if deliverer is not None else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send, source: str) -> None:
        if not self.knows(source):
            known = ", ".join(sorted({*SOURCES, *self._deliverers}))
            await respond(send, 404, [JSON], json.dumps({"message": f"no AWS event source {source!r}; emu knows {known}"}).encode())
            return
        if scope["method"] != "POST":
            await respond(send, 405, [JSON, (b"allow", b"POST")], b'{"message":"Use POST with the event as JSON."}')
            return
        try:
            event = json.loads(await read_body(receive, _BODY_LIMIT))
            functions = self.deliver(source, event)
        except BodyTooLarge:
            await respond(send, 413, [JSON], b'{"message":"event too large"}')
            return
        except (ValueError, UnicodeDecodeError) as exc:  # json.JSONDecodeError is a ValueError
            await respond(send, 400, [JSON], json.dumps({"message": f"not a {source} event: {exc}"}).encode())
            return
        await respond(send, 200, [JSON], json.dumps({"functions": functions}).encode())
