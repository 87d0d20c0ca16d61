import json


def handler(event, context):
    """Answers with the event it got, and a header, a multi-value header and a cookie."""
    response = {"statusCode": 201, "headers": {"X-Echo": "yes"}, "body": json.dumps(event)}
    if event.get("version") == "2.0":
        response["cookies"] = ["session=abc; Path=/", "theme=dark"]
    else:
        response["multiValueHeaders"] = {"X-Multi": ["a", "b"]}
    return response
