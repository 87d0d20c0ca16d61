import json
import os


def lambda_handler(event, context):
    """A REST API (API Gateway v1) proxy handler.

    event: the API Gateway Lambda proxy input
        https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
    context: the Lambda context object
        https://docs.aws.amazon.com/lambda/latest/dg/python-context-object.html

    Returns the proxy output: statusCode, headers and a string body.
    """
    params = event.get("queryStringParameters") or {}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({
            "message": f"hello {params.get('name', 'world')}",
            "stage": os.environ["STAGE"],
            "path": event["path"],
            "method": event["httpMethod"],
        }),
    }
