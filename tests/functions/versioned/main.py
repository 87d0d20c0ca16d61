import os

import functions_framework

VERSION = "v1"  # hot-reload tests rewrite this line


@functions_framework.http
def versioned(request):
    return {"version": VERSION, "pid": os.getpid()}
