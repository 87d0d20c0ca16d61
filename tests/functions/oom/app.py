import time


def handler(event, context):
    if event.get("ok"):
        return "fine"
    hoard = bytearray(event.get("mb", 300) * 1024 * 1024)
    hoard[::4096] = b"x" * len(hoard[::4096])  # touch every page so it is resident
    time.sleep(event.get("hold", 1.0))
    return len(hoard)
