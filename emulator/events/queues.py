"""SQS queues, locally, and the poller that feeds each queue's function, as Lambda's event source mapping does.

Every queue an ``sqs`` trigger names exists. ``Queue`` is the state, sync and
I/O-free: messages in send order, each visible, in flight, or hidden until a time.
``Queues`` does the I/O: one poller task per queue takes batches of up to the
trigger's ``batch_size`` and invokes the function synchronously through its pool, as
the SQS poller does. Then, as a queue with a redrive policy would:

- success: the batch is deleted;
- a function error (or a crash, a timeout): every message of the batch returns to
  the queue after ``settings.sqs_visibility_timeout`` seconds (counted from the
  failure; a real queue counts from the receive) and is received again; a message
  received ``MAX_RECEIVES`` times is dropped with a log line, where a dead-letter
  queue would take it;
- throttled (the function at its concurrency): the batch is put back at once and the
  poller backs off; that receive does not count, as it never reached the function.

Up to ``MAX_BATCHES_IN_FLIGHT`` batches of a standard queue run at once. A FIFO queue
runs one batch at a time and never hands out a message while an earlier one of its
group is in flight; a missing MessageDeduplicationId is the body's SHA-256 (as with
content-based deduplication), and duplicates within five minutes are accepted but
not queued again. Partial batch responses (``batchItemFailures``) are not read: the
mapping's ReportBatchItemFailures is off, as by default.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.config.model import SqsTrigger
from emulator.errors import MessagingError, Throttled
from emulator.events import samples
from emulator.execution.invocation import Invocation
from emulator.wire import sqs_json
from emulator.wire.sqs_json import OutgoingMessage

if TYPE_CHECKING:
    from emulator.execution.lambda_pool import LambdaPool
    from emulator.execution.registry import Registry

MAX_RECEIVES = 3  # a redrive policy's maxReceiveCount
MAX_BATCHES_IN_FLIGHT = 5  # Lambda starts five pollers per standard queue
DEDUPLICATION_WINDOW_S = 300.0
_THROTTLE_BACKOFF_S = 0.2
_MIN_WAIT_S = 0.005  # never spin on a message that is due this instant
# A record's message attribute, as the poller spells it, in SendMessage's spelling.
_SEND_SPELLING = {"dataType": "DataType", "stringValue": "StringValue", "binaryValue": "BinaryValue"}


@dataclass(slots=True)
class Message:
    message_id: str
    sent: OutgoingMessage
    sent_ms: int
    sequence_number: str | None = None
    visible_at: float = 0.0  # monotonic seconds
    receive_count: int = 0
    first_receive_ms: int = 0
    receipt_handle: str | None = None  # set while in flight

    @property
    def in_flight(self) -> bool:
        return self.receipt_handle is not None

    def receipt(self) -> samples.SqsReceipt:
        sent = self.sent
        fifo = None
        if sent.group_id is not None and self.sequence_number is not None:
            fifo = {
                "MessageGroupId": sent.group_id,
                "MessageDeduplicationId": sent.deduplication_id or "",
                "SequenceNumber": self.sequence_number,
            }
        assert self.receipt_handle is not None
        return samples.SqsReceipt(
            self.message_id, self.receipt_handle, sent.body, self.sent_ms, self.first_receive_ms,
            self.receive_count, message_attributes=sent.attributes,
            md5_of_message_attributes=sent.md5_of_attributes, fifo=fifo,
        )


class Queue:
    """One queue's messages and what may be received now. No I/O, no clock of its own: callers pass ``now``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.is_fifo = name.endswith(".fifo")
        self._messages: list[Message] = []
        self._dedup: dict[str, tuple[str, float]] = {}
        self._sequence = itertools.count(int(time.time() * 1000) * 10**7)

    def __len__(self) -> int:
        return len(self._messages)

    def counts(self, now: float) -> tuple[int, int, int]:
        """How many messages are visible, hidden (delayed or waiting to be retried) and in flight."""
        in_flight = sum(1 for m in self._messages if m.in_flight)
        hidden = sum(1 for m in self._messages if not m.in_flight and m.visible_at > now)
        return len(self._messages) - in_flight - hidden, hidden, in_flight

    def send(self, sent: OutgoingMessage, now: float, now_ms: int) -> Message:
        """Queue ``sent``; a FIFO duplicate within the window is the message already queued."""
        if self.is_fifo:
            dedup_id = sent.deduplication_id or hashlib.sha256(sent.body.encode()).hexdigest()
            earlier = self._dedup.get(dedup_id)
            if earlier is not None and now - earlier[1] < DEDUPLICATION_WINDOW_S:
                return Message(earlier[0], sent, now_ms)
            message = Message(str(uuid.uuid4()), _with_dedup(sent, dedup_id), now_ms, f"{next(self._sequence):020d}")
            self._dedup[dedup_id] = (message.message_id, now)
        else:
            message = Message(str(uuid.uuid4()), sent, now_ms, visible_at=now + sent.delay_seconds)
        self._messages.append(message)
        return message

    def receive(self, limit: int, now: float, now_ms: int) -> list[Message]:
        """Up to ``limit`` visible messages, now in flight with fresh receipt handles."""
        blocked_groups = {m.sent.group_id for m in self._messages if m.in_flight} if self.is_fifo else set()
        batch: list[Message] = []
        for message in self._messages:
            if len(batch) >= limit:
                break
            group = message.sent.group_id
            if self.is_fifo and group in blocked_groups:
                continue
            if message.in_flight or message.visible_at > now:
                if self.is_fifo:
                    blocked_groups.add(group)  # a group's later messages wait for its earlier one
                continue
            message.receipt_handle = samples.sqs_receipt_handle()
            message.receive_count += 1
            message.first_receive_ms = message.first_receive_ms or now_ms
            batch.append(message)
        return batch

    def delete(self, batch: list[Message]) -> None:
        ids = {id(m) for m in batch}
        self._messages = [m for m in self._messages if id(m) not in ids]

    def release(self, batch: list[Message], visible_at: float, received: bool = True) -> list[Message]:
        """Return ``batch`` to the queue, visible from ``visible_at``; the messages dropped for too many receives."""
        dropped = []
        for message in batch:
            message.receipt_handle = None
            if not received:
                message.receive_count -= 1
                if message.receive_count == 0:
                    message.first_receive_ms = 0
            elif message.receive_count >= MAX_RECEIVES:
                dropped.append(message)
                continue
            message.visible_at = visible_at
        self.delete(dropped)
        return dropped

    def next_visible_at(self) -> float | None:
        waiting = [m.visible_at for m in self._messages if not m.in_flight]
        return min(waiting) if waiting else None


def _with_dedup(sent: OutgoingMessage, dedup_id: str) -> OutgoingMessage:
    return OutgoingMessage(sent.body, sent.attributes, sent.delay_seconds, sent.group_id, dedup_id)


@dataclass(slots=True)
class _Poller:
    queue: Queue
    task: asyncio.Task[None] | None = None
    wake: asyncio.Event | None = None
    batches: int = 0
    turn: int = 0  # round robin over the queue's functions


class Queues:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._pollers: dict[str, _Poller] = {}
        self._deliveries: set[asyncio.Task[None]] = set()
        registry.on_apply.append(lambda project: self.follow())

    # -- which queues exist ---------------------------------------------------------

    def start(self) -> None:
        self.follow()
        if self._pollers:
            self._registry.console.info(f"emu: SQS queues {', '.join(self._pollers)} (QueueUrl {self.url('NAME')})")

    def follow(self) -> None:
        """Have a queue and a poller for every queue the project's triggers name; drop the others."""
        wanted = self.names()
        for name in [n for n in self._pollers if n not in wanted]:
            poller = self._pollers.pop(name)
            if poller.task is not None:
                poller.task.cancel()
            if len(poller.queue):
                self._registry.console.info(f"sqs: queue {name} is gone from the config; {len(poller.queue)} message(s) dropped")
        for name in wanted:
            if name not in self._pollers:
                poller = self._pollers[name] = _Poller(Queue(name), wake=asyncio.Event())
                poller.task = asyncio.ensure_future(self._poll(poller))
        for poller in self._pollers.values():  # consumers may have come or gone
            assert poller.wake is not None
            poller.wake.set()

    def names(self) -> list[str]:
        functions = self._registry.project.functions.values()
        return list(dict.fromkeys(t.queue for spec in functions for t in spec.events if isinstance(t, SqsTrigger)))

    def get(self, name: str) -> Queue | None:
        poller = self._pollers.get(name)
        return None if poller is None else poller.queue

    def url(self, name: str) -> str:
        return f"{self._registry.endpoint_url}/{self._registry.project.settings.account_id}/{name}"

    def arn(self, name: str) -> str:
        settings = self._registry.project.settings
        return f"arn:aws:sqs:{settings.region}:{settings.account_id}:{name}"

    def visibility_timeout(self) -> float:
        return self._registry.project.settings.sqs_visibility_timeout

    def consumers(self, name: str) -> list[tuple[str, SqsTrigger]]:
        """The functions fed from queue ``name``, each with its trigger."""
        found = []
        for spec in self._registry.project.functions.values():
            trigger = next((t for t in spec.events if isinstance(t, SqsTrigger) and t.queue == name), None)
            if trigger is not None:
                found.append((spec.name, trigger))
        return found

    # -- sending ---------------------------------------------------------------------

    def send(self, name: str, sent: OutgoingMessage) -> Message:
        poller = self._pollers[name]
        message = poller.queue.send(sent, time.monotonic(), _now_ms())
        assert poller.wake is not None
        poller.wake.set()
        return message

    def deliver_sample(self, event: Any) -> list[str]:
        """``POST /_emu/events/aws/sqs``: send each record's body (and attributes) to its queue, as SendMessage
        would; the functions the queue feeds. Records for queues emu does not have are skipped."""
        records = event.get("Records") if isinstance(event, dict) else None
        if not isinstance(records, list):
            raise ValueError('expected an SQS event: {"Records": [{"body": ..., "eventSourceARN": ...}]}')
        functions: dict[str, None] = {}
        for record in records:
            if not isinstance(record, dict):
                raise ValueError("every record must be an object")
            name = str(record.get("eventSourceARN") or "").rpartition(":")[2]
            queue = self.get(name)
            if queue is None:
                continue
            attributes = record.get("attributes") or {}
            doc = {
                "MessageBody": record.get("body"),
                "MessageAttributes": {
                    key: {sent: value[got] for got, sent in _SEND_SPELLING.items() if value.get(got) is not None}
                    for key, value in (record.get("messageAttributes") or {}).items()
                    if isinstance(value, dict)
                },
            }
            if queue.is_fifo:
                doc["MessageGroupId"] = attributes.get("MessageGroupId") or "emu-sample"
                doc["MessageDeduplicationId"] = attributes.get("MessageDeduplicationId") or record.get("messageId")
            try:
                self.send(name, sqs_json.message(doc, queue.is_fifo))
            except MessagingError as exc:
                raise ValueError(str(exc)) from None
            functions.update(dict.fromkeys(function for function, _ in self.consumers(name)))
        return list(functions)

    # -- polling ---------------------------------------------------------------------

    async def _poll(self, poller: _Poller) -> None:
        queue = poller.queue
        assert poller.wake is not None
        limit = 1 if queue.is_fifo else MAX_BATCHES_IN_FLIGHT
        while True:
            poller.wake.clear()
            consumers = self.consumers(queue.name)
            timeout: float | None = None  # until a send, a finished batch or a config change
            if consumers and poller.batches < limit:
                function, trigger = consumers[poller.turn % len(consumers)]
                pool = self._registry.lambda_pool(function)
                if pool is None:  # being replaced by a reload this very moment
                    timeout = _THROTTLE_BACKOFF_S
                elif batch := queue.receive(trigger.batch_size, time.monotonic(), _now_ms()):
                    poller.turn += 1
                    poller.batches += 1
                    task = asyncio.ensure_future(self._deliver(poller, pool, batch))
                    self._deliveries.add(task)
                    task.add_done_callback(self._deliveries.discard)
                    continue
                elif (visible_at := queue.next_visible_at()) is not None:
                    timeout = max(_MIN_WAIT_S, visible_at - time.monotonic())
            try:
                await asyncio.wait_for(poller.wake.wait(), timeout)
            except TimeoutError:
                pass

    async def _deliver(self, poller: _Poller, pool: LambdaPool, batch: list[Message]) -> None:
        registry = self._registry
        queue = poller.queue
        function = pool.spec.name
        origin = samples.Origin.from_settings(registry.project.settings)
        event = samples.sqs_batch(origin, queue.name, [m.receipt() for m in batch])
        outcome = None
        try:
            outcome = await pool.invoke(Invocation(function, json.dumps(event).encode(), registry.arn(function), trigger="sqs"))
        except Throttled:
            queue.release(batch, time.monotonic() + _THROTTLE_BACKOFF_S, received=False)
        except Exception as exc:  # emu's own failure: keep the messages for another try
            registry.console.error(function, f"sqs batch from {queue.name} could not be delivered: {exc!r}")
            queue.release(batch, time.monotonic() + registry.project.settings.sqs_visibility_timeout, received=False)
        finally:
            poller.batches -= 1
            assert poller.wake is not None
            poller.wake.set()
        if outcome is None:
            return
        if not outcome.is_error:
            queue.delete(batch)
            return
        delay = self.visibility_timeout()
        dropped = queue.release(batch, time.monotonic() + delay)
        again = len(batch) - len(dropped)
        if again:
            registry.console.info(
                f"{function}: sqs batch from {queue.name} failed ({outcome.error_type}); "
                f"{again} message(s) back on the queue in {delay:g} s"
            )
        for message in dropped:
            registry.console.error(
                function,
                f"sqs message {message.message_id} from {queue.name} dropped after {message.receive_count} receives "
                f"(maxReceiveCount {MAX_RECEIVES}; a dead-letter queue would have it)",
            )

    async def aclose(self) -> None:
        tasks = [p.task for p in self._pollers.values() if p.task is not None] + list(self._deliveries)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)


def _now_ms() -> int:
    return int(time.time() * 1000)
