import json


def handler(event, context):
    # One line per event, so a test can find what each function received in emu's log.
    print("EVENT " + json.dumps({"function": context.function_name, "event": event}, separators=(",", ":")))
    return {"ok": True}
