"""Hello, Lambda: greets whoever the event names."""

import json
import os


def handler(event, context):
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    print(f"greeting {name} ({context.aws_request_id})")
    return {
        "statusCode": 200,
        "body": json.dumps({"message": f"{os.environ['GREETING']}, {name}!"}),
    }
