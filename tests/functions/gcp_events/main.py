import json
import os

import flask
import functions_framework

# Each received event is appended to this file, so tests can see what arrived.
LOG = os.environ.get("EVENT_LOG", "events.jsonl")
# The message data that makes them fail; another value makes a subscriber that never fails.
FAIL_ON = os.environ.get("FAIL_ON", "fail").encode()


@functions_framework.cloud_event
def on_cloud_event(event):
    attributes = {k: v for k, v in event.get_attributes().items()}
    data = event.get_data()
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    mode = "binary" if "ce-id" in flask.request.headers else "structured"
    record = {"kind": "cloudevent", "mode": mode, "attributes": attributes, "data": data}
    _append(record)
    if isinstance(data, dict) and _fails(data):
        raise RuntimeError("asked to fail")


def on_legacy_event(data, context):
    record = {
        "kind": "legacy",
        "data": data,
        "context": {"eventId": context.event_id, "timestamp": context.timestamp,
                    "eventType": context.event_type, "resource": context.resource},
    }
    _append(record)
    if isinstance(data, dict) and _fails(data):
        raise RuntimeError("asked to fail")


def _fails(data):
    import base64
    message = data.get("message", data)
    raw = message.get("data") if isinstance(message, dict) else None
    try:
        return raw is not None and base64.b64decode(raw) == FAIL_ON
    except Exception:
        return False


def _append(record):
    with open(LOG, "a") as f:
        f.write(json.dumps(record) + "\n")
