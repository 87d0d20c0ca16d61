"""samples/order-pipeline, run unchanged with ``emu up``: an order POSTed to the API route is
published to SNS by the order function and reaches inventory, email and analytics once each."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import requests

from conftest import EmuProcess

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "order-pipeline"
SETTLE_S = 0.5


@pytest.fixture
def emu(tmp_path):
    root = tmp_path / "order-pipeline"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".emu"))
    process = EmuProcess(root, [])
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def test_an_order_fans_out_to_inventory_email_and_analytics(emu):
    answer = requests.post(emu.url + "/orders", json={"item": "pizza", "quantity": 2, "email": "ada@example.com"}, timeout=30)
    assert answer.status_code == 201, answer.text
    order = answer.json()
    order_id, message_id = order["order_id"], order["message_id"]
    assert (order["item"], order["quantity"], order["email"]) == ("pizza", 2, "ada@example.com")

    emu.wait_for_log(f"inventory | inventory: reserved 2 x pizza for order {order_id}")
    emu.wait_for_log(f"email     | email: to ada@example.com: your order {order_id} is confirmed (New order)")
    emu.wait_for_log(f"analytics | analytics: order {message_id} for pizza; 1 so far")
    time.sleep(SETTLE_S)
    log = emu.log()
    assert log.count(f"order {order_id}: 2 x pizza, published as {message_id}") == 1
    for line in ("inventory: reserved", "email: to ada@example.com", f"analytics: order {message_id}"):
        assert log.count(line) == 1, line


def test_a_bad_order_is_refused_and_published_nowhere(emu):
    answer = requests.post(emu.url + "/orders", data="not json", timeout=30)
    assert answer.status_code == 400
    assert "item, quantity, email" in answer.json()["error"]
    time.sleep(SETTLE_S)
    assert "inventory:" not in emu.log()


def test_the_topic_takes_a_publish_from_outside_too(emu):
    import boto3

    sns = boto3.client("sns", endpoint_url=emu.url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    message = json.dumps({"order_id": "manual-1", "item": "tea", "quantity": 1, "email": "me@example.com"})
    sns.publish(
        TopicArn="arn:aws:sns:us-east-1:123456789012:orders",
        Message=message,
        Subject="New order",
        MessageAttributes={"item": {"DataType": "String", "StringValue": "tea"}},
    )
    emu.wait_for_log("inventory: reserved 1 x tea for order manual-1")
    emu.wait_for_log("email: to me@example.com: your order manual-1 is confirmed")
    emu.wait_for_log("analytics: order ")
