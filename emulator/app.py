"""The router: one ASGI app that serves every surface on one port.

Dispatch is a handful of prefix checks, kept lean because the Invoke API is on
the hot path. The lifespan starts the registry's pools, then the reloader, and
stops them in reverse, so no worker outlives ``emu up``. One outermost guard
turns an emu bug into a logged 500 and keeps serving.
"""

from __future__ import annotations

import traceback
from typing import Awaitable, Callable

from emulator.execution.registry import Registry
from emulator.reload import NullReloader
from emulator.surfaces.admin import AdminSurface
from emulator.surfaces.apigw import ApiGatewaySurface
from emulator.surfaces.asgi import JSON, Receive, Scope, Send, respond
from emulator.surfaces.gcp import GcpSurface
from emulator.surfaces.gcp_services import PUBLISH, GcsSurface, PubSubSurface
from emulator.surfaces.lambda_control import ControlSurface
from emulator.surfaces.lambda_invoke import InvokeSurface

_FUNCTIONS = "/2015-03-31/functions"
_INVOCATIONS = "/invocations"
_ADMIN = "/_emu/"
_GCS = "/_emu/gcs/"


class EmuApp:
    def __init__(
        self, registry: Registry, on_ready: Callable[[], None] | None = None, reloader: NullReloader | None = None
    ) -> None:
        self.registry = registry
        self._reloader = reloader or NullReloader()
        self._invoke = InvokeSurface(registry)
        self._control = ControlSurface(registry)
        self._admin = AdminSurface(registry)
        self._gcp = GcpSurface(registry.gcp_invoker)
        self._pubsub = PubSubSurface(registry.gcp_sources)
        self._gcs = GcsSurface(registry.gcp_sources)
        self._apigw = ApiGatewaySurface(registry)
        self._on_ready = on_ready

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            try:
                await self._http(scope, receive, send)
            except Exception:
                self.registry.console.error("emu", "internal error:\n" + traceback.format_exc())
                try:
                    await respond(send, 500, [JSON], b'{"Type":"Service","message":"emu internal error"}')
                except Exception:  # the response had already started: nothing more to say
                    pass
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path.startswith(_FUNCTIONS):
            rest = path[len(_FUNCTIONS):]
            if rest.endswith(_INVOCATIONS) and scope["method"] == "POST":
                await self._invoke(scope, receive, send, rest[1 : -len(_INVOCATIONS)])
            else:
                await self._control(scope, receive, send, rest)
        elif path.startswith(_GCS):
            await self._gcs(scope, receive, send, path[len(_GCS):])
        elif path.startswith("/v1/") and (match := PUBLISH.match(path)):
            await self._pubsub(scope, receive, send, match["project"], match["topic"])
        elif path.startswith(_ADMIN) or path == "/_emu":
            await self._admin(scope, receive, send, path[len(_ADMIN):])
        elif (target := self._apigw.resolve(scope)) is not None:
            # An API Gateway route or a Function URL; only a full match, so /{name} below keeps its paths.
            await self._apigw(scope, receive, send, target)
        else:
            # /{name}/... is a Cloud Function, as on cloudfunctions.net.
            pool = self.registry.gcp_pool(path[1:].split("/", 1)[0])
            if pool is not None:
                await self._gcp(scope, receive, send, pool)
            elif self._apigw.has_routes():
                await self._apigw.no_route(send)
            else:
                await respond(send, 404, [(b"content-type", b"text/plain")], b"Not Found\n")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        handlers: dict[str, tuple[Callable[[], Awaitable[None]], str]] = {
            "lifespan.startup": (self._startup, "lifespan.startup"),
            "lifespan.shutdown": (self._shutdown, "lifespan.shutdown"),
        }
        while True:
            message = await receive()
            step, name = handlers[message["type"]]
            try:
                await step()
            except Exception as exc:
                await send({"type": f"{name}.failed", "message": repr(exc)})
                return
            await send({"type": f"{name}.complete"})
            if name == "lifespan.shutdown":
                return

    async def _startup(self) -> None:
        await self.registry.start()
        await self._reloader.start()
        if self._on_ready:
            self._on_ready()

    async def _shutdown(self) -> None:
        await self._reloader.aclose()
        await self.registry.aclose()
