import json

import boto3


def handler(event, context):
    # No endpoint_url: boto3 finds emu through AWS_ENDPOINT_URL_LAMBDA, as a deployed
    # function would find the real Lambda.
    client = boto3.client("lambda")
    response = client.invoke(FunctionName=event["target"], Payload=json.dumps(event["payload"]))
    return {
        "status": response["StatusCode"],
        "endpoint": client.meta.endpoint_url,
        "result": json.loads(response["Payload"].read()),
    }
