"""Hello, Lambda: greets whoever the event names.

Invoked directly the event is ``{"name": ...}``; through the API Gateway route or
the Function URL the name is a query parameter (``?name=Ada``).
"""

import json
import os


def handler(event, context):
    event = event if isinstance(event, dict) else {}
    name = event.get("name") or (event.get("queryStringParameters") or {}).get("name") or "world"
    print(f"greeting {name} ({context.aws_request_id})")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": f"{os.environ['GREETING']}, {name}!", "from": context.function_name}),
    }
