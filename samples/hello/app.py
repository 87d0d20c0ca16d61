"""Hello, Lambda: greets whoever the event names."""

import json
import os


def handler(event, context):
    event = event if isinstance(event, dict) else {}
    # Invoked directly the event is {"name": ...}; through API Gateway the name is a query parameter.
    name = event.get("name") or (event.get("queryStringParameters") or {}).get("name") or "world"
    print(f"greeting {name} ({context.aws_request_id})")
    return {
        "statusCode": 200,
        "body": json.dumps({"message": f"{os.environ['GREETING']}, {name}!"}),
    }
