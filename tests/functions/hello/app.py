import os
import time

COLD_AT = time.time()  # module level: set once per environment


def handler(event, context):
    print(f"hello from {context.function_name}")
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "pid": os.getpid(),
        "cold_at": COLD_AT,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "arn": context.invoked_function_arn,
        "client_context": getattr(context.client_context, "custom", None) if context.client_context else None,
    }
