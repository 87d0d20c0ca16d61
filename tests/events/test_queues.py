"""A queue's state with plain data: what may be received when, retries, drops, FIFO order and deduplication.

No poller and no clock: the tests pass ``now`` themselves.
"""

from __future__ import annotations

from emulator.events.queues import MAX_RECEIVES, Queue
from emulator.wire.sqs_json import OutgoingMessage

NOW = 1000.0
NOW_MS = 1_700_000_000_000


def filled(name: str, *bodies: str, group: str | None = None) -> Queue:
    queue = Queue(name)
    for body in bodies:
        queue.send(OutgoingMessage(body, group_id=group), NOW, NOW_MS)
    return queue


def bodies(batch) -> list[str]:
    return [m.sent.body for m in batch]


def test_a_batch_takes_visible_messages_in_order_up_to_the_limit() -> None:
    queue = filled("jobs", "a", "b", "c")
    first = queue.receive(2, NOW, NOW_MS)
    assert bodies(first) == ["a", "b"]
    assert all(m.in_flight and m.receive_count == 1 and m.first_receive_ms == NOW_MS for m in first)
    assert len({m.receipt_handle for m in first}) == 2
    assert bodies(queue.receive(10, NOW, NOW_MS)) == ["c"]
    assert queue.receive(10, NOW, NOW_MS) == []
    assert queue.counts(NOW) == (0, 0, 3)


def test_a_delivered_batch_is_deleted() -> None:
    queue = filled("jobs", "a", "b")
    batch = queue.receive(10, NOW, NOW_MS)
    queue.delete(batch)
    assert len(queue) == 0 and queue.next_visible_at() is None


def test_a_failed_batch_comes_back_after_the_visibility_timeout_then_is_dropped() -> None:
    queue = filled("jobs", "a")
    for receive in range(1, MAX_RECEIVES + 1):
        now = NOW + receive * 10
        [message] = queue.receive(10, now, NOW_MS)
        assert message.receive_count == receive
        dropped = queue.release([message], visible_at=now + 1)
        if receive < MAX_RECEIVES:
            assert dropped == [] and queue.counts(now) == (0, 1, 0)
            assert queue.receive(10, now + 0.5, NOW_MS) == []  # still hidden
            assert queue.next_visible_at() == now + 1
    assert [m.sent.body for m in dropped] == ["a"]
    assert len(queue) == 0


def test_a_throttled_batch_returns_without_counting_a_receive() -> None:
    queue = filled("jobs", "a")
    [message] = queue.receive(10, NOW, NOW_MS)
    assert queue.release([message], visible_at=NOW + 0.2, received=False) == []
    assert message.receive_count == 0 and not message.in_flight
    [again] = queue.receive(10, NOW + 0.2, NOW_MS + 200)
    assert again.receive_count == 1
    assert again.first_receive_ms == NOW_MS + 200


def test_a_delayed_message_waits() -> None:
    queue = Queue("jobs")
    queue.send(OutgoingMessage("later", delay_seconds=5), NOW, NOW_MS)
    queue.send(OutgoingMessage("now"), NOW, NOW_MS)
    assert bodies(queue.receive(10, NOW, NOW_MS)) == ["now"]
    assert queue.counts(NOW) == (0, 1, 1)
    assert bodies(queue.receive(10, NOW + 5, NOW_MS)) == ["later"]


def test_fifo_holds_a_group_back_while_its_earlier_message_is_in_flight_or_hidden() -> None:
    queue = Queue("jobs.fifo")
    for body, group in (("a1", "a"), ("b1", "b"), ("a2", "a")):
        queue.send(OutgoingMessage(body, group_id=group), NOW, NOW_MS)
    first = queue.receive(1, NOW, NOW_MS)
    assert bodies(first) == ["a1"]
    assert bodies(queue.receive(10, NOW, NOW_MS)) == ["b1"]  # a2 waits for a1
    queue.release(first, visible_at=NOW + 1)
    assert queue.receive(10, NOW + 0.5, NOW_MS) == []  # a1 hidden: a2 still waits
    # One batch may hold a group's messages in order (b1 is still in flight).
    assert bodies(queue.receive(10, NOW + 1, NOW_MS)) == ["a1", "a2"]


def test_fifo_messages_carry_sequence_numbers_and_duplicates_are_not_queued_twice() -> None:
    queue = Queue("jobs.fifo")
    first = queue.send(OutgoingMessage("same", group_id="g"), NOW, NOW_MS)
    again = queue.send(OutgoingMessage("same", group_id="g"), NOW + 10, NOW_MS)
    other = queue.send(OutgoingMessage("same", group_id="g", deduplication_id="explicit"), NOW + 10, NOW_MS)
    assert again.message_id == first.message_id
    assert len(queue) == 2
    assert first.sequence_number and other.sequence_number and int(other.sequence_number) > int(first.sequence_number)
    # Content-based: the body's SHA-256 stands in for a missing deduplication id.
    assert first.sent.deduplication_id and len(first.sent.deduplication_id) == 64
    # After the five-minute window the same body is a new message.
    later = queue.send(OutgoingMessage("same", group_id="g"), NOW + 301, NOW_MS)
    assert later.message_id != first.message_id and len(queue) == 3


def test_a_record_carries_what_the_poller_sends() -> None:
    queue = Queue("jobs.fifo")
    queue.send(OutgoingMessage("x", {"k": {"DataType": "String", "StringValue": "v"}}, group_id="g"), NOW, NOW_MS)
    [message] = queue.receive(10, NOW, NOW_MS + 5)
    receipt = message.receipt()
    assert (receipt.body, receipt.receive_count, receipt.sent_ms, receipt.first_receive_ms) == ("x", 1, NOW_MS, NOW_MS + 5)
    assert receipt.fifo is not None and receipt.fifo["MessageGroupId"] == "g"
    assert receipt.md5_of_message_attributes == message.sent.md5_of_attributes
