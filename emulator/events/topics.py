"""SNS topics, locally: every topic an ``sns`` trigger names exists, and publishing fans out.

A publish makes one SNS notification per subscribed function (Records[0].Sns, with the
subscription's own ARN) and hands it to the function as an asynchronous invocation,
as SNS invokes Lambda; the async invoker's retries apply. Subscribers are read from
the project at publish time, so a config reload adds or drops them at once.

Which topics exist is the project's ``sns`` triggers: a topic nobody subscribes to
is not there (``NotFound``), as a topic would not be without ``CreateTopic``.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from emulator import errors
from emulator.config.model import SnsTrigger
from emulator.events import samples
from emulator.execution.invocation import Invocation
from emulator.wire.sns_query import Notification, TopicArn

if TYPE_CHECKING:
    from emulator.execution.registry import Registry

# Lambda cannot subscribe to a FIFO topic; emu delivers anyway, for lack of a reason not to.
_SUBSCRIBER_PROTOCOL = "lambda"


class Topics:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._sequence = int(datetime.now(timezone.utc).timestamp() * 1000) * 10**7

    def start(self) -> None:
        if names := self.names():
            self._registry.console.info(f"emu: SNS topics {', '.join(names)} (TopicArn {self.arn('NAME')})")

    def names(self) -> list[str]:
        """Every topic some function subscribes to, in config order."""
        functions = self._registry.project.functions.values()
        return list(dict.fromkeys(t.topic for spec in functions for t in spec.events if isinstance(t, SnsTrigger)))

    def arn(self, name: str) -> str:
        settings = self._registry.project.settings
        return f"arn:aws:sns:{settings.region}:{settings.account_id}:{name}"

    def subscribers(self, topic: str) -> list[str]:
        return [
            spec.name
            for spec in self._registry.project.functions.values()
            if any(isinstance(t, SnsTrigger) and t.topic == topic for t in spec.events)
        ]

    def resolve(self, arn: TopicArn) -> str:
        """The topic an ARN names; ``NoSuchTopic`` unless it is one of emu's, in emu's region and account."""
        settings = self._registry.project.settings
        full = f"arn:aws:sns:{arn.region}:{arn.account}:{arn.name}"
        if (arn.region, arn.account) != (settings.region, settings.account_id) or arn.name not in self.names():
            served = ", ".join(self.arn(name) for name in self.names()) or "none: add an sns trigger"
            self._registry.console.info(f"sns: no topic {full}; emu serves {served}")
            raise errors.NoSuchTopic(full)
        return arn.name

    def publish(self, topic: str, note: Notification) -> tuple[str, str | None]:
        """Fan ``note`` out to every subscriber; its MessageId, and SequenceNumber on a FIFO topic."""
        message_id = str(uuid.uuid4())
        sequence = None
        if topic.endswith(".fifo"):
            self._sequence += 1
            sequence = f"{self._sequence:020d}"
        self.deliver(topic, note, message_id)
        return message_id, sequence

    def deliver(self, topic: str, note: Notification, message_id: str) -> list[str]:
        """Invoke every subscriber of ``topic`` with ``note``; the functions it went to."""
        registry = self._registry
        origin = samples.Origin.from_settings(registry.project.settings)
        now = datetime.now(timezone.utc)
        delivered = []
        for function in self.subscribers(topic):
            pool = registry.lambda_pool(function)
            if pool is None:
                continue
            event = samples.sns_event(
                origin,
                note.message_for(_SUBSCRIBER_PROTOCOL),
                note.subject,
                note.attributes,
                topic,
                now,
                message_id=message_id,
                subscription_id=samples.sns_subscription_id(topic, function),
            )
            invocation = Invocation(function, json.dumps(event).encode(), registry.arn(function), trigger="sns")
            registry.async_invoker.submit(pool, invocation)
            delivered.append(function)
        return delivered

    def deliver_sample(self, event: Any) -> list[str]:
        """``POST /_emu/events/aws/sns``: publish each record's message again on its topic; the subscribers reached."""
        records = event.get("Records") if isinstance(event, dict) else None
        if not isinstance(records, list):
            raise ValueError("expected an SNS event: {\"Records\": [{\"Sns\": {...}}]}")
        functions: dict[str, None] = {}
        for record in records:
            sns = record.get("Sns") if isinstance(record, dict) else None
            if not isinstance(sns, dict) or not isinstance(sns.get("Message"), str):
                raise ValueError("every record needs Sns.Message")
            topic = str(sns.get("TopicArn") or "").rpartition(":")[2]
            if topic not in self.names():
                continue
            attributes = {
                name: {"Type": str(value.get("Type", "String")), "Value": str(value.get("Value", ""))}
                for name, value in (sns.get("MessageAttributes") or {}).items()
                if isinstance(value, dict)
            }
            subject = sns.get("Subject") if isinstance(sns.get("Subject"), str) else None
            functions.update(dict.fromkeys(self.deliver(topic, Notification(sns["Message"], subject, attributes), str(uuid.uuid4()))))
        return list(functions)
