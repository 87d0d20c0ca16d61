import base64


def handler(event, context):
    """Sends the request body back as binary, reversed, with the request's content type."""
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event["isBase64Encoded"] else body.encode()
    headers = event["headers"]
    content_type = headers.get("content-type") or headers.get("Content-Type") or "application/octet-stream"
    return {
        "statusCode": 200,
        "headers": {"Content-Type": content_type, "X-Was-Base64": str(event["isBase64Encoded"]).lower()},
        "body": base64.b64encode(raw[::-1]).decode(),
        "isBase64Encoded": True,
    }
