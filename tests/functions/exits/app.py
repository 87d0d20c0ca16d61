import os


def handler(event, context):
    if event.get("ok"):
        return "fine"
    print("exiting hard")
    os._exit(3)
