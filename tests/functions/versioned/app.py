import os
import time

VERSION = "v1"  # hot-reload tests rewrite this line


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"version": VERSION, "pid": os.getpid(), "greeting": os.environ.get("GREETING")}
