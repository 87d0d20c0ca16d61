"""Sample API Gateway proxy requests: a REST API (payload 1.0) or an HTTP API (payload 2.0).

There is no template for these: ``emulator.wire.apigw_events`` already builds the
event emu's own API routes send for a real HTTP request, so a sample is a request
made up from options (method, path, headers, query, body) and handed to that
builder. ``emu event apigw --print`` shows exactly what a routed request would bring.

Sans-io, like ``samples``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence
from urllib.parse import quote, urlencode, urlsplit

from emulator.config.model import PayloadVersion
from emulator.events.samples import SOURCE_IP, Origin, _now
from emulator.wire.apigw_events import Gateway, GatewayRequest, Integration, build_event, new_request_ids

# The API ids emu's routes show (emulator.surfaces.apigw.API_IDS): one local API of each kind.
API_IDS: dict[Gateway, str] = {"rest": "emurestapi", "http": "emuhttpapi"}
USER_AGENT = "emu-event"
# Characters a client leaves as they are in a path (RFC 3986 pchar, and "/").
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"

Pairs = Sequence[tuple[str, str]]


def apigw_event(
    origin: Origin,
    version: PayloadVersion,
    method: str = "GET",
    path: str = "/",
    body: str | None = None,
    headers: Pairs = (),
    query: Pairs = (),
    resource: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A proxy request for ``method path``; a ``?query`` on the path comes before ``query``.

    ``resource`` is the route's pattern (``/items/{id}``); without it the request matched
    a route for exactly its path (REST) or the ``$default`` route (HTTP API).
    """
    gateway: Gateway = "rest" if version == "1.0" else "http"
    split = urlsplit(path)
    raw_path = quote("/" + split.path.lstrip("/"), safe=_PATH_SAFE)
    method = method.upper()
    sent = [(name.lower(), value) for name, value in headers]
    given = {name for name, _ in sent}
    # What any HTTP client sends besides the caller's own headers.
    added = {"host": f"{API_IDS[gateway]}.execute-api.{origin.region}.amazonaws.com", "user-agent": USER_AGENT}
    if body is not None:
        added["content-length"] = str(len(body.encode()))
    request = GatewayRequest(
        method=method,
        raw_path=raw_path,
        query_string="&".join(part for part in (split.query, urlencode(query)) if part),
        headers=(*((k, v) for k, v in added.items() if k not in given), *sent),
        body=body.encode() if body is not None else b"",
        source_ip=SOURCE_IP,
    )
    route = resource or (raw_path if gateway == "rest" else None)
    integration = Integration(
        gateway=gateway,
        payload=version,
        resource=route or "$default",
        route_key=f"{method} {route}" if route else "$default",
        api_id=API_IDS[gateway],
        region=origin.region,
        account_id=origin.account_id,
    )
    return build_event(request, integration, new_request_ids(gateway), _now(now).timestamp())
