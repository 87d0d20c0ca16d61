"""emu.yaml into a Project: the happy path, then one test per validation rule."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from emulator.config import load_project
from emulator.config.model import DEFAULT_ASYNC_RETRY_DELAYS_S, FunctionSpec, Settings, TriggerSpec
from emulator.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "hello").mkdir(exist_ok=True)
    path = tmp_path / "emu.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def load(tmp_path: Path, text: str):
    return load_project(write(tmp_path, text))


def load_error(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_project(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(str(path))
    return info.value


def function(extra: str = "", base: str = "runtime: python3.12\nhandler: app.handler\ncode: ./hello\n") -> str:
    """An emu.yaml with one function 'hello', ``extra`` keys appended to it."""
    body = textwrap.indent(base + textwrap.dedent(extra), " " * 4)
    return "functions:\n  hello:\n" + body


def assert_names(error: ConfigError, key: str | None, fragment: str, function: str | None = "hello") -> None:
    message = str(error)
    assert (error.function, error.key) == (function, key)
    if function:
        assert f"function '{function}'" in message
    if key:
        assert f"'{key}'" in message
    assert fragment in message, message


# -- the happy path ---------------------------------------------------------------------


def test_full_example(tmp_path):
    (tmp_path / ".env").write_text("FROM_FILE=1\n")
    (tmp_path / "bin").mkdir()
    project = load(
        tmp_path,
        """\
        settings:
          region: eu-west-1
          account_id: "000000000042"
          idle_ttl: 0
          env_file: .env
          async_retry_delays: [0.5, 1, 0]
        functions:
          hello:
            provider: aws
            runtime: python3.11
            handler: app.handler
            code: ./hello
            memory: 10240
            timeout: 0.5e+1
            reserved_concurrency: 5
            provisioned_concurrency: 5
            environment: {NAME: world, COUNT: 3, RATIO: 0.5, YES_: true, NO_: false, _x1: ""}
          native:
            runtime: provided.al2023
            code: bin
            reserved_concurrency: 0
        """,
    )
    assert project.path == (tmp_path / "emu.yaml").resolve()
    assert project.settings == Settings(
        region="eu-west-1",
        account_id="000000000042",
        idle_ttl=0.0,
        env_file=(tmp_path / ".env").resolve(),
        async_retry_delays=(0.5, 1.0, 0.0),
    )
    assert project.functions["hello"] == FunctionSpec(
        name="hello",
        provider="aws",
        runtime="python3.11",
        handler="app.handler",
        code=(tmp_path / "hello").resolve(),
        memory=10240,
        timeout=5.0,
        reserved_concurrency=5,
        provisioned_concurrency=5,
        environment={
            "FROM_FILE": "1", "NAME": "world", "COUNT": "3", "RATIO": "0.5", "YES_": "true", "NO_": "false", "_x1": "",
        },
    )
    native = project.functions["native"]
    assert (native.handler, native.is_provided, native.reserved_concurrency) == ("", True, 0)


def test_defaults(tmp_path):
    project = load(tmp_path, function())
    assert project.settings == Settings()
    assert project.settings.async_retry_delays == DEFAULT_ASYNC_RETRY_DELAYS_S
    spec = project.functions["hello"]
    assert (spec.provider, spec.memory, spec.timeout) == ("aws", 128, 3.0)
    assert (spec.reserved_concurrency, spec.provisioned_concurrency, dict(spec.environment)) == (None, 0, {})


def test_code_relative_to_config_file_not_cwd(tmp_path, monkeypatch):
    project_dir = tmp_path / "project"
    project_dir.mkdir()
    path = write(project_dir, function())
    monkeypatch.chdir(tmp_path)
    assert load_project(path).functions["hello"].code == (project_dir / "hello").resolve()


def test_provided_runtime_ignores_handler_and_keeps_it(tmp_path):
    spec = load(tmp_path, function(base="runtime: provided.al2\ncode: hello\nhandler: bootstrap\n")).functions["hello"]
    assert spec.handler == "bootstrap"


def test_unquoted_account_id_is_accepted(tmp_path):
    assert load(tmp_path, "settings: {account_id: 123456789012}\n" + function()).settings.account_id == "123456789012"


def test_empty_settings_is_fine(tmp_path):
    assert load(tmp_path, "settings:\n" + function()).settings == Settings()


# -- document shape -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("", None, "file is empty"),
        ("# just a comment\n", None, "file is empty"),
        ("- a\n- b\n", None, "must be a mapping"),
        ("just text\n", None, "must be a mapping"),
        ("settings: {}\n", "functions", "at least one function"),
        ("functions:\n", "functions", "at least one function"),
        ("functions: {}\n", "functions", "at least one function"),
        ("functions: [hello]\n", "functions", "must be a mapping"),
        ("functions:\n  42: {}\n", "functions", "must be strings"),
        ("settings: [1]\nfunctions: {}\n", "settings", "must be a mapping"),
    ],
)
def test_document_shape(tmp_path, text, key, fragment):
    assert_names(load_error(tmp_path, text), key, fragment, function=None)


def test_function_body_must_be_a_mapping(tmp_path):
    assert_names(load_error(tmp_path, "functions:\n  hello: python3.12\n"), None, "must be a mapping")


def test_unknown_top_level_key_suggests(tmp_path):
    error = load_error(tmp_path, "function:\n  hello: {}\n")
    assert_names(error, "function", "did you mean 'functions'?", function=None)
    assert "allowed keys: settings, functions" in str(error)


def test_unknown_settings_key_suggests(tmp_path):
    error = load_error(tmp_path, "settings: {regoin: us-east-1}\n" + function())
    assert_names(error, "settings.regoin", "did you mean 'region'?", function=None)
    assert "allowed keys: region, account_id, idle_ttl, env_file, async_retry_delays" in str(error)


def test_unknown_function_key_suggests(tmp_path):
    error = load_error(tmp_path, function("memroy: 256\n"))
    assert_names(error, "memroy", "did you mean 'memory'?")
    assert "allowed keys: provider, runtime, handler, code, memory" in str(error)


def test_unknown_function_key_without_close_match(tmp_path):
    error = load_error(tmp_path, function("zzz: 1\n"))
    assert_names(error, "zzz", "unknown key; allowed keys:")


def test_duplicate_function_names(tmp_path):
    text = function() + "  hello:\n    runtime: python3.11\n    handler: a.b\n    code: hello\n"
    error = load_error(tmp_path, text)
    assert "line 6" in str(error) and "duplicate key 'hello' (first defined on line 2)" in str(error)


def test_duplicate_keys_inside_a_function(tmp_path):
    error = load_error(tmp_path, function("memory: 256\nmemory: 512\n"))
    assert "duplicate key 'memory'" in str(error)


# -- function names -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["has space", "dot.ted", "a" * 65, "colon:x", "ünïcode"])
def test_invalid_function_names(tmp_path, name):
    text = function().replace("hello:", f"'{name}':", 1)
    assert_names(load_error(tmp_path, text), None, "invalid function name", function=name)


@pytest.mark.parametrize("name", ["a", "My-Func_2", "a" * 64, "123"])
def test_valid_function_names(tmp_path, name):
    text = function().replace("hello:", f"'{name}':", 1)
    assert list(load(tmp_path, text).functions) == [name]


# -- per-key rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "key", "fragment"),
    [
        ("provider: azure\n", "provider", "must be 'aws' or 'gcp', got string 'azure'"),
        ("provider: 1\n", "provider", "must be 'aws' or 'gcp', got 1"),
        ("provider: null\n", "provider", "must be 'aws' or 'gcp', got null"),
        ("provider: AWS\n", "provider", "must be 'aws' or 'gcp'"),
        ("memory: 127\n", "memory", "between 128 and 10240, got 127"),
        ("memory: 10241\n", "memory", "between 128 and 10240"),
        ("memory: 256.0\n", "memory", "must be an integer"),
        ("memory: '256'\n", "memory", "must be an integer, got string '256'"),
        ("memory: true\n", "memory", "must be an integer, got boolean true"),
        ("timeout: 0\n", "timeout", "between 1 and 900"),
        ("timeout: 900.5\n", "timeout", "between 1 and 900"),
        ("timeout: .nan\n", "timeout", "between 1 and 900"),
        ("timeout: '3'\n", "timeout", "must be a number"),
        ("timeout: false\n", "timeout", "must be a number, got boolean false"),
        ("reserved_concurrency: -1\n", "reserved_concurrency", "must be >= 0"),
        ("reserved_concurrency: true\n", "reserved_concurrency", "must be an integer"),
        ("provisioned_concurrency: -1\n", "provisioned_concurrency", "must be >= 0"),
        ("provisioned_concurrency: 1.5\n", "provisioned_concurrency", "must be an integer"),
        ("provisioned_concurrency: null\n", "provisioned_concurrency", "must be an integer, got null"),
        (
            "reserved_concurrency: 2\nprovisioned_concurrency: 3\n",
            "provisioned_concurrency",
            "must not exceed reserved_concurrency (2), got 3",
        ),
        ("reserved_concurrency: 0\nprovisioned_concurrency: 1\n", "provisioned_concurrency", "must not exceed"),
        ("environment: [A=1]\n", "environment", "must be a mapping"),
        ("environment: {1A: x}\n", "environment", "invalid variable name '1A'"),
        ("environment: {MY-VAR: x}\n", "environment", "invalid variable name 'MY-VAR'"),
        ("environment: {'': x}\n", "environment", "invalid variable name ''"),
        ("environment: {1: x}\n", "environment", "variable name 1 is not a string; quote it"),
        ("environment: {ON: x}\n", "environment", "variable name boolean true is not a string"),
        ("environment: {A: [1]}\n", "environment.A", "must be a string, number or boolean, got a list"),
        ("environment: {A: {b: 1}}\n", "environment.A", "got a mapping"),
        ("environment: {A: null}\n", "environment.A", "got null"),
    ],
)
def test_invalid_values(tmp_path, extra, key, fragment):
    assert_names(load_error(tmp_path, function(extra)), key, fragment)


@pytest.mark.parametrize(
    ("base", "key", "fragment"),
    [
        ("handler: app.handler\ncode: hello\n", "runtime", "is required"),
        ("runtime: null\nhandler: app.handler\ncode: hello\n", "runtime", "is required"),
        ("runtime: pyhton3.12\nhandler: app.handler\ncode: hello\n", "runtime", "did you mean 'python3.12'?"),
        ("runtime: nodejs20.x\nhandler: app.handler\ncode: hello\n", "runtime", "choose one of: provided, "),
        ("runtime: 3.12\nhandler: app.handler\ncode: hello\n", "runtime", "unsupported runtime 3.12"),
        ("runtime: python3.12\ncode: hello\n", "handler", "is required"),
        ("runtime: python3.12\nhandler: app\ncode: hello\n", "handler", "'module.function'"),
        ("runtime: python3.12\nhandler: app.\ncode: hello\n", "handler", "'module.function'"),
        ("runtime: python3.12\nhandler: .handler\ncode: hello\n", "handler", "'module.function'"),
        ("runtime: python3.12\nhandler: app .handler\ncode: hello\n", "handler", "'module.function'"),
        ("runtime: python3.12\nhandler: 12\ncode: hello\n", "handler", "must be a non-empty string"),
        ("runtime: python3.12\nhandler: app.handler\n", "code", "is required"),
        ("runtime: python3.12\nhandler: app.handler\ncode: ''\n", "code", "must be a non-empty string"),
        ("runtime: python3.12\nhandler: app.handler\ncode: [hello]\n", "code", "must be a non-empty string"),
        ("runtime: python3.12\nhandler: app.handler\ncode: ./missing\n", "code", "does not exist"),
        ("runtime: python3.12\nhandler: app.handler\ncode: emu.yaml\n", "code", "is not a directory"),
    ],
)
def test_required_and_invalid_core_keys(tmp_path, base, key, fragment):
    assert_names(load_error(tmp_path, function(base=base)), key, fragment)


def test_handler_is_not_checked_for_provided_runtimes(tmp_path):
    spec = load(tmp_path, function(base="runtime: provided\ncode: hello\nhandler: 7\n")).functions["hello"]
    assert spec.handler == ""


# -- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "key", "fragment"),
    [
        ("region: 1\n", "settings.region", "must be a non-empty string"),
        ("region: US East\n", "settings.region", "does not look like an AWS region"),
        ("account_id: '12345'\n", "settings.account_id", "must be 12 digits"),
        ("account_id: 'abcdefghijkl'\n", "settings.account_id", "must be 12 digits"),
        ("account_id: true\n", "settings.account_id", "must be 12 digits"),
        ("idle_ttl: -1\n", "settings.idle_ttl", "must be >= 0"),
        ("idle_ttl: 5min\n", "settings.idle_ttl", "must be a number"),
        ("env_file: missing.env\n", "settings.env_file", "does not exist"),
        ("env_file: hello\n", "settings.env_file", "does not exist"),
        ("env_file: 3\n", "settings.env_file", "must be a non-empty string"),
        ("async_retry_delays: 1\n", "settings.async_retry_delays", "must be a list"),
        ("async_retry_delays: [1, -2]\n", "settings.async_retry_delays[1]", "must be >= 0"),
        ("async_retry_delays: [true]\n", "settings.async_retry_delays[0]", "must be a number"),
    ],
)
def test_invalid_settings(tmp_path, settings, key, fragment):
    text = "settings:\n" + textwrap.indent(settings, "  ") + function()
    assert_names(load_error(tmp_path, text), key, fragment, function=None)


def test_empty_retry_delays_means_no_retries(tmp_path):
    assert load(tmp_path, "settings: {async_retry_delays: []}\n" + function()).settings.async_retry_delays == ()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("project: my-project-42\n", {"project": "my-project-42"}),
        ("gcp_region: europe-west1\n", {"gcp_region": "europe-west1"}),
        ("gcp_region: northamerica-northeast2\n", {"gcp_region": "northamerica-northeast2"}),
        ("queue_timeout: 0\n", {"queue_timeout": 0.0}),
        ("queue_timeout: 2.5\n", {"queue_timeout": 2.5}),
    ],
)
def test_gcp_settings(tmp_path, settings, expected):
    text = "settings:\n" + textwrap.indent(settings, "  ") + function()
    assert load(tmp_path, text).settings == Settings(**expected)


def test_gcp_settings_defaults():
    settings = Settings()
    assert (settings.project, settings.gcp_region, settings.queue_timeout) == ("emu-project", "us-central1", 10.0)


@pytest.mark.parametrize(
    ("settings", "key", "fragment"),
    [
        ("project: short\n", "settings.project", "invalid 'short': use 6-30 lowercase letters"),
        ("project: My-Project\n", "settings.project", "invalid 'My-Project'"),
        ("project: 1project\n", "settings.project", "starting with a letter"),
        ("project: my-project-\n", "settings.project", "not ending with '-'"),
        ("project: my_project\n", "settings.project", "invalid 'my_project'"),
        (f"project: {'a' * 31}\n", "settings.project", "6-30"),
        ("project: 123456\n", "settings.project", "must be a non-empty string, got 123456"),
        ("gcp_region: US Central\n", "settings.gcp_region", "does not look like a GCP region"),
        ("gcp_region: us-east-1\n", "settings.gcp_region", "does not look like a GCP region"),
        ("gcp_region: 1\n", "settings.gcp_region", "must be a non-empty string"),
        ("queue_timeout: -0.1\n", "settings.queue_timeout", "must be >= 0"),
        ("queue_timeout: 10s\n", "settings.queue_timeout", "must be a number"),
    ],
)
def test_invalid_gcp_settings(tmp_path, settings, key, fragment):
    text = "settings:\n" + textwrap.indent(settings, "  ") + function()
    assert_names(load_error(tmp_path, text), key, fragment, function=None)


# -- provider-only keys -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "key", "instead"),
    [
        ("entry_point: main\n", "entry_point", "; the AWS key is handler"),
        ("source: main.py\n", "source", ""),
        ("signature: http\n", "signature", ""),
        ("generation: 2\n", "generation", ""),
        ("concurrency: 4\n", "concurrency", ""),
        ("min_instances: 1\n", "min_instances", "; the AWS key is provisioned_concurrency"),
        ("max_instances: 5\n", "max_instances", "; the AWS key is reserved_concurrency"),
        ("project: demo-project\n", "project", ""),
        ("trigger: http\n", "trigger", "; the AWS key is events"),
    ],
)
def test_gcp_only_keys_on_an_aws_function(tmp_path, extra, key, instead):
    error = load_error(tmp_path, function(extra))
    assert_names(error, key, "is a GCP-only key, but this function's provider is 'aws'")
    assert str(error).endswith(f"'aws'{instead}")


def test_gcp_only_key_on_an_implicit_aws_function(tmp_path):
    error = load_error(tmp_path, function("provider: aws\nmax_instances: 3\n"))
    assert_names(error, "max_instances", "GCP-only key")


# -- AWS and GCP side by side -------------------------------------------------------------


def test_mixed_aws_and_gcp(tmp_path):
    (tmp_path / ".env").write_text("SHARED=1\n")
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "main.py").write_text("def hello_http(request):\n    return 'hi'\n")
    (tmp_path / "worker").mkdir()
    (tmp_path / "worker" / "handlers.py").write_text("def on_upload(event):\n    pass\n")
    project = load(
        tmp_path,
        """\
        settings:
          env_file: .env
          project: settings-project
          gcp_region: europe-west1
          queue_timeout: 1.5
        functions:
          hello:
            runtime: python3.12
            handler: app.handler
            code: ./hello
          web:
            provider: gcp
            runtime: python311
            entry_point: hello_http
            code: ./web
            signature: http
            generation: 2
            memory: 512
            timeout: 3600
            concurrency: 80
            min_instances: 1
            max_instances: 4
            environment: {KEY: value}
            project: demo-project
            trigger: http
          uploads:
            provider: gcp
            runtime: python312
            entry_point: on_upload
            code: worker
            source: handlers.py
            signature: event
            generation: 1
            memory: 2048
            timeout: 540
            trigger: {gcs: my-bucket, event: deleted}
          orders:
            provider: gcp
            runtime: python313
            entry_point: on_upload
            code: worker
            source: handlers.py
            trigger: {pubsub: orders}
        """,
    )
    assert list(project.functions) == ["hello", "web", "uploads", "orders"]
    assert project.settings == Settings(
        env_file=(tmp_path / ".env").resolve(), project="settings-project", gcp_region="europe-west1", queue_timeout=1.5
    )
    assert project.functions["hello"].provider == "aws"
    assert project.functions["web"] == FunctionSpec(
        name="web",
        provider="gcp",
        runtime="python311",
        handler="",
        code=(tmp_path / "web").resolve(),
        memory=512,
        timeout=3600.0,
        environment={"SHARED": "1", "KEY": "value"},
        entry_point="hello_http",
        signature="http",
        generation=2,
        concurrency=80,
        min_instances=1,
        max_instances=4,
        project="demo-project",
        trigger=TriggerSpec(kind="http"),
        source="main.py",
    )
    uploads = project.functions["uploads"]
    assert uploads.trigger == TriggerSpec(kind="gcs", bucket="my-bucket", event="deleted")
    assert (uploads.generation, uploads.memory, uploads.timeout, uploads.concurrency) == (1, 2048, 540.0, 1)
    assert (uploads.source, uploads.project, uploads.is_event_driven) == ("handlers.py", "settings-project", True)
    orders = project.functions["orders"]
    assert orders.trigger == TriggerSpec(kind="pubsub", topic="orders")
    assert (orders.signature, orders.timeout, orders.memory) == (None, 60.0, 256)
    assert dict(orders.environment) == {"SHARED": "1"}
