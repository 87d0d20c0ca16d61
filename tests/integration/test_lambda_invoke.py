"""The Invoke API through boto3, the aws CLI and raw HTTP, against a real ``emu up``."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

CONFIG = """
functions:
  hello:
    runtime: python3.11
    handler: app.handler
    code: ./hello
    environment: {GREETING: hi}
  raises:
    runtime: python3.11
    handler: app.handler
    code: ./raises
  custom:
    runtime: provided.al2023
    handler: ignored.handler
    code: ./custom
"""
FUNCTIONS = {"hello": "hello", "raises": "raises", "custom": "provided"}


@pytest.fixture
def emu(emu_server):
    return emu_server(CONFIG, FUNCTIONS)


def invoke(client, name, payload, **kwargs):
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload), **kwargs)
    body = response["Payload"].read()
    return response, json.loads(body) if body else None


def test_cold_then_warm_reports_init_duration_once(emu):
    client = emu.lambda_client()
    first, body1 = invoke(client, "hello", {"n": 1}, LogType="Tail")
    second, body2 = invoke(client, "hello", {"n": 2}, LogType="Tail")

    assert first["StatusCode"] == 200 and "FunctionError" not in first
    assert body1["event"] == {"n": 1} and body2["event"] == {"n": 2}
    assert body1["pid"] == body2["pid"]  # the same environment, reused warm
    assert body1["cold_at"] == body2["cold_at"]
    assert first["ExecutedVersion"] == "$LATEST"

    log1 = base64.b64decode(first["LogResult"]).decode()
    log2 = base64.b64decode(second["LogResult"]).decode()
    rid = first["ResponseMetadata"]["RequestId"]
    assert body1["request_id"] == rid
    assert log1.startswith(f"START RequestId: {rid} Version: $LATEST\n")
    assert "hello from hello" in log1
    assert f"END RequestId: {rid}" in log1
    assert "Init Duration: " in log1 and "Init Duration" not in log2
    report = [line for line in log2.splitlines() if line.startswith("REPORT")][0]
    fields = report.split("\t")
    assert fields[0] == f"REPORT RequestId: {body2['request_id']}"
    assert fields[1].startswith("Duration: ") and fields[1].endswith(" ms")
    assert fields[2].startswith("Billed Duration: ")
    assert fields[3] == "Memory Size: 128 MB"
    assert fields[4].startswith("Max Memory Used: ")
    assert 5 < int(fields[4].split()[3]) < 128


def test_context_and_deadline_reach_the_handler(emu):
    client = emu.lambda_client()
    context = base64.b64encode(json.dumps({"custom": {"user": "ada"}, "env": {}, "client": {}}).encode()).decode()
    _, body = invoke(client, "hello", {}, ClientContext=context)
    assert body["client_context"] == {"user": "ada"}
    assert 0 < body["remaining_ms"] <= 3000
    assert body["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:hello"


def test_handler_exception_is_200_with_function_error(emu):
    client = emu.lambda_client()
    response, body = invoke(client, "raises", {}, LogType="Tail")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "OrderError"
    assert body["errorMessage"] == "order 42 is broken"
    assert any("raise OrderError" in line for line in body["stackTrace"])
    log = base64.b64decode(response["LogResult"]).decode()
    assert "about to fail" in log
    # The environment survives a handled exception and serves the next invocation.
    response, body = invoke(client, "raises", {"ok": True})
    assert "FunctionError" not in response and body == "fine"


def test_invocation_types(emu):
    client = emu.lambda_client()
    dry = client.invoke(FunctionName="hello", InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204
    event = client.invoke(FunctionName="hello", InvocationType="Event", Payload=b'{"async": true}')
    assert event["StatusCode"] == 202
    emu.wait_for_log("END RequestId: " + event["ResponseMetadata"]["RequestId"])


@pytest.mark.parametrize(
    "name",
    [
        "hello",
        "hello:$LATEST",
        "hello:live",
        "arn:aws:lambda:us-east-1:123456789012:function:hello",
        "arn:aws:lambda:us-east-1:123456789012:function:hello:$LATEST",
        "123456789012:function:hello",
    ],
)
def test_function_name_forms(emu, name):
    response, body = invoke(emu.lambda_client(), name, {"via": name})
    assert response["StatusCode"] == 200 and body["event"] == {"via": name}


def test_qualifier_parameter_and_url_encoded_path(emu):
    client = emu.lambda_client()
    response, body = invoke(client, "hello", {}, Qualifier="prod")
    assert response["StatusCode"] == 200 and body["arn"].endswith(":function:hello:prod")
    raw = requests.post(emu.url + "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ahello/invocations", data=b"{}")
    assert raw.status_code == 200 and raw.json()["event"] == {}
    mismatch = requests.post(emu.url + "/2015-03-31/functions/hello:a/invocations?Qualifier=b", data=b"{}")
    assert mismatch.status_code == 400
    assert mismatch.headers["x-amzn-ErrorType"] == "InvalidParameterValueException"


def test_empty_body_is_an_empty_object(emu):
    response = requests.post(emu.url + "/2015-03-31/functions/hello/invocations")
    assert response.status_code == 200 and response.json()["event"] == {}
    response = requests.post(emu.url + "/2015-03-31/functions/hello/invocations", data=b'"just a string"', headers={"Content-Type": "text/plain"})
    assert response.json()["event"] == "just a string"


def test_api_errors_are_modelled_for_boto3(emu):
    client = emu.lambda_client()
    with pytest.raises(client.exceptions.ResourceNotFoundException) as info:
        client.invoke(FunctionName="nope", Payload=b"{}")
    assert "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope" in str(info.value)

    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="hello", Payload=b"{not json")

    with pytest.raises(client.exceptions.RequestTooLargeException):
        client.invoke(FunctionName="hello", Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    with pytest.raises(client.exceptions.RequestTooLargeException):
        client.invoke(FunctionName="hello", InvocationType="Event", Payload=b'"' + b"x" * (1024 * 1024) + b'"')

    # Raw HTTP sees the same modelled shape.
    raw = requests.post(emu.url + "/2015-03-31/functions/nope/invocations", data=b"{}")
    assert raw.status_code == 404
    assert raw.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert raw.json() == {"Type": "User", "Message": "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"}
    # And the router is still fine afterwards.
    assert invoke(client, "hello", {})[0]["StatusCode"] == 200


def test_list_and_get_function(emu):
    client = emu.lambda_client()
    names = sorted(f["FunctionName"] for f in client.list_functions()["Functions"])
    assert names == ["custom", "hello", "raises"]
    config = client.get_function(FunctionName="hello")["Configuration"]
    assert config["Runtime"] == "python3.11" and config["Handler"] == "app.handler"
    assert config["Environment"]["Variables"] == {"GREETING": "hi"}
    assert client.get_function_configuration(FunctionName="hello")["MemorySize"] == 128
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="nope")


def test_provided_runtime_bootstrap(emu):
    client = emu.lambda_client()
    response, body = invoke(client, "custom", {"x": 1}, LogType="Tail")
    assert body["custom"] is True and body["event"] == {"x": 1}
    assert body["arn"].endswith(":function:custom") and int(body["deadline"]) > 0
    log = base64.b64decode(response["LogResult"]).decode()
    assert "bootstrap handling" in log and "Init Duration" in log
    response, body = invoke(client, "custom", {"fail": True})
    assert response["FunctionError"] == "Unhandled"
    assert body == {"errorType": "CustomError", "errorMessage": "asked to fail"}


def test_aws_cli_invoke(emu, tmp_path: Path):
    out = tmp_path / "out.json"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    aws = [sys.executable, "-m", "awscli"]
    result = subprocess.run(
        [*aws, "lambda", "invoke", "--endpoint-url", emu.url, "--function-name", "hello",
         "--payload", '{"from": "cli"}', "--log-type", "Tail", str(out)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    meta = json.loads(result.stdout)
    assert meta["StatusCode"] == 200 and meta["ExecutedVersion"] == "$LATEST"
    assert "START RequestId" in base64.b64decode(meta["LogResult"]).decode()
    assert json.loads(out.read_text())["event"] == {"from": "cli"}

    result = subprocess.run([*aws, "lambda", "list-functions", "--endpoint-url", emu.url], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert {"custom", "hello", "raises"} == {f["FunctionName"] for f in json.loads(result.stdout)["Functions"]}
