def handler(event, context):
    # A JSON string of this many bytes, quotes included.
    return "x" * (event.get("bytes", 7 * 1024 * 1024) - 2)
