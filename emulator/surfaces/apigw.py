"""API Gateway routes and Lambda Function URLs, served on emu's one port.

Every Lambda function's ``api`` events are routes at the root of emu's URL, as if
one API held them all (no stage prefix, as ``sam local start-api`` serves them). A
function with ``url: true`` answers at ``/lambda-url/{function}/{path...}``: a real
Function URL is a host of its own (``https://<url-id>.lambda-url.<region>.on.aws/``),
so the prefix stands in for that host and the function sees only the path after it.

The router asks ``resolve`` after emu's own APIs (Invoke, admin, Pub/Sub, GCS) and
before Cloud Functions at ``/{name}``: only a full match (or a Function URL) is served
here, so a GCP function keeps every path no route claims (a greedy ``/{proxy+}`` or
``$default`` route claims them all). A path nothing claims gets the REST API's 403
Missing Authentication Token from ``no_route``, once the project has any route or URL;
without any, emu's plain 404 stays.
The request becomes an ``Invocation`` on the function's pool, as the Invoke API's do;
``wire.apigw_events`` builds the event and reads the result back.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

from emulator import errors
from emulator.config.model import DEFAULT_ROUTE, ApiTrigger, PayloadVersion, Project
from emulator.execution.invocation import Invocation, new_request_id
from emulator.execution.registry import Registry
from emulator.routing import Route, RouteTable
from emulator.surfaces.asgi import BodyTooLarge, Receive, Scope, Send, http_date, read_body
from emulator.surfaces.lambda_invoke import SYNC_LIMIT
from emulator.wire.apigw_events import (
    REQUEST_LIMIT,
    Gateway,
    GatewayRequest,
    GatewayResponse,
    Integration,
    MalformedResult,
    RequestIds,
    build_event,
    failure,
    new_request_ids,
    no_route,
    read_result,
    rejected,
    response_ids,
)

URL_PREFIX = "/lambda-url/"
# API ids as the events show them; real ones are 10 lowercase letters and digits.
API_IDS: dict[Gateway, str] = {"rest": "emurestapi", "http": "emuhttpapi"}


@dataclass(frozen=True, slots=True)
class Target:
    """What a request resolved to: a function, and the route (or Function URL) it came by."""

    function: str
    gateway: Gateway
    payload: PayloadVersion
    resource: str
    route_key: str
    path: str  # the path the function sees (a Function URL's, without the prefix)
    params: dict[str, str] = field(default_factory=dict)


class ApiGatewaySurface:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._project: Project | None = None
        self._routes: RouteTable[tuple[str, ApiTrigger]] = RouteTable()
        self._urls: frozenset[str] = frozenset()

    def _refresh(self) -> None:
        # Built from the project the registry serves now, so a reloaded config takes effect.
        project = self.registry.project
        if project is self._project:
            return
        routes: RouteTable[tuple[str, ApiTrigger]] = RouteTable()
        for name, spec in project.functions.items():
            for trigger in spec.events:
                if isinstance(trigger, ApiTrigger):
                    routes.add(Route(trigger.method, trigger.path), (name, trigger))
        self._routes = routes
        self._urls = frozenset(name for name, spec in project.functions.items() if spec.url)
        self._project = project

    def has_routes(self) -> bool:
        """Whether the project has any API route or Function URL, so unknown paths are the gateway's."""
        self._refresh()
        return bool(self._routes) or bool(self._urls)

    def resolve(self, scope: Scope) -> Target | None:
        self._refresh()
        path: str = scope["path"]
        raw_path = (scope.get("raw_path") or path.encode()).decode("latin-1")
        if path.startswith(URL_PREFIX):
            name, _, rest = raw_path[len(URL_PREFIX):].partition("/")
            if name in self._urls:
                return Target(name, "url", "2.0", DEFAULT_ROUTE, DEFAULT_ROUTE, "/" + rest)
        if not self._routes:
            return None
        found = self._routes.resolve(scope["method"], raw_path)
        if found is None:
            return None
        _, (name, trigger), params = found
        return Target(name, trigger.gateway, trigger.payload, trigger.path, trigger.route_key, raw_path, params)

    async def no_route(self, send: Send) -> None:
        await _send(send, no_route(new_request_ids("rest")), head=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send, target: Target) -> None:
        ids = new_request_ids(target.gateway)
        head = scope["method"] == "HEAD"
        try:
            body = await read_body(receive, REQUEST_LIMIT)
        except BodyTooLarge:
            await _send(send, failure(target.gateway, "too_large", ids), head)
            return
        client = scope.get("client") or ("127.0.0.1", 0)
        server = scope.get("server") or ("127.0.0.1", 80)
        request = GatewayRequest(
            method=scope["method"],
            raw_path=target.path,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]),
            body=body,
            source_ip=client[0],
            server_port=server[1] or 80,
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
        )
        settings = self.registry.project.settings
        integration = Integration(
            gateway=target.gateway,
            payload=target.payload,
            resource=target.resource,
            route_key=target.route_key,
            api_id=_url_id(target.function) if target.gateway == "url" else API_IDS[target.gateway],
            region=settings.region,
            account_id=settings.account_id,
            path_params=target.params,
        )
        event = json.dumps(build_event(request, integration, ids, time.time())).encode()
        await _send(send, await self._invoke(target, event, ids), head)

    async def _invoke(self, target: Target, event: bytes, ids: RequestIds) -> GatewayResponse:
        gateway = target.gateway
        pool = self.registry.lambda_pool(target.function)
        if pool is None:  # removed by a config reload since the route was read
            return no_route(ids)
        if len(event) > SYNC_LIMIT:
            return rejected(gateway, errors.RequestTooLarge(SYNC_LIMIT), ids)
        invocation = Invocation(
            function=target.function,
            payload=event,
            function_arn=self.registry.arn(target.function),
            # A Function URL's request id is Lambda's own; API Gateway's is its own.
            request_id=ids.request_id if gateway == "url" else new_request_id(),
            trigger="url" if gateway == "url" else "api",
        )
        try:
            outcome = await pool.invoke(invocation)
        except errors.Throttled as exc:
            return rejected(gateway, exc, ids)
        if outcome.is_error:
            return failure(gateway, "function_error", ids)
        try:
            response = read_result(gateway, target.payload, outcome.payload)
        except MalformedResult as exc:
            # API Gateway writes this to its execution log; the client only sees the 5xx.
            self.registry.console.error(target.function, f"{target.route_key}: malformed Lambda proxy response: {exc}")
            return failure(gateway, "malformed", ids)
        return GatewayResponse(response.status, response.headers + response_ids(gateway, ids), response.body)


def _url_id(function: str) -> str:
    # Stable per function, shaped like a real url-id (32 lowercase letters and digits).
    return hashlib.sha256(function.encode()).hexdigest()[:32]


async def _send(send: Send, response: GatewayResponse, head: bool) -> None:
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers]
    if not any(name == b"date" for name, _ in headers):
        headers.append((b"date", http_date()))
    headers.append((b"content-length", b"%d" % len(response.body)))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else response.body})
