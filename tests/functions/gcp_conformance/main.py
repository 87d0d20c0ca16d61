"""Conformance functions: each writes what it received to $EVENT_FILE, as the Python
functions of functions-framework-conformance do, so the test can compare it."""

import json
import os

import functions_framework

OUT = os.environ.get("EVENT_FILE", "event.json")


@functions_framework.cloud_event
def write_cloud_event(cloud_event):
    data = cloud_event.get_data()
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    _write({**cloud_event.get_attributes(), "data": data})


def write_legacy_event(data, context):
    _write({
        "data": data,
        "context": {"eventId": context.event_id, "timestamp": context.timestamp,
                    "eventType": context.event_type, "resource": context.resource},
    })


class Greeting:
    def __init__(self, name, count):
        self.name = name
        self.count = count

    @staticmethod
    def from_dict(obj):
        return Greeting(obj["name"], obj["count"])

    def to_dict(self):
        return {"name": self.name, "count": self.count}


@functions_framework.typed
def typed_echo(greeting: Greeting) -> Greeting:
    return Greeting(greeting.name.upper(), greeting.count + 1)


def _write(record):
    # Written whole, then renamed: the test never reads half an event.
    with open(OUT + ".tmp", "w") as f:
        json.dump(record, f)
    os.replace(OUT + ".tmp", OUT)
