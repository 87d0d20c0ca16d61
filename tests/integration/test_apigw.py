"""API Gateway routes and Function URLs through a real ``emu up``, driven with ``requests`` and http.client."""

from __future__ import annotations

import base64
import http.client
import json
import os
from typing import Callable

import pytest
import requests

from conftest import EmuProcess

CONFIG = """
functions:
  echo:
    runtime: python3.11
    handler: app.handler
    code: ./echo
    url: true
    events:
      - api: GET /items/{id}
      - api: {path: "/files/{path+}", method: ANY}
      - api: {path: "/rest/{proxy+}", payload: "1.0"}
  returns:
    runtime: python3.11
    handler: app.handler
    code: ./returns
    events:
      - api: POST /returns
      - api: {path: /rest-returns, method: POST, payload: "1.0"}
  binary:
    runtime: python3.11
    handler: app.handler
    code: ./binary
    events:
      - api: POST /binary
      - api: {path: /rest-binary, method: POST, payload: "1.0"}
  raises:
    runtime: python3.11
    handler: app.handler
    code: ./raises
    url: true
    events:
      - api: /boom
      - api: {path: /rest-boom, payload: "1.0"}
  closed:
    runtime: python3.11
    handler: app.handler
    code: ./echo
    reserved_concurrency: 0
    url: true
    events:
      - api: {path: /off, payload: "1.0"}
      - api: /off-http
"""
FUNCTIONS = {"echo": "apigw_echo", "returns": "apigw_returns", "binary": "apigw_binary", "raises": "raises"}
MISSING_TOKEN = {"message": "Missing Authentication Token"}


@pytest.fixture(scope="module")
def emu(emu_module_server: Callable[..., EmuProcess]) -> EmuProcess:
    return emu_module_server(CONFIG, FUNCTIONS)


def get(emu: EmuProcess, path: str, **kwargs) -> requests.Response:
    return requests.get(emu.url + path, timeout=30, **kwargs)


def post(emu: EmuProcess, path: str, **kwargs) -> requests.Response:
    return requests.post(emu.url + path, timeout=30, **kwargs)


def raw_request(emu: EmuProcess, method: str, path: str, headers: list[tuple[str, str]]) -> tuple[int, dict, bytes]:
    """A request with repeated headers, which ``requests`` would fold into one."""
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=30)
    try:
        connection.putrequest(method, path)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


# -- HTTP API routes (payload 2.0) ----------------------------------------------------------


def test_path_parameters_query_and_cookies(emu):
    response = get(emu, "/items/42?a=1&a=2&b=x%20y", headers={"Cookie": "c1=v1; c2=v2", "X-Custom": "yes"})
    assert response.status_code == 201, response.text + emu.log()
    assert response.headers["x-echo"] == "yes"
    assert response.raw.headers.getlist("set-cookie") == ["session=abc; Path=/", "theme=dark"]
    assert response.headers["apigw-requestid"]
    event = response.json()
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "GET /items/{id}", "/items/42")
    assert event["pathParameters"] == {"id": "42"}
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["x-custom"] == "yes" and "cookie" not in event["headers"]
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["requestId"] == response.headers["apigw-requestid"]


def test_repeated_headers_join_with_commas(emu):
    status, _, body = raw_request(emu, "GET", "/items/1", [("X-Dup", "one"), ("X-Dup", "two")])
    assert status == 201
    assert json.loads(body)["headers"]["x-dup"] == "one,two"


def test_greedy_proxy_takes_the_rest_of_the_path(emu):
    response = requests.put(emu.url + "/files/docs/2024/report%20final.txt", data=b"x", timeout=30)
    assert response.status_code == 201
    event = response.json()
    assert event["routeKey"] == "ANY /files/{path+}"
    assert event["pathParameters"] == {"path": "docs/2024/report final.txt"}
    assert event["rawPath"] == "/files/docs/2024/report%20final.txt"


def test_bare_values_are_200_json_bodies(emu):
    for result, body in (("hello", b"hello"), (42, b"42"), ({"a": 1}, None), ([1, 2], None)):
        response = post(emu, "/returns", json=result)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        if body is None:
            assert response.json() == result
        else:
            assert response.content == body


def test_structured_v2_result(emu):
    result = {"statusCode": 418, "headers": {"X-Tea": "earl grey"}, "cookies": ["a=1", "b=2"], "body": "short and stout"}
    response = post(emu, "/returns", json=result)
    assert (response.status_code, response.text) == (418, "short and stout")
    assert response.headers["x-tea"] == "earl grey"
    assert response.raw.headers.getlist("set-cookie") == ["a=1", "b=2"]


def test_binary_bodies_round_trip(emu):
    data = os.urandom(2048) + b"\x00\xff"
    for path in ("/binary", "/rest-binary"):
        response = post(emu, path, data=data, headers={"Content-Type": "image/png"})
        assert response.status_code == 200, response.text
        assert response.headers["x-was-base64"] == "true"
        assert response.headers["content-type"] == "image/png"
        assert response.content == data[::-1]


def test_text_bodies_arrive_as_text(emu):
    response = post(emu, "/binary", data="héllo".encode(), headers={"Content-Type": "text/plain; charset=utf-8"})
    assert response.headers["x-was-base64"] == "false"
    assert response.content == "héllo".encode()[::-1]


def test_function_error_on_an_http_api(emu):
    response = get(emu, "/boom")
    assert (response.status_code, response.json()) == (500, {"message": "Internal Server Error"})


# -- REST API routes (payload 1.0) ----------------------------------------------------------


def test_rest_event_with_multi_value_headers_and_query(emu):
    status, headers, body = raw_request(
        emu, "GET", "/rest/a/b?tag=x&tag=y&one=1", [("Accept", "text/html"), ("Accept", "application/json")]
    )
    assert status == 201
    assert headers.get_all("x-multi") == ["a", "b"]
    event = json.loads(body)
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/rest/{proxy+}", "/rest/a/b", "GET")
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["queryStringParameters"] == {"tag": "y", "one": "1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["x", "y"], "one": ["1"]}
    assert event["headers"]["Accept"] == "application/json"
    assert event["multiValueHeaders"]["Accept"] == ["text/html", "application/json"]
    assert event["requestContext"]["stage"] == "Prod" and event["requestContext"]["path"] == "/Prod/rest/a/b"


def test_rest_result_must_be_a_proxy_response(emu):
    good = post(emu, "/rest-returns", json={"statusCode": 202, "headers": {"X-A": "1"}, "body": "ok"})
    assert (good.status_code, good.text, good.headers["x-a"]) == (202, "ok", "1")
    for result in ({"body": "no status"}, {"statusCode": 200, "body": "x", "extra": 1}, "bare", {"statusCode": 200, "body": {"a": 1}}):
        response = post(emu, "/rest-returns", json=result)
        assert (response.status_code, response.json()) == (502, {"message": "Internal server error"}), result
        assert response.headers["x-amzn-errortype"] == "InternalServerErrorException"
    emu.wait_for_log("malformed Lambda proxy response")


def test_function_error_on_a_rest_api(emu):
    response = get(emu, "/rest-boom")
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})


# -- no route ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nothing/here"), ("POST", "/items/1"), ("GET", "/"), ("GET", "/files/"), ("GET", "/lambda-url/returns/")],
)
def test_no_route_is_missing_authentication_token(emu, method, path):
    response = requests.request(method, emu.url + path, timeout=30)
    assert (response.status_code, response.json()) == (403, MISSING_TOKEN)
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


def test_other_surfaces_keep_their_paths(emu):
    assert get(emu, "/_emu/health").status_code == 200
    invoked = post(emu, "/2015-03-31/functions/returns/invocations", json={"body": '"direct"'})
    assert (invoked.status_code, invoked.json()) == (200, "direct")


# -- Function URLs ------------------------------------------------------------------------------


def test_function_url(emu):
    response = post(emu, "/lambda-url/echo/some/path?q=1&q=2", data=b'{"x": 1}', headers={"Content-Type": "application/json"})
    assert response.status_code == 201
    event = response.json()
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "$default", "/some/path")
    assert event["queryStringParameters"] == {"q": "1,2"}
    assert (event["body"], event["isBase64Encoded"]) == ('{"x": 1}', False)
    context = event["requestContext"]
    assert context["accountId"] == "anonymous" and context["domainName"].endswith(".lambda-url.us-east-1.on.aws")
    assert context["requestId"] == response.headers["x-amzn-requestid"]
    assert "pathParameters" not in event
    root = get(emu, "/lambda-url/echo")
    assert root.status_code == 201 and root.json()["rawPath"] == "/"


def test_function_url_error(emu):
    response = get(emu, "/lambda-url/raises/")
    assert (response.status_code, response.text) == (502, "Internal Server Error")


# -- throttling -----------------------------------------------------------------------------


def test_throttled_function(emu):
    rest = get(emu, "/off")
    assert (rest.status_code, rest.json()) == (500, {"message": "Internal server error"})
    http_api = get(emu, "/off-http")
    assert (http_api.status_code, http_api.json()) == (500, {"message": "Internal Server Error"})
    url = get(emu, "/lambda-url/closed/")
    assert url.status_code == 429
    assert url.headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert url.json()["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert emu.environments("closed") == []


def test_encoded_bodies_in_events_decode_back(emu):
    # What the handler saw is what was sent, byte for byte, in the event's base64.
    data = bytes(range(256))
    response = post(emu, "/lambda-url/echo/", data=data, headers={"Content-Type": "application/octet-stream"})
    event = response.json()
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data
