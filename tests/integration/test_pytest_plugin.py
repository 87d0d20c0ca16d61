"""The pytest plugin, as a user meets it: a tiny test suite of their own, run by pytest, against a real emu.

Each test writes a project (config, handlers, test files) with ``pytester`` and runs
pytest on it in a subprocess, where the plugin loads from its ``pytest11`` entry
point as it would in any suite. One of them runs against ``EMU_URL`` instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EmuProcess

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _no_emu_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner suites start their own emu unless a test sets EMU_URL itself."""
    monkeypatch.delenv("EMU_URL", raising=False)

CONFIG = """\
functions:
  hello:
    runtime: python3.11
    handler: app.hello
    code: ./aws
  boom:
    runtime: python3.11
    handler: app.boom
    code: ./aws
  on_upload:
    runtime: python3.11
    handler: app.event
    code: ./aws
    events: [{s3: uploads}]
  on_note:
    runtime: python3.11
    handler: app.event
    code: ./aws
    events: [{sns: notes}]
  routed:
    runtime: python3.11
    handler: app.route
    code: ./aws
    events: [{api: "GET /items/{id}"}]
  web:
    provider: gcp
    runtime: python311
    entry_point: web
    code: ./gcp
  on_message:
    provider: gcp
    runtime: python311
    entry_point: on_message
    code: ./gcp
    trigger: {pubsub: jobs}
"""

AWS_APP = '''
import json


def hello(event, context):
    print("hello", event.get("name"))
    return {"greeting": "hello " + event.get("name", "world")}


class Broken(Exception):
    pass


def boom(event, context):
    print("about to fail")
    raise Broken("it broke")


def event(event, context):
    print("EVENT " + json.dumps(event))
    return "ok"


def route(event, context):
    return {"statusCode": 200, "body": json.dumps({"id": event["pathParameters"]["id"]})}
'''

GCP_APP = '''
import base64

import functions_framework


@functions_framework.http
def web(request):
    print("web got", request.path)
    return {"path": request.path, "args": dict(request.args)}


@functions_framework.cloud_event
def on_message(event):
    print("message: " + base64.b64decode(event.data["message"]["data"]).decode())
'''

USER_TESTS = '''
import pytest


def test_invoke_returns_the_payload_and_the_log(emu):
    result = emu.invoke("hello", {"name": "ada"})
    assert result.ok and result.payload == {"greeting": "hello ada"}
    assert "hello ada" in result.log and "REPORT RequestId" in result.log
    (record,) = emu.invocations("hello")  # this test's only: earlier tests' are not seen
    assert record["id"] == result.request_id and record["trigger"] == "direct"


def test_a_function_error_is_a_result_until_raised(emu):
    result = emu.invoke("boom")
    assert not result.ok and result.function_error == "Unhandled"
    assert result.error_type == "Broken" and result.error_message == "it broke"
    with pytest.raises(AssertionError, match=r"(?s)boom failed \\(Broken\\): it broke.*about to fail"):
        result.raise_for_error()


def test_second_invoke_is_warm(emu):
    emu.invoke("hello", {})
    records = emu.invocations("hello")
    assert [r["cold"] for r in records] == [False]


def test_the_boto3_client(emu):
    client = emu.lambda_client()
    answer = client.invoke(FunctionName="hello", Payload=b'{"name": "boto"}')
    assert answer["Payload"].read() == b'{"greeting": "hello boto"}'


def test_http_to_a_gcp_function_and_an_api_route(emu):
    assert emu.http("web").get("/some/path?x=1").json() == {"path": "/some/path", "args": {"x": "1"}}
    assert emu.http("routed").get("/items/42").json() == {"id": "42"}
    (record,) = emu.invocations("web")
    assert record["provider"] == "gcp" and record["trigger"] == "http" and record["billed_ms"] % 100 == 0
    assert emu.invocations("routed")[0]["trigger"] == "api"


def test_upload_and_delete_fire_the_bucket_trigger(emu):
    emu.upload("uploads", "a/b.txt", b"hi")
    (created,) = emu.wait_for("on_upload", 1, timeout=20)
    assert created["trigger"] == "s3"
    emu.delete("uploads", "a/b.txt")  # on_upload subscribes to ObjectCreated only
    assert "a/b.txt" in emu.logs("on_upload")


def test_publish_reaches_pubsub_and_sns_subscribers(emu):
    emu.publish("jobs", b"job one", {"kind": "test"})
    (message,) = emu.wait_for("on_message", 1, timeout=20)
    assert message["trigger"] == "pubsub" and message["outcome"] == "ok"
    assert "message: job one" in emu.logs("on_message")
    emu.publish("notes", "a note")
    (note,) = emu.wait_for("on_note", 1, timeout=20)
    assert note["trigger"] == "sns"


def test_wait_for_says_what_it_saw_when_it_times_out(emu):
    with pytest.raises(AssertionError, match="on_note was invoked 0 time"):
        emu.wait_for("on_note", 1, timeout=0.3)
'''


def _project(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", emu=CONFIG)
    (pytester.path / "aws").mkdir()
    (pytester.path / "aws" / "app.py").write_text(AWS_APP)
    (pytester.path / "gcp").mkdir()
    (pytester.path / "gcp" / "main.py").write_text(GCP_APP)


def test_a_user_suite_drives_its_functions_through_the_emu_fixture(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=8)


def test_the_marker_and_the_ini_option_name_the_config(pytester: pytest.Pytester) -> None:
    (pytester.path / "aws").mkdir()
    (pytester.path / "aws" / "app.py").write_text(AWS_APP)
    (pytester.path / "configs").mkdir()
    (pytester.path / "configs" / "one.yaml").write_text("functions:\n  one: {runtime: python3.11, handler: app.hello, code: ../aws}\n")
    (pytester.path / "configs" / "two.yaml").write_text("functions:\n  two: {runtime: python3.11, handler: app.hello, code: ../aws}\n")
    pytester.makeini("[pytest]\nemu_config = configs/one.yaml\n")
    pytester.makepyfile(test_configs='''
import pytest


def test_the_ini_option(emu, emu_session):
    assert set(emu.functions()) == {"one"}
    assert emu_session.url == emu.url


@pytest.mark.emu_config("configs/two.yaml")
def test_the_marker(emu, emu_session):
    assert set(emu.functions()) == {"two"}
    assert emu_session.url != emu.url
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=2)


def test_without_a_config_the_fixture_says_how_to_name_one(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_none="def test_it(emu):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*found no emu.yaml beside the tests*emu_config*"])


def test_a_config_emu_cannot_serve_fails_with_its_output(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", emu="functions:\n  bad: {runtime: python3.11, handler: app.x, code: ./missing}\n")
    pytester.makepyfile(test_bad="def test_it(emu):\n    pass\n")
    pytester.makepyfile(test_bad_too="def test_it_too(emu):\n    pass\n")
    # -rN: no short summary, whose width (and so its copies of the message) depends on the terminal.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rN", timeout=120)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*emu up --config*exited with status 2; its output:", "emu: *missing*"])
    # Tried once: the second test gets the same failure without another start.
    assert result.stdout.str().count("emu: ") == 2


def test_with_emu_url_the_fixture_uses_the_running_emu(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "running"
    root.mkdir()
    (root / "emu.yaml").write_text(CONFIG)
    for folder, name, text in (("aws", "app.py", AWS_APP), ("gcp", "main.py", GCP_APP)):
        (root / folder).mkdir()
        (root / folder / name).write_text(text)
    running = EmuProcess(root, [])
    try:
        running.wait_ready()
        monkeypatch.setenv("EMU_URL", running.url)
        # The suite has no config of its own: EMU_URL is all it needs.
        pytester.makepyfile(test_remote=f"""
def test_it(emu):
    assert emu.url == "{running.url}"
    assert emu.invoke("hello", {{"name": "remote"}}).payload == {{"greeting": "hello remote"}}
    assert len(emu.invocations("hello")) == 1
""")
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
        result.assert_outcomes(passed=1)
        assert "hello remote" in running.log()
    finally:
        running.stop()
