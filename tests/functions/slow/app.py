import os
import time


def handler(event, context):
    time.sleep(event.get("sleep", 1.0))
    return {"pid": os.getpid()}
