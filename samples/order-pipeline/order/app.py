"""Takes an order over HTTP (POST /orders) and publishes it to the "orders" SNS topic.

boto3 is given no endpoint: in the cloud it reaches SNS, under emu it reaches emu,
which sets AWS_ENDPOINT_URL_SNS for every function.
"""

import json
import os
import uuid

import boto3

sns = boto3.client("sns")


def handler(event, context):
    try:
        order = json.loads(event.get("body") or "{}")
        item, quantity, email = order["item"], int(order["quantity"]), order["email"]
    except (ValueError, KeyError, TypeError):
        return {"statusCode": 400, "body": json.dumps({"error": "send {item, quantity, email} as JSON"})}
    if quantity < 1:
        return {"statusCode": 400, "body": json.dumps({"error": "quantity must be at least 1"})}

    order = {"order_id": str(uuid.uuid4()), "item": item, "quantity": quantity, "email": email}
    published = sns.publish(
        TopicArn=os.environ["ORDERS_TOPIC_ARN"],
        Subject="New order",
        Message=json.dumps(order),
        MessageAttributes={"item": {"DataType": "String", "StringValue": item}},
    )
    print(f"order {order['order_id']}: {quantity} x {item}, published as {published['MessageId']}")
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({**order, "message_id": published["MessageId"]}),
    }
