"""samples/hello, served by ``emu up`` on its own emu.yaml: the Lambda greets through the Invoke
API (boto3 and the aws CLI), its HTTP API route and its Function URL; the Cloud Function at /hello-gcp."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys

import pytest
import requests

pytestmark = pytest.mark.sample("hello/emu.yaml")
# The aws CLI (v1) that the test extras install beside pytest, else one on PATH.
AWS_CLI = shutil.which("aws", path=os.path.dirname(sys.executable)) or shutil.which("aws")


def test_boto3_invokes_the_lambda_and_gets_its_proxy_response(emu):
    answer = emu.lambda_client().invoke(FunctionName="hello", Payload=json.dumps({"name": "Ada"}), LogType="Tail")
    assert "FunctionError" not in answer
    response = json.loads(answer["Payload"].read())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"message": "Hello, Ada!", "from": "hello"}
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "greeting Ada" in tail and "REPORT RequestId:" in tail


def test_the_api_route_and_the_function_url_answer_with_the_body(emu):
    route = requests.get(emu.url + "/hello", params={"name": "Bo"}, timeout=30)
    assert route.status_code == 200
    assert route.headers["content-type"] == "application/json"
    assert route.json() == {"message": "Hello, Bo!", "from": "hello"}

    url = emu.http("hello").get("/", params={"name": "Cy"})  # a function with url: true is rooted at its URL
    assert url.status_code == 200
    assert url.json()["message"] == "Hello, Cy!"

    triggers = [record["trigger"] for record in emu.wait_for("hello", count=2)]
    assert triggers == ["api", "url"]


def test_the_cloud_function_answers_at_its_name(emu):
    gcp = emu.http("hello-gcp")
    assert gcp.get("/", params={"name": "Di"}).json() == {"message": "Hello, Di!", "path": "/"}
    assert gcp.post("/greet", json={"name": "Ed"}).json() == {"message": "Hello, Ed!", "path": "/greet"}
    assert "greeting Ed" in emu.logs("hello-gcp")


@pytest.mark.skipif(AWS_CLI is None, reason="the aws CLI is not installed")
def test_the_aws_cli_invokes_it_as_the_readme_says(emu, tmp_path):
    out = tmp_path / "out.json"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run(
        [str(AWS_CLI), "lambda", "invoke", "--endpoint-url", emu.url, "--function-name", "hello",
         "--payload", '{"name": "Ada"}', str(out)],  # v1's --payload is the raw JSON
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(json.loads(out.read_text())["body"])["message"] == "Hello, Ada!"
