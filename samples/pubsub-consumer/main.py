"""A Pub/Sub consumer: the kitchen's ticket printer.

Every message published to the topic `orders` arrives here as a CloudEvent
(``google.cloud.pubsub.topic.v1.messagePublished``) whose data holds the message:
its base64 ``data``, ``attributes``, ``messageId`` and ``publishTime``. An order is
JSON, ``{"table": 4, "items": {"pizza": 2, "tiramisu": 1}}``; the ticket is one log line.
"""

import base64
import json

import functions_framework


@functions_framework.cloud_event
def on_order(cloud_event):
    message = cloud_event.data["message"]
    attributes = message.get("attributes") or {}
    raw = base64.b64decode(message.get("data", ""))
    try:
        order = json.loads(raw)
        table = order["table"]
        items = ", ".join(f"{quantity} x {item}" for item, quantity in order["items"].items())
    except (ValueError, KeyError, TypeError, AttributeError):
        # A message no retry can fix is acknowledged (the function returns) and logged. Raising
        # would have Pub/Sub redeliver it until it expires or goes to a dead-letter topic.
        print(f"ticket {message['messageId']}: skipped, not an order: {raw[:80]!r}")
        return
    rush = " RUSH" if attributes.get("priority") == "rush" else ""
    print(f"ticket {message['messageId']}: table {table}: {items}{rush}")
