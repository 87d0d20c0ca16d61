import time


def handler(event, context):
    if event.get("ok"):
        return "fine"
    print("going to sleep")
    time.sleep(3600)
