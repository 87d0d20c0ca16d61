import json
import os
import time

import functions_framework

STARTED = time.time()


@functions_framework.http
def echo(request):
    """Echoes what it was sent, so tests can see the request arrived unchanged."""
    if request.args.get("sleep"):
        time.sleep(float(request.args["sleep"]))
    if request.args.get("status"):
        return request.get_data(), int(request.args["status"]), {"X-Custom": "yes"}
    body = {
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode(),
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "body": request.get_data(as_text=True),
        "pid": os.getpid(),
        "started": STARTED,
        "env": {k: os.environ.get(k) for k in ("K_SERVICE", "K_REVISION", "K_CONFIGURATION", "FUNCTION_TARGET",
                                                   "FUNCTION_SIGNATURE_TYPE", "PORT", "GOOGLE_CLOUD_PROJECT",
                                                   "LOG_EXECUTION_ID", "GREETING")},
    }
    return json.dumps(body), 200, {"Content-Type": "application/json", "Set-Cookie": "a=1"}


def big(request):
    """Streams a large body back: its size in MB is in the query."""
    size = int(request.args.get("mb", "1"))
    chunk = b"x" * (1024 * 1024)
    return (chunk for _ in range(size))


def raises(request):
    raise RuntimeError("the function broke")


def exits(request):
    if request.args.get("ok"):
        return "fine"
    os._exit(1)


def hog(request):
    if request.args.get("ok"):
        return "fine"
    hoard = bytearray(int(request.args.get("mb", "400")) * 1024 * 1024)
    hoard[::4096] = b"x" * len(hoard[::4096])
    time.sleep(float(request.args.get("hold", "1")))
    return str(len(hoard))


def slow(request):
    time.sleep(float(request.args.get("sleep", "1")))
    return json.dumps({"pid": os.getpid()})
