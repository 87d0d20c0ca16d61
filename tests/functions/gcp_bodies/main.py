"""Large bodies both ways: ``digest`` reads the request body as a stream and
answers its size and SHA-256; ``stream`` answers ``?mb=N`` MB made by a generator."""

import hashlib
import json


def digest(request):
    sha, size = hashlib.sha256(), 0
    while chunk := request.stream.read(1024 * 1024):
        sha.update(chunk)
        size += len(chunk)
    return json.dumps({"size": size, "sha256": sha.hexdigest()})


def stream(request):
    mb = int(request.args.get("mb", "1"))
    # Each MB differs, so a reordered or repeated piece would show.
    return (bytes([65 + i % 26]) * (1024 * 1024) for i in range(mb))
