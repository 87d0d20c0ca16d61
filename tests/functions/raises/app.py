class OrderError(Exception):
    pass


def handler(event, context):
    if event.get("ok"):
        return "fine"
    print("about to fail")
    raise OrderError("order 42 is broken")
