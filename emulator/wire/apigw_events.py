"""API Gateway and Lambda Function URLs on the wire, sans I/O: a request into the proxy
event the function gets, and what the function returns into the HTTP response.

Three gateways, each with its own rules, all tables below:

    rest   a REST API (SAM ``Api``): payload 1.0 events; the result must be a dict with
           statusCode and only the keys REST knows, else 502.
    http   an HTTP API (SAM ``HttpApi``): payload 2.0 events (or 1.0 if configured); a
           2.0 result without statusCode, or a bare value, is a 200 JSON body.
    url    a Function URL: 2.0 events with routeKey ``$default``, the 2.0 response rules.

Follows docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
(REST), .../http-api-develop-integrations-lambda.html (HTTP API, both payload formats) and
docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html (Function URLs).

Bodies: emu has no binaryMediaTypes setting, so a request body whose content type is
not text (``TEXT_MEDIA_TYPES``), or that is not UTF-8, reaches the function base64-encoded
with ``isBase64Encoded: true``, as if every binary type were configured; a response
with ``isBase64Encoded: true`` is always decoded. Header names arrive in lower case
(the HTTP server folds them); a REST event shows them in the canonical Title-Case most
clients send, a 2.0 event in lower case as HTTP APIs do.
"""

from __future__ import annotations

import base64
import json
import random
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

from emulator import errors
from emulator.config.model import PayloadVersion
from emulator.wire import lambda_errors

Gateway = Literal["rest", "http", "url"]
Failure = Literal["function_error", "malformed", "rejected", "too_large"]
Headers = tuple[tuple[str, str], ...]

# Stage names the events carry: SAM's implicit REST API is deployed to "Prod"; HTTP APIs
# and Function URLs use "$default".
STAGES: Mapping[Gateway, str] = {"rest": "Prod", "http": "$default", "url": "$default"}
# REST and HTTP APIs take up to 10 MB (API Gateway quotas); Lambda itself, 6 MB.
REQUEST_LIMIT = 10 * 1024 * 1024
# Request bodies of these media types reach the function as text; anything else as base64.
TEXT_MEDIA_TYPES = frozenset({
    "application/json", "application/xml", "application/javascript", "application/x-javascript",
    "application/ecmascript", "application/x-www-form-urlencoded", "application/graphql",
    "application/yaml", "application/x-yaml", "application/x-ndjson", "application/ld+json",
})
# What a REST API result may hold; any other key makes it malformed.
REST_RESULT_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
# Hop-by-hop and length headers the gateway sets itself, whatever the function said.
_GATEWAY_OWNED = frozenset({"content-length", "transfer-encoding", "connection"})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_REST_ERROR = b'{"message": "Internal server error"}'
_HTTP_ERROR = b'{"message":"Internal Server Error"}'
_JSON = "application/json"
# (status, content type, body, x-amzn-ErrorType) per gateway and failure.
#   rest: Lambda docs, services-apigateway-errors.html: a function error or a malformed
#         result is 502, an invoke Lambda refuses (throttled, too large) is 500.
#   http: HTTP APIs answer 500 {"message":"Internal Server Error"} to all three
#         (http-api-troubleshooting-lambda.html; aws/aws-sam-cli#2590 shows the status).
#   url:  a function error or malformed result is 502; Lambda's own refusals are its API
#         errors (429 TooManyRequestsException...), rendered by wire.lambda_errors.
_FAILURES: Mapping[Gateway, Mapping[Failure, tuple[int, str, bytes, str | None]]] = {
    "rest": {
        "function_error": (502, _JSON, _REST_ERROR, "InternalServerErrorException"),
        "malformed": (502, _JSON, _REST_ERROR, "InternalServerErrorException"),
        "rejected": (500, _JSON, _REST_ERROR, "InternalServerErrorException"),
        "too_large": (413, _JSON, b'{"message":"Request Too Long"}', "RequestTooLongException"),
    },
    "http": {
        "function_error": (500, _JSON, _HTTP_ERROR, None),
        "malformed": (500, _JSON, _HTTP_ERROR, None),
        "rejected": (500, _JSON, _HTTP_ERROR, None),
        "too_large": (413, _JSON, b'{"message":"Request Entity Too Large"}', None),
    },
    "url": {
        "function_error": (502, "text/plain", b"Internal Server Error", None),
        "malformed": (502, "text/plain", b"Internal Server Error", None),
        "too_large": (413, _JSON, b'{"Message":"Request must be smaller than 6291456 bytes"}', None),
    },
}
# No route, on any gateway: what a REST API answers to a path or method it does not have.
NO_ROUTE = (403, _JSON, b'{"message":"Missing Authentication Token"}', "MissingAuthenticationTokenException")


class MalformedResult(Exception):
    """The function's result is not one the gateway can turn into a response."""


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """An HTTP request as the gateway received it."""

    method: str
    raw_path: str  # as the client encoded it, without the query string
    query_string: str = ""  # raw, without '?'
    headers: Headers = ()  # names in lower case, in arrival order
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    server_port: int = 443
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (lower case)."""
        found = None
        for key, value in self.headers:
            if key == name:
                found = value
        return found


@dataclass(frozen=True, slots=True)
class Integration:
    """What the matched route says about the event to build."""

    gateway: Gateway
    payload: PayloadVersion
    resource: str  # the route's pattern, "/items/{id}"; "$default" for a catch-all or a Function URL
    route_key: str  # "GET /items/{id}", or "$default"
    api_id: str
    region: str
    account_id: str
    path_params: Mapping[str, str] = field(default_factory=dict)

    @property
    def domain_name(self) -> str:
        if self.gateway == "url":
            return f"{self.api_id}.lambda-url.{self.region}.on.aws"
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


@dataclass(frozen=True, slots=True)
class GatewayResponse:
    status: int
    headers: Headers
    body: bytes


@dataclass(frozen=True, slots=True)
class RequestIds:
    """The gateway's ids for one request (not the Lambda request id, which is the function's)."""

    request_id: str
    extended_id: str
    trace_id: str


_random = random.Random()


def new_request_ids(gateway: Gateway) -> RequestIds:
    """Fresh ids in the shape each gateway uses: an HTTP API's request id is short base64."""
    short = base64.b64encode(_random.getrandbits(80).to_bytes(10, "big")).decode()[:15] + "="
    request_id = short if gateway == "http" else str(uuid.UUID(int=_random.getrandbits(128), version=4))
    trace = f"Root=1-{int(time.time()):08x}-{_random.getrandbits(96):024x}"
    return RequestIds(request_id=request_id, extended_id=short, trace_id=trace)


# -- request -> event ----------------------------------------------------------------------


def build_event(request: GatewayRequest, integration: Integration, ids: RequestIds, now: float) -> dict[str, Any]:
    """The proxy event for ``request``; ``now`` is the wall clock in seconds."""
    if integration.payload == "1.0":
        return _v1_event(request, integration, ids, now)
    return _v2_event(request, integration, ids, now)


def _v1_event(request: GatewayRequest, integration: Integration, ids: RequestIds, now: float) -> dict[str, Any]:
    rest = integration.gateway == "rest"
    stage = STAGES[integration.gateway]
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in _forwarded(request, ids):
        name = _title(name) if rest else name
        single[name] = value  # the last value wins, as on API Gateway
        multi.setdefault(name, []).append(value)
    query = parse_qsl(request.query_string, keep_blank_values=True)
    query_multi: dict[str, list[str]] = {}
    for key, value in query:
        query_multi.setdefault(key, []).append(value)
    body, is_base64 = _body(request)
    context: dict[str, Any] = {
        "accountId": integration.account_id,
        "apiId": integration.api_id,
        "domainName": integration.domain_name,
        "domainPrefix": integration.api_id,
        "extendedRequestId": ids.extended_id,
        "httpMethod": request.method,
        "identity": _identity(request),
        "path": f"/{stage}{request.raw_path}" if rest else request.raw_path,
        "protocol": request.protocol,
        "requestId": ids.request_id,
        "requestTime": _clf_time(now),
        "requestTimeEpoch": int(now * 1000),
        "resourceId": ids.extended_id[:6].lower(),
        "resourcePath": integration.resource,
        "stage": stage,
    }
    event: dict[str, Any] = {} if rest else {"version": "1.0"}
    event.update({
        "resource": integration.resource,
        "path": request.raw_path,
        "httpMethod": request.method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": {key: values[-1] for key, values in query_multi.items()} or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": dict(integration.path_params) or None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64,
    })
    return event


def _v2_event(request: GatewayRequest, integration: Integration, ids: RequestIds, now: float) -> dict[str, Any]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in _forwarded(request, ids):
        if name == "cookie":
            cookies += [cookie.strip() for cookie in value.split(";") if cookie.strip()]
        else:
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query_string, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    body, is_base64 = _body(request)
    is_url = integration.gateway == "url"
    context: dict[str, Any] = {
        "accountId": "anonymous" if is_url else integration.account_id,
        "apiId": integration.api_id,
        "domainName": integration.domain_name,
        "domainPrefix": integration.api_id,
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": ids.request_id,
        "routeKey": integration.route_key,
        "stage": STAGES[integration.gateway],
        "time": _clf_time(now),
        "timeEpoch": int(now * 1000),
    }
    # Empty fields are left out of a 2.0 event rather than set to null.
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": integration.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.query_string,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = context
    if body is not None:
        event["body"] = body
    if integration.path_params and not is_url:
        event["pathParameters"] = dict(integration.path_params)
    event["isBase64Encoded"] = is_base64
    return event


def _forwarded(request: GatewayRequest, ids: RequestIds) -> Headers:
    """The request's headers plus the ones the gateway adds on its way to the function."""
    added = {
        "x-forwarded-for": request.source_ip,
        "x-forwarded-port": str(request.server_port),
        "x-forwarded-proto": "http",
        "x-amzn-trace-id": ids.trace_id,
    }
    kept = tuple((name, value) for name, value in request.headers if name not in added)
    return kept + tuple(added.items())


def _body(request: GatewayRequest) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if is_text(request.header("content-type")):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode("ascii"), True


def is_text(content_type: str | None) -> bool:
    """Whether a body of ``content_type`` is passed as text; no content type counts as text."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media.startswith("text/") or media in TEXT_MEDIA_TYPES or media.endswith("+json") or media.endswith("+xml")
    )


def _identity(request: GatewayRequest) -> dict[str, Any]:
    identity: dict[str, Any] = dict.fromkeys((
        "accessKey", "accountId", "caller", "cognitoAuthenticationProvider", "cognitoAuthenticationType",
        "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId", "user", "userArn",
    ))
    identity["sourceIp"] = request.source_ip
    identity["userAgent"] = request.header("user-agent")
    return identity


def _title(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _clf_time(now: float) -> str:
    """``12/Mar/2020:19:03:58 +0000``, in English whatever the locale."""
    t = time.gmtime(now)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


# -- result -> response --------------------------------------------------------------------


def read_result(gateway: Gateway, payload: PayloadVersion, result: bytes) -> GatewayResponse:
    """The HTTP response for what the function returned; ``MalformedResult`` when there is none."""
    try:
        output = json.loads(result)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedResult(f"the result is not JSON: {exc}") from None
    if payload == "1.0":
        return _v1_result(gateway, output)
    if isinstance(output, dict) and "statusCode" in output:
        return _structured(output, output.get("headers"), None, output.get("cookies"))
    # 2.0 infers the rest: a 200 whose JSON body is the result itself (a string as its text).
    body = output.encode("utf-8") if isinstance(output, str) else result
    return GatewayResponse(200, (("content-type", _JSON),), body)


def _v1_result(gateway: Gateway, output: Any) -> GatewayResponse:
    if not isinstance(output, dict) or "statusCode" not in output:
        raise MalformedResult("a payload 1.0 result must be an object with statusCode")
    if gateway == "rest" and not output.keys() <= REST_RESULT_KEYS:
        extra = ", ".join(sorted(output.keys() - REST_RESULT_KEYS))
        raise MalformedResult(f"a REST API result may not hold {extra}")
    return _structured(output, output.get("headers"), output.get("multiValueHeaders"), None)


def _structured(output: dict[str, Any], headers: Any, multi: Any, cookies: Any) -> GatewayResponse:
    status = _status(output["statusCode"])
    pairs = _merge_headers(_header_map(headers, list_values=False), _header_map(multi, list_values=True))
    if cookies is not None:
        if not isinstance(cookies, list) or not all(isinstance(cookie, str) for cookie in cookies):
            raise MalformedResult("cookies must be a list of strings")
        pairs += [("set-cookie", cookie) for cookie in cookies]
    pairs = [(name, value) for name, value in pairs if name.lower() not in _GATEWAY_OWNED]
    if not any(name.lower() == "content-type" for name, _ in pairs):
        pairs.append(("content-type", _JSON))
    for name, value in pairs:
        if not _TOKEN.fullmatch(name) or "\r" in value or "\n" in value or not _latin1(value):
            raise MalformedResult(f"header {name!r} cannot be sent")
    return GatewayResponse(status, tuple(pairs), _response_body(output.get("body"), output.get("isBase64Encoded")))


def _status(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 100 <= value <= 599:
        raise MalformedResult(f"statusCode must be an HTTP status, got {value!r}")
    return value


def _header_map(value: Any, list_values: bool) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedResult("headers must be an object")
    found: dict[str, list[str]] = {}
    for name, raw in value.items():
        values = raw if list_values else [raw]
        if not isinstance(values, list):
            raise MalformedResult(f"multiValueHeaders[{name!r}] must be a list")
        found[name] = [_header_text(name, item) for item in values]
    return found


def _header_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MalformedResult(f"header {name!r} must be a string, got {type(value).__name__}")


def _merge_headers(single: dict[str, list[str]], multi: dict[str, list[str]]) -> list[tuple[str, str]]:
    # multiValueHeaders first; a headers value already listed there is not repeated (REST docs).
    pairs = [(name, value) for name, values in multi.items() for value in values]
    for name, (value,) in single.items():
        if value not in multi.get(name, []):
            pairs.append((name, value))
    return pairs


def _response_body(body: Any, is_base64: Any) -> bytes:
    if isinstance(is_base64, str) and is_base64.lower() in ("true", "false"):
        is_base64 = is_base64.lower() == "true"
    if is_base64 is not None and not isinstance(is_base64, bool):
        raise MalformedResult("isBase64Encoded must be true or false")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResult(f"body must be a string, got {type(body).__name__}")
    if not is_base64:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except ValueError:
        raise MalformedResult("isBase64Encoded is true but body is not base64") from None


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


# -- failures -------------------------------------------------------------------------------


def failure(gateway: Gateway, reason: Failure, ids: RequestIds) -> GatewayResponse:
    """The gateway's own answer when the function gave none it can use."""
    status, content_type, body, error_type = _FAILURES[gateway][reason]
    return _error(gateway, status, content_type, body, error_type, ids)


def rejected(gateway: Gateway, exc: errors.InvokeError, ids: RequestIds) -> GatewayResponse:
    """Lambda refused the invoke (throttled, too large). A Function URL is Lambda's own
    front door and says so in Lambda's words; API Gateway hides it behind a 500."""
    if gateway == "url":
        status, headers, body = lambda_errors.api_error(exc, ids.request_id)
        return GatewayResponse(status, tuple((k.decode(), v.decode()) for k, v in headers), body)
    return failure(gateway, "rejected", ids)


def no_route(ids: RequestIds) -> GatewayResponse:
    return _error("rest", *NO_ROUTE, ids)


def _error(
    gateway: Gateway, status: int, content_type: str, body: bytes, error_type: str | None, ids: RequestIds
) -> GatewayResponse:
    headers = [("content-type", content_type), *response_ids(gateway, ids)]
    if error_type:
        headers.append(("x-amzn-errortype", error_type))
    return GatewayResponse(status, tuple(headers), body)


def response_ids(gateway: Gateway, ids: RequestIds) -> Headers:
    """The id headers each gateway puts on every response."""
    if gateway == "http":
        return (("apigw-requestid", ids.request_id),)
    if gateway == "rest":
        return (("x-amzn-requestid", ids.request_id), ("x-amz-apigw-id", ids.extended_id))
    return (("x-amzn-requestid", ids.request_id),)
