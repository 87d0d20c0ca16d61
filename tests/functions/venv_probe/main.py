"""GCP: reports what its interpreter imports. Run with a requirements.txt naming emu_probe_dep."""

import importlib.util
import sys

import emu_probe_dep  # only in the function's own virtualenv
import functions_framework


@functions_framework.http
def probe(request):
    return {
        "probe": emu_probe_dep.VALUE,
        "requests": importlib.util.find_spec("requests") is not None,
        "prefix": sys.prefix,
    }
