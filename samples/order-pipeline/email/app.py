"""Sends (here: prints) a confirmation for each order published to the "orders" topic."""

import json


def handler(event, context):
    for record in event["Records"]:
        order = json.loads(record["Sns"]["Message"])
        print(f"email: to {order['email']}: your order {order['order_id']} is confirmed ({record['Sns']['Subject']})")
