"""Takes its whole instance down: the worker kills its process group (gunicorn's
master too), which no worker restart can survive; ``?ok=1`` answers normally."""

import os
import signal


def dies(request):
    if request.args.get("ok"):
        return str(os.getppid())  # the instance: gunicorn's master
    os.killpg(0, signal.SIGKILL)
