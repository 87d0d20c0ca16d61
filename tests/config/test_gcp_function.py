"""GCP functions in emu.yaml: defaults, triggers, then one test per rule."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from emulator.config import load_project
from emulator.config.model import FunctionSpec, Settings, TriggerSpec
from emulator.errors import ConfigError

BASE = "provider: gcp\nruntime: python311\ncode: ./web\n"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "web").mkdir(exist_ok=True)
    (tmp_path / "web" / "main.py").write_text("def web(request):\n    return 'ok'\n")
    path = tmp_path / "emu.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def gcp(extra: str = "", base: str = BASE, name: str = "web", settings: str = "") -> str:
    """An emu.yaml with one GCP function ``name``, ``extra`` keys appended to it."""
    body = textwrap.indent(base + textwrap.dedent(extra), " " * 4)
    return settings + f"functions:\n  '{name}':\n" + body


def load(tmp_path: Path, text: str, name: str = "web") -> FunctionSpec:
    return load_project(write(tmp_path, text)).functions[name]


def load_error(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_project(path)
    assert info.value.file == str(path)
    return info.value


def assert_names(error: ConfigError, key: str | None, fragment: str, function: str = "web") -> None:
    message = str(error)
    assert (error.function, error.key) == (function, key), message
    assert f"function '{function}'" in message
    if key:
        assert f"'{key}'" in message
    assert fragment in message, message


# -- defaults -----------------------------------------------------------------------------


def test_defaults(tmp_path):
    spec = load(tmp_path, gcp())
    assert spec == FunctionSpec(
        name="web",
        provider="gcp",
        runtime="python311",
        handler="",
        code=(tmp_path / "web").resolve(),
        memory=256,
        timeout=60.0,
        entry_point="web",
        signature=None,
        generation=2,
        concurrency=1,
        min_instances=0,
        max_instances=100,
        project=Settings().project,
        trigger=TriggerSpec(kind="http"),
        source="main.py",
    )
    assert (spec.reserved_concurrency, spec.provisioned_concurrency, dict(spec.environment)) == (None, 0, {})
    assert spec.project == "emu-project"
    assert not spec.is_event_driven


def test_project_defaults_to_settings_project(tmp_path):
    spec = load(tmp_path, gcp(settings="settings: {project: from-settings}\n"))
    assert spec.project == "from-settings"


def test_function_project_beats_settings(tmp_path):
    spec = load(tmp_path, gcp("project: own-project\n", settings="settings: {project: from-settings}\n"))
    assert spec.project == "own-project"


@pytest.mark.parametrize("runtime", ["python37", "python38", "python39", "python310", "python312", "python313"])
def test_every_python_runtime(tmp_path, runtime):
    assert load(tmp_path, gcp(base=BASE.replace("python311", runtime))).runtime == runtime


def test_environment_uses_the_shared_rules(tmp_path):
    spec = load(tmp_path, gcp("environment: {A: 1, B: true}\n"))
    assert dict(spec.environment) == {"A": "1", "B": "true"}
    assert_names(load_error(tmp_path, gcp("environment: {1A: x}\n")), "environment", "invalid variable name '1A'")


# -- triggers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("http", TriggerSpec(kind="http")),
        ("{pubsub: orders}", TriggerSpec(kind="pubsub", topic="orders")),
        ("{pubsub: Orders-v1_a.b~c+d%e}", TriggerSpec(kind="pubsub", topic="Orders-v1_a.b~c+d%e")),
        ("{gcs: my-bucket}", TriggerSpec(kind="gcs", bucket="my-bucket", event="finalized")),
        ("{gcs: my_bucket.v2, event: finalized}", TriggerSpec(kind="gcs", bucket="my_bucket.v2", event="finalized")),
        ("{gcs: b01, event: deleted}", TriggerSpec(kind="gcs", bucket="b01", event="deleted")),
        ("{gcs: b01, event: archived}", TriggerSpec(kind="gcs", bucket="b01", event="archived")),
        ("{gcs: b01, event: metadataUpdated}", TriggerSpec(kind="gcs", bucket="b01", event="metadataUpdated")),
    ],
)
def test_trigger_forms(tmp_path, trigger, expected):
    spec = load(tmp_path, gcp(f"trigger: {trigger}\n"))
    assert spec.trigger == expected
    assert spec.is_event_driven == (expected.kind != "http")


def test_block_style_trigger(tmp_path):
    spec = load(tmp_path, gcp("trigger:\n  gcs: uploads\n  event: deleted\n"))
    assert spec.trigger == TriggerSpec(kind="gcs", bucket="uploads", event="deleted")


@pytest.mark.parametrize(
    ("trigger", "key", "fragment"),
    [
        ("pubsub", "trigger", "must be 'http', {pubsub: TOPIC}, {gcs: BUCKET, event: EVENT} or {schedule: CRON, time_zone: TZ}; got string 'pubsub'"),
        ("HTTP", "trigger", "must be 'http'"),
        ("{}", "trigger", "got a mapping"),
        ("[pubsub]", "trigger", "got a list"),
        ("{http: true}", "trigger", "must be 'http'"),
        ("null", "trigger", "got null"),
        ("{pubsub: orders, gcs: bucket}", "trigger", "either pubsub or gcs, not both"),
        ("{pubsub: orders, event: finalized}", "trigger.event", "unknown key; allowed keys: pubsub"),
        ("{gcs: bucket, evnt: deleted}", "trigger.evnt", "did you mean 'event'?"),
        ("{pubsub: null}", "trigger.pubsub", "must be a non-empty string, got null"),
        ("{pubsub: 42}", "trigger.pubsub", "must be a non-empty string, got 42"),
        ("{pubsub: ab}", "trigger.pubsub", "invalid 'ab': use 3-255"),
        ("{pubsub: 1orders}", "trigger.pubsub", "starting with a letter"),
        ("{pubsub: goog-orders}", "trigger.pubsub", "(not 'goog')"),
        ("{pubsub: 'my topic'}", "trigger.pubsub", "invalid 'my topic'"),
        ("{pubsub: projects/p/topics/t}", "trigger.pubsub", "invalid 'projects/p/topics/t'"),
        (f"{{pubsub: a{'b' * 255}}}", "trigger.pubsub", "3-255"),
        ("{gcs: null}", "trigger.gcs", "must be a non-empty string"),
        ("{gcs: My-Bucket}", "trigger.gcs", "invalid 'My-Bucket': use 3-63 lowercase letters"),
        ("{gcs: ab}", "trigger.gcs", "invalid 'ab'"),
        ("{gcs: -bucket}", "trigger.gcs", "starting and ending with a letter or digit"),
        ("{gcs: bucket-}", "trigger.gcs", "invalid 'bucket-'"),
        ("{gcs: 'my bucket'}", "trigger.gcs", "invalid 'my bucket'"),
        (f"{{gcs: {'b' * 64}}}", "trigger.gcs", "3-63"),
        ("{gcs: bucket, event: finalize}", "trigger.event", "did you mean 'finalized'?"),
        ("{gcs: bucket, event: created}", "trigger.event", "must be one of finalized, deleted, archived, metadataUpdated"),
        ("{gcs: bucket, event: null}", "trigger.event", "got null"),
    ],
)
def test_invalid_triggers(tmp_path, trigger, key, fragment):
    assert_names(load_error(tmp_path, gcp(f"trigger: {trigger}\n")), key, fragment)


# -- names, runtime, entry point, code and source ------------------------------------------


@pytest.mark.parametrize("name", ["a", "A_b-c1", "Web", "a" * 63, "web_2"])
def test_valid_function_names(tmp_path, name):
    assert load(tmp_path, gcp("entry_point: web\n", name=name), name=name).name == name


@pytest.mark.parametrize("name", ["1abc", "_web", "-web", "web-", "web_", "a" * 64, "dot.ted", "has space", "ünï"])
def test_invalid_function_names(tmp_path, name):
    error = load_error(tmp_path, gcp("entry_point: web\n", name=name))
    assert_names(error, None, "invalid function name: use 1-63 letters, digits, '-' or '_', starting with a letter", name)


def test_entry_point_defaults_to_the_name(tmp_path):
    (tmp_path / "web").mkdir()
    assert load(tmp_path, gcp(name="hello_http"), name="hello_http").entry_point == "hello_http"


@pytest.mark.parametrize(
    ("extra", "name", "fragment"),
    [
        ("", "hello-http", "defaults to the function name 'hello-http', which is not a Python name; set entry_point"),
        ("entry_point: hello-http\n", "web", "must be a Python function name, got 'hello-http'"),
        ("entry_point: main.web\n", "web", "must be a Python function name, got 'main.web'"),
        ("entry_point: class\n", "web", "must be a Python function name, got 'class'"),
        ("entry_point: ''\n", "web", "must be a non-empty string"),
        ("entry_point: null\n", "web", "must be a non-empty string, got null"),
        ("entry_point: 12\n", "web", "must be a non-empty string, got 12"),
    ],
)
def test_invalid_entry_points(tmp_path, extra, name, fragment):
    assert_names(load_error(tmp_path, gcp(extra, name=name)), "entry_point", fragment, function=name)


@pytest.mark.parametrize(
    ("base", "key", "fragment"),
    [
        ("provider: gcp\ncode: web\n", "runtime", "is required"),
        ("provider: gcp\nruntime: python3.11\ncode: web\n", "runtime", "did you mean 'python311'?"),
        ("provider: gcp\nruntime: python3.12\ncode: web\n", "runtime", "choose one of: python310, python311"),
        ("provider: gcp\nruntime: python314\ncode: web\n", "runtime", "unsupported runtime string 'python314'"),
        ("provider: gcp\nruntime: provided.al2\ncode: web\n", "runtime", "unsupported runtime"),
        ("provider: gcp\nruntime: python311\n", "code", "is required"),
        ("provider: gcp\nruntime: python311\ncode: missing\n", "code", "does not exist"),
        ("provider: gcp\nruntime: python311\ncode: emu.yaml\n", "code", "is not a directory"),
    ],
)
def test_required_and_invalid_core_keys(tmp_path, base, key, fragment):
    assert_names(load_error(tmp_path, gcp(base=base)), key, fragment)


def test_code_must_hold_main_py(tmp_path):
    (tmp_path / "empty").mkdir()
    error = load_error(tmp_path, gcp(base=BASE.replace("./web", "./empty")))
    assert_names(error, "code", "has no main.py; add one or name the file with 'source'")


def test_source_names_another_file(tmp_path):
    (tmp_path / "lib" / "pkg").mkdir(parents=True)
    (tmp_path / "lib" / "pkg" / "handlers.py").write_text("def web(request): ...\n")
    spec = load(tmp_path, gcp("source: pkg/handlers.py\n", base=BASE.replace("./web", "./lib")))
    assert (spec.source, spec.code) == ("pkg/handlers.py", (tmp_path / "lib").resolve())


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("other.py", "file '"),
        ("/etc/main.py", "must be a .py file inside the code directory, got '/etc/main.py'"),
        ("../web/main.py", "must be a .py file inside the code directory"),
        ("main.txt", "must be a .py file inside the code directory, got 'main.txt'"),
        ("''", "must be a non-empty string"),
        ("null", "must be a non-empty string, got null"),
        ("[main.py]", "got a list"),
    ],
)
def test_invalid_sources(tmp_path, source, fragment):
    error = load_error(tmp_path, gcp(f"source: {source}\n"))
    assert_names(error, "source", fragment)
    if source == "other.py":
        assert "other.py' does not exist" in str(error)


def test_explicit_main_py_source(tmp_path):
    assert load(tmp_path, gcp("source: main.py\n")).source == "main.py"


# -- signature, generation and limits -----------------------------------------------------


@pytest.mark.parametrize("signature", ["http", "cloudevent", "event", "typed"])
def test_signatures(tmp_path, signature):
    spec = load(tmp_path, gcp(f"signature: {signature}\n"))
    assert spec.signature == signature
    assert spec.is_event_driven == (signature in ("cloudevent", "event"))


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("cloud_event", "did you mean 'cloudevent'?"),
        ("background", "must be one of http, cloudevent, event, typed; got string 'background'"),
        ("null", "got null"),
        ("true", "got boolean true"),
    ],
)
def test_invalid_signatures(tmp_path, value, fragment):
    assert_names(load_error(tmp_path, gcp(f"signature: {value}\n")), "signature", fragment)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("generation: 1\nmemory: 128\n", (1, 128)),
        ("generation: 1\nmemory: 8192\n", (1, 8192)),
        ("generation: 1\nmemory: 4096\n", (1, 4096)),
        ("generation: 2\nmemory: 128\n", (2, 128)),
        ("generation: 2\nmemory: 300\n", (2, 300)),
        ("memory: 32768\n", (2, 32768)),
        ("generation: 1\n", (1, 256)),
    ],
)
def test_memory_by_generation(tmp_path, extra, expected):
    spec = load(tmp_path, gcp(extra))
    assert (spec.generation, spec.memory) == expected


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("generation: 1\ntimeout: 540\n", 540.0),
        ("generation: 1\ntimeout: 1\nsignature: event\n", 1.0),
        ("timeout: 3600\n", 3600.0),
        ("timeout: 3600\nsignature: typed\n", 3600.0),
        ("timeout: 540\ntrigger: {pubsub: orders}\n", 540.0),
        ("timeout: 540\nsignature: cloudevent\n", 540.0),
        ("timeout: 0.5e+3\n", 500.0),
    ],
)
def test_timeout_limits(tmp_path, extra, expected):
    assert load(tmp_path, gcp(extra)).timeout == expected


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("generation: 1\nconcurrency: 1\n", 1),
        ("concurrency: 1000\n", 1000),
        ("generation: 2\nconcurrency: 80\n", 80),
    ],
)
def test_concurrency_limits(tmp_path, extra, expected):
    assert load(tmp_path, gcp(extra)).concurrency == expected


def test_instances(tmp_path):
    spec = load(tmp_path, gcp("min_instances: 3\nmax_instances: 3\n"))
    assert (spec.min_instances, spec.max_instances) == (3, 3)


@pytest.mark.parametrize(
    ("extra", "key", "fragment"),
    [
        ("generation: 3\n", "generation", "between 1 and 2, got 3"),
        ("generation: 0\n", "generation", "between 1 and 2"),
        ("generation: '2'\n", "generation", "must be an integer, got string '2'"),
        ("generation: true\n", "generation", "must be an integer, got boolean true"),
        ("generation: 2.0\n", "generation", "must be an integer"),
        (
            "generation: 1\nmemory: 300\n",
            "memory",
            "must be one of 128, 256, 512, 1024, 2048, 4096, 8192 for a gen1 function, got 300",
        ),
        ("generation: 1\nmemory: 16384\n", "memory", "between 128 and 8192 for a gen1 function, got 16384"),
        ("memory: 32769\n", "memory", "between 128 and 32768 for a gen2 function, got 32769"),
        ("memory: 127\n", "memory", "between 128 and 32768 for a gen2 function"),
        ("memory: 256MB\n", "memory", "must be an integer, got string '256MB'"),
        ("generation: 1\ntimeout: 541\n", "timeout", "between 1 and 540 for an HTTP gen1 function, got 541"),
        ("generation: 1\ntimeout: 541\nsignature: event\n", "timeout", "for an event-driven gen1 function"),
        ("timeout: 3601\n", "timeout", "between 1 and 3600 for an HTTP gen2 function, got 3601"),
        ("timeout: 0\n", "timeout", "between 1 and 3600"),
        ("timeout: .nan\n", "timeout", "between 1 and 3600"),
        ("timeout: 60s\n", "timeout", "must be a number"),
        (
            "timeout: 541\ntrigger: {pubsub: orders}\n",
            "timeout",
            "between 1 and 540 for an event-driven gen2 function, got 541",
        ),
        ("timeout: 3600\ntrigger: {gcs: uploads}\n", "timeout", "for an event-driven gen2 function, got 3600"),
        ("timeout: 600\nsignature: cloudevent\n", "timeout", "for an event-driven gen2 function, got 600"),
        ("timeout: 600\nsignature: event\ntrigger: http\n", "timeout", "for an event-driven gen2 function"),
        (
            "generation: 1\nconcurrency: 2\n",
            "concurrency",
            "must be 1 for a gen1 function, whose instances serve one request at a time "
            "(generation: 2 allows up to 1000), got 2",
        ),
        ("concurrency: 1001\n", "concurrency", "between 1 and 1000 for a gen2 function, got 1001"),
        ("concurrency: 0\n", "concurrency", "must be >= 1, got 0"),
        ("generation: 1\nconcurrency: 0\n", "concurrency", "must be >= 1, got 0"),
        ("concurrency: 1.5\n", "concurrency", "must be an integer"),
        ("min_instances: -1\n", "min_instances", "must be >= 0, got -1"),
        ("min_instances: null\n", "min_instances", "must be an integer, got null"),
        ("max_instances: 0\n", "max_instances", "must be >= 1, got 0"),
        ("max_instances: true\n", "max_instances", "must be an integer, got boolean true"),
        ("min_instances: 4\nmax_instances: 3\n", "min_instances", "must not exceed max_instances (3), got 4"),
        ("min_instances: 101\n", "min_instances", "must not exceed max_instances (100), got 101"),
        ("project: Bad_Project\n", "project", "invalid 'Bad_Project': use 6-30 lowercase letters"),
        ("project: null\n", "project", "must be a non-empty string, got null"),
    ],
)
def test_invalid_values(tmp_path, extra, key, fragment):
    assert_names(load_error(tmp_path, gcp(extra)), key, fragment)


# -- keys that belong to AWS --------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "key", "instead"),
    [
        ("handler: main.web\n", "handler", "entry_point"),
        ("reserved_concurrency: 5\n", "reserved_concurrency", "max_instances"),
        ("provisioned_concurrency: 1\n", "provisioned_concurrency", "min_instances"),
        ("handler: null\n", "handler", "entry_point"),
    ],
)
def test_aws_only_keys_on_a_gcp_function(tmp_path, extra, key, instead):
    error = load_error(tmp_path, gcp(extra))
    assert_names(error, key, f"is an AWS-only key, but this function's provider is 'gcp'; the GCP key is {instead}")


def test_unknown_key_suggests_the_gcp_spelling(tmp_path):
    assert_names(load_error(tmp_path, gcp("entrypoint: web\n")), "entrypoint", "did you mean 'entry_point'?")
