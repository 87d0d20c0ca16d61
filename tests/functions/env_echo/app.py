import os


def handler(event, context):
    return {k: os.environ.get(k) for k in event["keys"]}
