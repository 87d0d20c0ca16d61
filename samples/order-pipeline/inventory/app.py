"""Reserves stock for each order published to the "orders" topic."""

import json


def handler(event, context):
    for record in event["Records"]:
        order = json.loads(record["Sns"]["Message"])
        print(f"inventory: reserved {order['quantity']} x {order['item']} for order {order['order_id']}")
