"""The ``emu up`` command: refusing bad config, stopping cleanly, a busy port, SAM templates."""

from __future__ import annotations

import json
import signal
import socket
import threading

import pytest

HELLO = """
functions:
  hello:
    runtime: python3.11
    handler: app.handler
    code: ./hello
"""

# -- bad config: one line naming the file, the function and the key, no traceback -------

BAD_CONFIGS = [
    pytest.param(
        "emu.yaml",
        """
        functions:
          hello: {runtime: python3.11, handler: app.handler, code: ./hello, memroy: 128}
        """,
        ["emu.yaml: function 'hello': 'memroy': unknown key (did you mean 'memory'?)"],
        id="unknown_key",
    ),
    pytest.param(
        "emu.yaml",
        """
        functions:
          hello: {runtime: python3.11, handler: app.handler, code: ./hello, memory: lots}
        """,
        ["emu.yaml: function 'hello': 'memory': must be an integer, got string 'lots'"],
        id="wrong_type",
    ),
    pytest.param(
        "emu.yaml",
        """
        functions:
          hello: {runtime: python3.11, handler: app.handler, code: ./hello, timeout: 901}
        """,
        ["emu.yaml: function 'hello': 'timeout': must be between 1 and 900, got 901"],
        id="out_of_range",
    ),
    pytest.param(
        "emu.yaml",
        """
        settings: {idle_ttl: -1}
        functions:
          hello: {runtime: python3.11, handler: app.handler, code: ./hello}
        """,
        ["emu.yaml: 'settings.idle_ttl': must be >= 0, got -1"],
        id="settings_out_of_range",
    ),
    pytest.param(
        "emu.yaml",
        """
        functions:
          hello: {runtime: python3.11, handler: app.handler, code: ./nowhere}
        """,
        ["emu.yaml: function 'hello': 'code': code directory ", "nowhere' does not exist"],
        id="missing_code_dir",
    ),
    pytest.param(
        "emu.yaml",
        """
        functions:
          hello: {runtime: python3.11, handler: app.handler, code: ./hello}
          hello: {runtime: python3.11, handler: app.handler, code: ./hello}
        """,
        ["emu.yaml: line 4, column 3: duplicate key 'hello' (first defined on line 3)"],
        id="duplicate_name",
    ),
    pytest.param(
        "emu.yaml",
        """
        functions:
          hello: {runtime: python3.11, handler: app.handler, code: ./hello
        """,
        ["emu.yaml: line ", "expected ',' or '}'"],
        id="yaml_syntax",
    ),
    pytest.param(
        "emu.yaml",
        """
        functions:
          hello: {provider: gcp, runtime: python311, handler: app.handler, code: ./hello}
        """,
        ["emu.yaml: function 'hello': 'handler': is an AWS-only key", "the GCP key is entry_point"],
        id="aws_key_on_gcp_function",
    ),
    pytest.param(
        "template.yaml",
        """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          HelloFunction:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: hello/, Handler: app.handler, Runtime: python3.11, MemorySize: 64}
        """,
        ["template.yaml: function 'HelloFunction': 'MemorySize': must be between 128 and 10240, got 64"],
        id="sam_out_of_range",
    ),
]


@pytest.mark.parametrize("config_name, config, expected", BAD_CONFIGS)
def test_bad_config_is_one_clear_line(emu_server, config_name, config, expected):
    emu = emu_server(config, {"hello": "hello"}, ready=False, config_name=config_name)
    assert emu.proc.wait(timeout=30) != 0
    output = emu.log()
    assert "Traceback" not in output
    [line] = output.strip().splitlines()
    assert line.startswith("emu: ")
    for fragment in expected:
        assert fragment in line


def test_port_in_use_is_one_line(emu_server):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # The last --port wins, so this one replaces the fixture's free port.
        emu = emu_server(HELLO, {"hello": "hello"}, args=["--port", str(port)], ready=False)
        assert emu.proc.wait(timeout=30) != 0
    output = emu.log()
    assert "Traceback" not in output
    assert output.strip().splitlines() == [f"emu: port {port} on 127.0.0.1 is already in use"]


# -- stopping ------------------------------------------------------------------------------

WORKERS = """
functions:
  warm:
    runtime: python3.11
    handler: app.handler
    code: ./hello
    provisioned_concurrency: 1
  idle:
    runtime: python3.11
    handler: app.handler
    code: ./hello
  busy:
    runtime: python3.11
    handler: app.handler
    code: ./slow
    timeout: 60
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_emu_and_every_worker(emu_server, sig):
    emu = emu_server(WORKERS, {"hello": "hello", "slow": "slow"})
    client = emu.lambda_client()
    emu.wait_for_environments("warm", lambda envs: [env["state"] for env in envs] == ["idle"])
    client.invoke(FunctionName="idle", Payload=b"{}")
    in_flight: dict = {}
    caller = threading.Thread(target=lambda: in_flight.update(client.invoke(FunctionName="busy", Payload=b'{"sleep": 60}')))
    caller.start()
    emu.wait_for_environments("busy", lambda envs: [env["state"] for env in envs] == ["busy"])
    pids = [env["pid"] for function in emu.functions().values() for env in function["environments"]]
    assert len(pids) == 3

    assert emu.stop(sig) in (0, -sig)  # uvicorn re-raises SIGTERM once it has shut down
    for pid in pids:
        emu.wait_for_exit(pid, timeout=2)
    caller.join(timeout=10)
    # The invocation in flight is answered, not left hanging: its environment was killed.
    assert in_flight["FunctionError"] == "Unhandled"
    assert json.loads(in_flight["Payload"].read())["errorType"] == "Runtime.ExitError"
    assert "Traceback" not in emu.log_path.read_text()


# -- SAM ---------------------------------------------------------------------------------

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
Globals:
  Function:
    Runtime: python3.11
    Timeout: 5
    Environment:
      Variables:
        STAGE: !Ref Stage
Resources:
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: app.handler
      MemorySize: 256
      Environment:
        Variables:
          TABLE: !Sub "${Stage}-orders-${AWS::Region}"
          HELLO_ARN: !GetAtt HelloFunction.Arn
          QUEUE_ARN: !GetAtt Queue.Arn
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
  Queue:
    Type: AWS::SQS::Queue
"""


def test_sam_template_is_found_and_served(emu_server):
    emu = emu_server(TEMPLATE, {"echo": "env_echo", "hello": "hello"}, config_name="template.yaml")
    client = emu.lambda_client()
    assert sorted(f["FunctionName"] for f in client.list_functions()["Functions"]) == ["EchoFunction", "HelloFunction"]
    config = client.get_function_configuration(FunctionName="EchoFunction")
    assert (config["Timeout"], config["MemorySize"]) == (5, 256)

    keys = ["STAGE", "TABLE", "HELLO_ARN", "QUEUE_ARN", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
    response = client.invoke(FunctionName="EchoFunction", Payload=json.dumps({"keys": keys}))
    assert json.loads(response["Payload"].read()) == {
        "STAGE": "dev",
        "TABLE": "dev-orders-us-east-1",
        "HELLO_ARN": "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction",
        "QUEUE_ARN": "Queue.Arn",  # nothing to resolve it to locally: kept as text
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    }
    response = client.invoke(FunctionName="HelloFunction", Payload=b'{"via": "sam"}')
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read())["event"] == {"via": "sam"}
