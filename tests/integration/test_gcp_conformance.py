"""Cloud Functions conformance through emu's router, against one real ``emu up``.

The 17 functions-framework-conformance events (``tests/fixtures/conformance-events``, copied with their licence note),
each sent in its own format and in the other one, to a CloudEvent function and a
legacy ``(data, context)`` function; CloudEvents go in binary and in structured
content mode. The functions write what they received to a file, and the fields
the conformance README lists are compared: times as instants, any non-2xx
answer a failure. Then the HTTP echo, the typed echo, and the concurrency check.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import pytest
import requests
from cloudevents.http import CloudEvent, to_binary, to_structured

from conftest import EmuProcess

# A copy of the shared fixtures (Apache-2.0, see their README), so a fresh clone can run them.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conformance-events"
# The brief's client API is cloudevents.http's, which warns that it moved to cloudevents.conversion.
pytestmark = pytest.mark.filterwarnings("ignore:to_(binary|structured) is deprecated")

EVENTS = sorted(p.name[: -len("-legacy-input.json")] for p in FIXTURES.glob("*-legacy-input.json"))

CONFIG = """
functions:
  ce:
    provider: gcp
    runtime: python311
    entry_point: write_cloud_event
    code: ./conformance
    signature: cloudevent
    environment: {EVENT_FILE: ../received.json}
  legacy:
    provider: gcp
    runtime: python311
    entry_point: write_legacy_event
    code: ./conformance
    signature: event
    generation: 1
    environment: {EVENT_FILE: ../received.json}
  typed:
    provider: gcp
    runtime: python311
    entry_point: typed_echo
    code: ./conformance
  web:
    provider: gcp
    runtime: python311
    entry_point: echo
    code: ./http
  packed:
    provider: gcp
    runtime: python311
    entry_point: slow
    code: ./http
    concurrency: 10
    max_instances: 1
  spread:
    provider: gcp
    runtime: python311
    entry_point: slow
    code: ./http
    concurrency: 1
    max_instances: 10
"""


class Conformance:
    def __init__(self, emu: EmuProcess) -> None:
        self.emu = emu
        # The functions run in their code folder and write one level up.
        self.event_file = emu.root / "received.json"

    def send(self, function: str, headers: dict[str, str], body: bytes | str) -> Any:
        """POST an event to ``function`` and return what the function wrote down."""
        self.event_file.unlink(missing_ok=True)
        response = requests.post(f"{self.emu.url}/{function}", headers=headers, data=body, timeout=30)
        assert 200 <= response.status_code < 300, f"HTTP {response.status_code}: {response.text}\n{self.emu.log()}"
        return json.loads(self.event_file.read_text())


@pytest.fixture(scope="module")
def conformance(emu_module_server: Callable[..., EmuProcess]) -> Conformance:
    return Conformance(emu_module_server(CONFIG, {"conformance": "gcp_conformance", "http": "gcp_http"}))


@pytest.fixture
def emu(conformance: Conformance) -> EmuProcess:
    return conformance.emu


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def cloudevent_request(doc: dict[str, Any], mode: str) -> tuple[dict[str, str], bytes]:
    event = CloudEvent({k: v for k, v in doc.items() if k != "data"}, doc.get("data"))
    return (to_binary if mode == "binary" else to_structured)(event)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_cloudevent(got: dict[str, Any], expected: dict[str, Any]) -> None:
    for key in ("id", "source", "subject", "type", "datacontenttype"):
        assert got.get(key) == expected.get(key), key
    assert instant(got["time"]) == instant(expected["time"])
    assert got["data"] == expected["data"]


def assert_legacy(got: dict[str, Any], expected: dict[str, Any]) -> None:
    context, want = got["context"], expected["context"]
    assert context["eventId"] == want.get("eventId", want.get("event_id"))
    assert context["eventType"] == want.get("eventType", want.get("event_type"))
    assert context["resource"] == want["resource"]
    assert instant(context["timestamp"]) == instant(want["timestamp"])
    assert got["data"] == expected["data"]


# -- CloudEvent function ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.parametrize("event", EVENTS)
def test_cloudevent_function_gets_a_cloudevent(conformance: Conformance, event: str, mode: str) -> None:
    sent = load(f"{event}-cloudevent-input.json")
    headers, body = cloudevent_request(sent, mode)
    assert_cloudevent(conformance.send("ce", headers, body), sent)


@pytest.mark.parametrize("event", EVENTS)
def test_cloudevent_function_gets_a_converted_legacy_event(conformance: Conformance, event: str) -> None:
    body = (FIXTURES / f"{event}-legacy-input.json").read_bytes()
    got = conformance.send("ce", {"Content-Type": "application/json"}, body)
    assert_cloudevent(got, load(f"{event}-cloudevent-output.json"))


# -- legacy function -------------------------------------------------------------


@pytest.mark.parametrize("event", EVENTS)
def test_legacy_function_gets_a_legacy_event(conformance: Conformance, event: str) -> None:
    body = (FIXTURES / f"{event}-legacy-input.json").read_bytes()
    got = conformance.send("legacy", {"Content-Type": "application/json"}, body)
    assert_legacy(got, load(f"{event}-legacy-output.json"))


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.parametrize("event", EVENTS)
def test_legacy_function_gets_a_converted_cloudevent(conformance: Conformance, event: str, mode: str) -> None:
    headers, body = cloudevent_request(load(f"{event}-cloudevent-input.json"), mode)
    converted = FIXTURES / f"{event}-legacy-output-converted.json"
    expected = load(converted.name if converted.exists() else f"{event}-legacy-output.json")
    assert_legacy(conformance.send("legacy", headers, body), expected)


def test_every_fixture_is_covered() -> None:
    assert len(EVENTS) == 17
    for event in EVENTS:
        for suffix in ("legacy-input", "legacy-output", "cloudevent-input", "cloudevent-output"):
            assert (FIXTURES / f"{event}-{suffix}.json").is_file()


# -- HTTP and typed functions ----------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH"])
def test_http_request_and_response_pass_through_unchanged(emu: EmuProcess, method: str) -> None:
    body = "" if method == "GET" else f"body of a {method}"
    response = requests.request(
        method,
        f"{emu.url}/web/orders/42/items?a=1&b=two%20words&a=3",
        headers={"X-Trace": "abc", "Content-Type": "text/plain"},
        data=body,
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Set-Cookie"] == "a=1"
    echo = response.json()
    assert echo["method"] == method
    assert echo["path"] == "/orders/42/items"  # the function's name is not part of its path
    assert echo["query"] == "a=1&b=two%20words&a=3"
    assert echo["headers"]["x-trace"] == "abc"
    assert echo["headers"]["content-type"] == "text/plain"
    assert echo["body"] == body


def test_http_root_path_and_function_status(emu: EmuProcess) -> None:
    assert requests.get(f"{emu.url}/web", timeout=10).json()["path"] == "/"
    assert requests.get(f"{emu.url}/web/", timeout=10).json()["path"] == "/"

    response = requests.put(f"{emu.url}/web/x?status=418", data=b"teapot", timeout=10)
    assert response.status_code == 418
    assert response.headers["X-Custom"] == "yes"
    assert response.content == b"teapot"


def test_typed_function_echoes_a_typed_value(emu: EmuProcess) -> None:
    response = requests.post(f"{emu.url}/typed", json={"name": "ada", "count": 41}, timeout=10)
    assert response.status_code == 200, response.text
    assert json.loads(response.text) == {"name": "ADA", "count": 42}


# -- concurrency -----------------------------------------------------------------


def _burst(url: str, n: int) -> tuple[float, list[dict]]:
    began = time.monotonic()
    with ThreadPoolExecutor(n) as pool:
        responses = list(pool.map(lambda _: requests.get(url, timeout=30), range(n)))
    elapsed = time.monotonic() - began
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    return elapsed, [r.json() for r in responses]


@pytest.mark.parametrize("function, instances", [("packed", 1), ("spread", 10)])
def test_ten_parallel_one_second_requests_take_about_as_long_as_one(emu: EmuProcess, function: str, instances: int) -> None:
    url = f"{emu.url}/{function}?sleep=1"
    _burst(url, 10)  # warm-up: cold starts are not what this measures
    single, _ = _burst(url, 1)
    parallel, bodies = _burst(url, 10)

    assert parallel < 2 * single, f"10 parallel took {parallel:.2f} s, one took {single:.2f} s"
    assert len({body["pid"] for body in bodies}) == instances
    assert len(emu.environments(function)) == instances
