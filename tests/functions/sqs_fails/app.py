import json


def handler(event, context):
    for record in event["Records"]:
        print("RECEIVED " + json.dumps({"id": record["messageId"], "count": record["attributes"]["ApproximateReceiveCount"]}))
    raise RuntimeError("cannot process this batch")
