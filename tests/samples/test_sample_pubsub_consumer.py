"""samples/pubsub-consumer, served by ``emu up`` on its own emu.yaml: messages published through
Pub/Sub's REST endpoint reach the CloudEvent function once each, and it prints their tickets."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests

pytestmark = pytest.mark.sample("pubsub-consumer/emu.yaml")
SETTLE_S = 0.5  # long enough for a redelivery, were there one


def publish(emu, *messages: dict) -> list[str]:
    """POST to the topic as ``curl`` in the README does; the message ids."""
    answer = requests.post(emu.url + "/v1/projects/emu-project/topics/orders:publish",
                           json={"messages": list(messages)}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["messageIds"]


def order(table: int, items: dict[str, int], **attributes: str) -> dict:
    message: dict = {"data": base64.b64encode(json.dumps({"table": table, "items": items}).encode()).decode()}
    if attributes:
        message["attributes"] = attributes
    return message


def test_a_published_order_prints_its_ticket(emu):
    (message_id,) = publish(emu, order(4, {"pizza": 2, "tiramisu": 1}, priority="rush"))
    (record,) = emu.wait_for("orders", count=1)
    assert (record["trigger"], record["outcome"]) == ("pubsub", "ok")
    assert f"ticket {message_id}: table 4: 2 x pizza, 1 x tiramisu RUSH" in emu.logs("orders")


def test_each_message_of_a_publish_is_delivered_once(emu):
    ids = publish(emu, order(1, {"soup": 1}), order(2, {"salad": 2}), order(3, {"bread": 3}))
    assert len(set(ids)) == 3
    emu.wait_for("orders", count=3)
    time.sleep(SETTLE_S)
    assert len(emu.invocations("orders")) == 3
    log = emu.logs("orders")
    for message_id, ticket in zip(ids, ("table 1: 1 x soup", "table 2: 2 x salad", "table 3: 3 x bread")):
        assert log.count(f"ticket {message_id}: {ticket}") == 1


def test_a_message_that_is_not_an_order_is_acknowledged_not_retried(emu):
    (message_id,) = emu.publish("orders", b"2 pizzas, please")
    (record,) = emu.wait_for("orders", count=1)
    assert record["outcome"] == "ok"
    time.sleep(SETTLE_S)
    assert len(emu.invocations("orders")) == 1
    assert f"ticket {message_id}: skipped, not an order: b'2 pizzas, please'" in emu.logs("orders")
