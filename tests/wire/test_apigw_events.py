"""API Gateway and Function URL wire translation from plain data: events, results, failures."""

from __future__ import annotations

import base64
import json

import pytest

from emulator import errors
from emulator.wire.apigw_events import (
    GatewayRequest,
    GatewayResponse,
    Integration,
    MalformedResult,
    RequestIds,
    build_event,
    failure,
    is_text,
    no_route,
    read_result,
    rejected,
)

IDS = RequestIds(request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef", extended_id="JKJaXmPLvHcESHA=", trace_id="Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e")
NOW = 1583348638.390  # 04/Mar/2020:19:03:58 +0000
REQUEST = GatewayRequest(
    method="GET",
    raw_path="/items/42",
    query_string="a=1&a=2&b=x%20y&empty=",
    headers=(
        ("host", "localhost:3000"),
        ("user-agent", "curl/8.0"),
        ("accept", "text/html"),
        ("accept", "application/json"),
        ("cookie", "c1=v1; c2=v2"),
        ("cookie", "c3=v3"),
    ),
    source_ip="10.0.0.7",
    server_port=3000,
)


def integration(gateway="http", payload="2.0", **overrides) -> Integration:
    values = dict(
        gateway=gateway,
        payload=payload,
        resource="/items/{id}",
        route_key="GET /items/{id}",
        api_id="emuhttpapi",
        region="us-east-1",
        account_id="123456789012",
        path_params={"id": "42"},
    )
    values.update(overrides)
    return Integration(**values)


def event(request=REQUEST, **kwargs):
    return build_event(request, integration(**kwargs), IDS, NOW)


# -- events ---------------------------------------------------------------------------------


def test_rest_event():
    got = event(gateway="rest", payload="1.0", api_id="emurestapi")
    assert "version" not in got
    assert got["resource"] == "/items/{id}" and got["path"] == "/items/42" and got["httpMethod"] == "GET"
    # REST shows header names as clients usually send them; the last value wins in headers.
    assert got["headers"]["User-Agent"] == "curl/8.0"
    assert got["headers"]["Accept"] == "application/json"
    assert got["multiValueHeaders"]["Accept"] == ["text/html", "application/json"]
    assert got["headers"]["Cookie"] == "c3=v3"  # cookies are plain headers in 1.0
    assert got["headers"]["X-Forwarded-For"] == "10.0.0.7"
    assert got["headers"]["X-Forwarded-Port"] == "3000"
    assert got["headers"]["X-Amzn-Trace-Id"] == IDS.trace_id
    assert got["queryStringParameters"] == {"a": "2", "b": "x y", "empty": ""}
    assert got["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x y"], "empty": [""]}
    assert got["pathParameters"] == {"id": "42"}
    assert (got["stageVariables"], got["body"], got["isBase64Encoded"]) == (None, None, False)
    context = got["requestContext"]
    assert context["path"] == "/Prod/items/42" and context["stage"] == "Prod"
    assert context["resourcePath"] == "/items/{id}" and context["httpMethod"] == "GET"
    assert context["requestId"] == IDS.request_id and context["extendedRequestId"] == IDS.extended_id
    assert context["requestTime"] == "04/Mar/2020:19:03:58 +0000"
    assert context["requestTimeEpoch"] == 1583348638390
    assert context["identity"]["sourceIp"] == "10.0.0.7" and context["identity"]["userAgent"] == "curl/8.0"
    assert context["identity"]["cognitoIdentityId"] is None
    assert context["domainName"] == "emurestapi.execute-api.us-east-1.amazonaws.com"
    assert (context["accountId"], context["apiId"], context["protocol"]) == ("123456789012", "emurestapi", "HTTP/1.1")


def test_rest_event_without_query_params_or_body_uses_nulls():
    got = event(GatewayRequest(method="GET", raw_path="/"), gateway="rest", payload="1.0", path_params={})
    assert got["queryStringParameters"] is None and got["multiValueQueryStringParameters"] is None
    assert got["pathParameters"] is None


def test_http_api_payload_1_event():
    got = event(payload="1.0")
    assert got["version"] == "1.0"
    assert got["headers"]["user-agent"] == "curl/8.0"  # HTTP APIs fold names to lower case
    assert got["requestContext"]["path"] == "/items/42" and got["requestContext"]["stage"] == "$default"


def test_http_api_payload_2_event():
    got = event()
    assert (got["version"], got["routeKey"], got["rawPath"]) == ("2.0", "GET /items/{id}", "/items/42")
    assert got["rawQueryString"] == "a=1&a=2&b=x%20y&empty="
    assert got["cookies"] == ["c1=v1", "c2=v2", "c3=v3"]
    assert "cookie" not in got["headers"]
    assert got["headers"]["accept"] == "text/html,application/json"  # duplicates joined with commas
    assert got["queryStringParameters"] == {"a": "1,2", "b": "x y", "empty": ""}
    assert got["pathParameters"] == {"id": "42"}
    assert got["isBase64Encoded"] is False
    assert "body" not in got and "stageVariables" not in got and "multiValueHeaders" not in got
    context = got["requestContext"]
    assert context["http"] == {
        "method": "GET", "path": "/items/42", "protocol": "HTTP/1.1", "sourceIp": "10.0.0.7", "userAgent": "curl/8.0",
    }
    assert (context["routeKey"], context["stage"], context["requestId"]) == ("GET /items/{id}", "$default", IDS.request_id)
    assert (context["time"], context["timeEpoch"]) == ("04/Mar/2020:19:03:58 +0000", 1583348638390)


def test_http_api_payload_2_event_leaves_out_empty_fields():
    got = event(GatewayRequest(method="POST", raw_path="/"), path_params={}, route_key="$default", resource="$default")
    assert not {"cookies", "queryStringParameters", "pathParameters", "body"} & got.keys()
    assert got["rawQueryString"] == "" and got["routeKey"] == "$default"


def test_function_url_event():
    got = event(gateway="url", api_id="a" * 32, route_key="$default", resource="$default")
    assert got["routeKey"] == "$default" and got["requestContext"]["routeKey"] == "$default"
    assert got["requestContext"]["accountId"] == "anonymous"
    assert got["requestContext"]["domainName"] == "a" * 32 + ".lambda-url.us-east-1.on.aws"
    assert "pathParameters" not in got and got["cookies"] == ["c1=v1", "c2=v2", "c3=v3"]


@pytest.mark.parametrize(
    ("content_type", "body", "sent", "is_base64"),
    [
        ("application/json", b'{"a": "\xc3\xa9"}', '{"a": "é"}', False),
        ("text/plain; charset=utf-8", b"hi", "hi", False),
        ("application/vnd.api+json", b"{}", "{}", False),
        ("application/x-www-form-urlencoded", b"a=1", "a=1", False),
        (None, b"plain", "plain", False),
        ("image/png", b"\x89PNG\r\n", base64.b64encode(b"\x89PNG\r\n").decode(), True),
        ("application/octet-stream", b"abc", "YWJj", True),
        ("multipart/form-data; boundary=x", b"--x", "LS14", True),
        ("text/plain", b"\xff\xfe", "//4=", True),  # not UTF-8: it cannot travel as text
        (None, b"\xff", "/w==", True),
    ],
)
def test_bodies_are_text_or_base64(content_type, body, sent, is_base64):
    headers = (("content-type", content_type),) if content_type else ()
    request = GatewayRequest(method="POST", raw_path="/items/42", headers=headers, body=body)
    for version in ({"payload": "2.0"}, {"gateway": "rest", "payload": "1.0"}):
        got = event(request, **version)
        assert (got["body"], got["isBase64Encoded"]) == (sent, is_base64)


def test_is_text():
    assert is_text("TEXT/HTML") and is_text("application/xml") and is_text("application/atom+xml") and is_text(None)
    assert not is_text("image/jpeg") and not is_text("application/pdf")


# -- results: REST (payload 1.0) ------------------------------------------------------------


def rest(result) -> GatewayResponse:
    return read_result("rest", "1.0", json.dumps(result).encode())


def test_rest_result():
    response = rest({
        "statusCode": 201,
        "headers": {"X-One": "1", "Set-Cookie": "a=1", "X-Num": 5, "X-Flag": True},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": "créé",
        "isBase64Encoded": False,
    })
    assert response.status == 201
    assert response.body == "créé".encode()
    # multiValueHeaders first; a pair also in headers is not repeated.
    assert list(response.headers) == [
        ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-One", "1"), ("X-Num", "5"), ("X-Flag", "true"),
        ("content-type", "application/json"),
    ]


def test_rest_result_minimal_and_base64():
    assert rest({"statusCode": 204}) == GatewayResponse(204, (("content-type", "application/json"),), b"")
    response = rest({"statusCode": "200", "headers": {"Content-Type": "image/png"}, "body": "iVBORw==", "isBase64Encoded": True})
    assert (response.status, response.body, response.headers) == (200, b"\x89PNG", (("Content-Type", "image/png"),))


def test_rest_result_drops_lengths_the_gateway_sets():
    response = rest({"statusCode": 200, "headers": {"Content-Length": "999", "Connection": "close"}, "body": "x"})
    assert response.headers == (("content-type", "application/json"),)


@pytest.mark.parametrize(
    ("result", "fragment"),
    [
        ({"body": "no status"}, "must be an object with statusCode"),
        ("a bare string", "must be an object with statusCode"),
        ([1, 2], "must be an object with statusCode"),
        (None, "must be an object with statusCode"),
        ({"statusCode": 200, "cookies": ["a=1"]}, "may not hold cookies"),
        ({"statusCode": 200, "body": "x", "extra": 1, "more": 2}, "may not hold extra, more"),
        ({"statusCode": 99}, "statusCode must be an HTTP status"),
        ({"statusCode": True}, "statusCode must be an HTTP status"),
        ({"statusCode": "OK"}, "statusCode must be an HTTP status"),
        ({"statusCode": 200, "body": {"a": 1}}, "body must be a string"),
        ({"statusCode": 200, "headers": ["a"]}, "headers must be an object"),
        ({"statusCode": 200, "headers": {"a": {"b": 1}}}, "header 'a' must be a string"),
        ({"statusCode": 200, "multiValueHeaders": {"a": "b"}}, "must be a list"),
        ({"statusCode": 200, "headers": {"X-Evil": "a\r\nInjected: 1"}}, "cannot be sent"),
        ({"statusCode": 200, "headers": {"Bad Name": "a"}}, "cannot be sent"),
        ({"statusCode": 200, "body": "***", "isBase64Encoded": True}, "not base64"),
        ({"statusCode": 200, "isBase64Encoded": "yes"}, "isBase64Encoded must be true or false"),
    ],
)
def test_malformed_rest_results(result, fragment):
    with pytest.raises(MalformedResult, match=fragment.replace("(", r"\(")):
        rest(result)


def test_result_that_is_not_json():
    for gateway, payload in (("rest", "1.0"), ("http", "2.0"), ("url", "2.0")):
        with pytest.raises(MalformedResult, match="not JSON"):
            read_result(gateway, payload, b"<html>")


def test_http_api_payload_1_result_needs_status_but_ignores_extra_keys():
    response = read_result("http", "1.0", b'{"statusCode": 200, "body": "ok", "extra": true}')
    assert (response.status, response.body) == (200, b"ok")
    with pytest.raises(MalformedResult):
        read_result("http", "1.0", b'{"body": "ok"}')


# -- results: payload 2.0 (HTTP APIs and Function URLs) -----------------------------------


@pytest.mark.parametrize("gateway", ["http", "url"])
@pytest.mark.parametrize(
    ("raw", "body"),
    [
        (b'"Hello from Lambda!"', b"Hello from Lambda!"),  # a string is the body's text
        (b'{"message": "hi", "n": 1}', b'{"message": "hi", "n": 1}'),  # an object without statusCode, as returned
        (b"42", b"42"),
        (b"[1, 2]", b"[1, 2]"),
        (b"true", b"true"),
        (b"null", b"null"),
    ],
)
def test_v2_infers_a_200_json_response(gateway, raw, body):
    assert read_result(gateway, "2.0", raw) == GatewayResponse(200, (("content-type", "application/json"),), body)


def test_v2_structured_result():
    result = {
        "statusCode": 302,
        "headers": {"Location": "/next", "X-Two": "a,b"},
        "multiValueHeaders": {"X-Ignored": ["by", "http", "apis"]},
        "cookies": ["session=abc; HttpOnly", "theme=dark"],
        "body": "aGk=",
        "isBase64Encoded": True,
        "somethingElse": "ignored",
    }
    response = read_result("http", "2.0", json.dumps(result).encode())
    assert (response.status, response.body) == (302, b"hi")
    assert list(response.headers) == [
        ("Location", "/next"), ("X-Two", "a,b"),
        ("set-cookie", "session=abc; HttpOnly"), ("set-cookie", "theme=dark"),
        ("content-type", "application/json"),
    ]


@pytest.mark.parametrize(
    ("result", "fragment"),
    [
        ({"statusCode": 200, "body": {"a": 1}}, "body must be a string"),
        ({"statusCode": 200, "cookies": "a=1"}, "cookies must be a list of strings"),
        ({"statusCode": 200, "cookies": [1]}, "cookies must be a list of strings"),
        ({"statusCode": 1000}, "statusCode must be an HTTP status"),
    ],
)
def test_malformed_v2_results(result, fragment):
    with pytest.raises(MalformedResult, match=fragment):
        read_result("http", "2.0", json.dumps(result).encode())


# -- failures: one per row ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gateway", "reason", "status", "body", "error_type"),
    [
        ("rest", "function_error", 502, b'{"message": "Internal server error"}', "InternalServerErrorException"),
        ("rest", "malformed", 502, b'{"message": "Internal server error"}', "InternalServerErrorException"),
        ("rest", "rejected", 500, b'{"message": "Internal server error"}', "InternalServerErrorException"),
        ("rest", "too_large", 413, b'{"message":"Request Too Long"}', "RequestTooLongException"),
        ("http", "function_error", 500, b'{"message":"Internal Server Error"}', None),
        ("http", "malformed", 500, b'{"message":"Internal Server Error"}', None),
        ("http", "rejected", 500, b'{"message":"Internal Server Error"}', None),
        ("http", "too_large", 413, b'{"message":"Request Entity Too Large"}', None),
        ("url", "function_error", 502, b"Internal Server Error", None),
        ("url", "malformed", 502, b"Internal Server Error", None),
        ("url", "too_large", 413, b'{"Message":"Request must be smaller than 6291456 bytes"}', None),
    ],
)
def test_failures(gateway, reason, status, body, error_type):
    response = failure(gateway, reason, IDS)
    headers = dict(response.headers)
    assert (response.status, response.body, headers.get("x-amzn-errortype")) == (status, body, error_type)
    if gateway == "http":
        assert headers["apigw-requestid"] == IDS.request_id
    else:
        assert headers["x-amzn-requestid"] == IDS.request_id


def test_no_route_is_missing_authentication_token():
    response = no_route(IDS)
    assert (response.status, response.body) == (403, b'{"message":"Missing Authentication Token"}')
    assert dict(response.headers)["x-amzn-errortype"] == "MissingAuthenticationTokenException"


def test_rejected_invokes():
    throttled = errors.Throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
    assert rejected("rest", throttled, IDS).status == 500
    assert rejected("http", throttled, IDS).status == 500
    # A Function URL is Lambda's own front door: Lambda's API error, as wire.lambda_errors renders it.
    response = rejected("url", throttled, IDS)
    assert response.status == 429
    assert dict(response.headers)["x-amzn-errortype"] == "TooManyRequestsException"
    assert json.loads(response.body)["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert rejected("url", errors.RequestTooLarge(6291456), IDS).status == 413
