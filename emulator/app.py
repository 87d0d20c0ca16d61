"""The router: one ASGI app that serves every surface on one port.

Dispatch is a handful of prefix checks, kept lean because the Invoke API is on
the hot path. The lifespan starts the registry's pools, then the reloader, and
stops them in reverse, so no worker outlives ``emu up``. One outermost guard
turns an emu bug into a logged 500 and keeps serving.
"""

from __future__ import annotations

import traceback
from typing import Awaitable, Callable

from emulator.events.aws_dispatch import PREFIX as _AWS_EVENTS
from emulator.events.aws_dispatch import AwsDispatch
from emulator.events.buckets import LocalBuckets
from emulator.events.queues import Queues
from emulator.events.schedules import Scheduler
from emulator.events.topics import Topics
from emulator.execution.registry import Registry
from emulator.reload import NullReloader
from emulator.surfaces.admin import AdminSurface
from emulator.surfaces.apigw import ApiGatewaySurface
from emulator.surfaces.asgi import JSON, Receive, Scope, Send, respond
from emulator.surfaces.aws_services import AwsServicesSurface, aws_service
from emulator.surfaces.gcp import GcpSurface
from emulator.surfaces.gcp_services import PUBLISH, GcsSurface, PubSubSurface
from emulator.surfaces.lambda_control import ControlSurface
from emulator.surfaces.lambda_invoke import InvokeSurface
from emulator.surfaces.s3 import S3Surface
from emulator.surfaces.schedules import PREFIX as _SCHEDULES
from emulator.surfaces.schedules import SchedulesSurface
from emulator.surfaces.sns import SnsSurface
from emulator.surfaces.sqs import SqsSurface

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
        self.buckets = LocalBuckets(registry)
        self._gcs = GcsSurface(self.buckets)
        settings = lambda: registry.project.settings  # noqa: E731 - read per request: reloads change it
        self._s3 = S3Surface(self.buckets, lambda: settings().region, lambda: settings().account_id)
        # emu event's AWS events without --to; each event source registers its deliverer.
        self.aws_events = AwsDispatch()
        self.aws_events.register("s3", self.buckets.deliver_s3_event)
        # SQS queues, SNS topics and schedules, each following config reloads (Registry.on_apply).
        self.queues = Queues(registry)
        self.topics = Topics(registry)
        self.schedules = Scheduler(registry)
        self._aws_services = AwsServicesSurface(SqsSurface(self.queues), SnsSurface(self.topics))
        self._schedules = SchedulesSurface(self.schedules)
        self.aws_events.register("sqs", self.queues.deliver_sample)
        self.aws_events.register("sns", self.topics.deliver_sample)
        self.aws_events.register("schedule", self.schedules.deliver_sample)
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
        elif path.startswith(_AWS_EVENTS):
            await self.aws_events(scope, receive, send, path[len(_AWS_EVENTS):])
        elif path.startswith(_SCHEDULES):
            await self._schedules(scope, receive, send, path[len(_SCHEDULES):])
        elif path == "/" and scope["method"] == "POST" and (service := aws_service(scope)) is not None:
            # SQS and SNS, as boto3 calls them (before S3, which would take any signed request to /).
            await self._aws_services(scope, receive, send, service)
        elif path.startswith(_ADMIN) or path == "/_emu":
            await self._admin(scope, receive, send, path[len(_ADMIN):])
        else:
            # An API Gateway route or a Function URL (only a full match, so /{name} keeps its
            # other paths); /{name}/... is a Cloud Function, as on cloudfunctions.net; and
            # /{bucket}/{key} is S3, for SDK calls always (S3Surface.claims says when).
            target = self._apigw.resolve(scope)
            pool = self.registry.gcp_pool(path[1:].split("/", 1)[0]) if target is None else None
            if self._s3.claims(scope, elsewhere=target is not None or pool is not None):
                await self._s3(scope, receive, send)
            elif target is not None:
                await self._apigw(scope, receive, send, target)
            elif pool is not None:
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
        await self.buckets.start()
        self.queues.start()
        self.topics.start()
        self.schedules.start()
        await self._reloader.start()
        if self._on_ready:
            self._on_ready()

    async def _shutdown(self) -> None:
        await self._reloader.aclose()
        await self.schedules.aclose()
        await self.queues.aclose()
        await self.buckets.aclose()
        await self.registry.aclose()
