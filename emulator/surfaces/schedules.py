"""Schedules on the admin surface: see them, and fire one now instead of waiting for it.

- ``GET /_emu/schedules``: every armed schedule, its next time (on the schedule
  clock) and how often it has fired;
- ``POST /_emu/schedules/{function}/fire``: fire every schedule of ``function`` now,
  delivering what its timer would; 200 ``{"function": …, "fired": [names]}``, 404 when
  the function has no schedule.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from emulator.events.schedules import Scheduler
from emulator.surfaces.asgi import JSON, Receive, Scope, Send, respond

PREFIX = "/_emu/schedules"


class SchedulesSurface:
    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    async def __call__(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        parts = [unquote(part) for part in rest.strip("/").split("/")] if rest.strip("/") else []
        method = scope["method"]
        if not parts:
            if method != "GET":
                await _answer(send, 405, {"message": "Use GET to list schedules."}, allow=b"GET")
                return
            await _answer(send, 200, {"schedules": self.scheduler.describe()})
        elif len(parts) == 2 and parts[1] == "fire":
            if method != "POST":
                await _answer(send, 405, {"message": "Use POST to fire a schedule."}, allow=b"POST")
                return
            fired = self.scheduler.fire(parts[0])
            if not fired:
                await _answer(send, 404, {"message": f"function {parts[0]!r} has no schedule"})
                return
            await _answer(send, 200, {"function": parts[0], "fired": fired})
        else:
            await _answer(send, 404, {"message": "Not Found: use /_emu/schedules or /_emu/schedules/FUNCTION/fire"})


async def _answer(send: Send, status: int, body: object, allow: bytes | None = None) -> None:
    headers = [JSON] if allow is None else [JSON, (b"allow", allow)]
    await respond(send, status, headers, json.dumps(body).encode())
