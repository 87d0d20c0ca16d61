"""A Pub/Sub consumer: every message published to the `orders` topic arrives here as a CloudEvent."""

import base64

import functions_framework


@functions_framework.cloud_event
def on_order(event):
    message = event.data["message"]
    order = base64.b64decode(message.get("data", "")).decode() or "(empty)"
    print(f"order {message['messageId']} received: {order} attributes={message.get('attributes', {})}")
