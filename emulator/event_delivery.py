"""Getting an ``emu event`` sample to a running emu, over HTTP, and reading what came back.

``emu event`` decides what to send; this module sends it and reports the outcome
as a ``Delivered`` (a body for stdout, one summary line, an exit code) or raises
``EventError`` with a one-line reason. It never prints: ``event_cli`` does.

Where an event goes:

- to one AWS function: the Lambda Invoke API (RequestResponse). A function error
  is a result, not a failure: its payload is shown and the exit code is 1.
- to one GCP function: ``POST /{name}`` with the CloudEvent in binary mode, as
  Eventarc delivers it, or the legacy JSON body for a 1st-gen ``event`` function.
- Pub/Sub, to the topic's subscribers: the REST publish endpoint.
- Cloud Storage, to the bucket's subscribers: emu's stand-in upload (``finalized``)
  and delete (``deleted``) under ``/_emu/gcs/``.
- AWS, to the functions whose triggers match: ``POST /_emu/events/aws/{source}``
  with the event as JSON. The emu answers 200 and ``{"functions": [names]}``, an
  empty list meaning nobody subscribes; a 404 or 405 means it has no such endpoint.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote

import requests

from emulator.config.model import FunctionSpec
from emulator.events.samples import GcpSample

_CONNECT_TIMEOUT_S = 5.0
# Longer than any function may run (Lambda's 900 s, Cloud Functions' 3600 s for HTTP).
_READ_TIMEOUT_S = 3700.0


class EventError(Exception):
    """Why an event could not be made or delivered: one line, and the exit code to leave with."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class Delivered:
    """What became of a delivered event: the answer's body, one line about it, the exit code."""

    body: bytes
    summary: str
    exit_code: int = 0


class EmuClient:
    """The emu at ``url``. Every way it can fail to answer becomes an ``EventError``."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._session = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(method, self.url + path, timeout=(_CONNECT_TIMEOUT_S, _READ_TIMEOUT_S), **kwargs)
        except requests.ConnectionError as exc:
            raise EventError(f"no emu answers at {self.url}: start one with `emu up`, or point --url at it") from exc
        except requests.Timeout as exc:
            raise EventError(f"the emu at {self.url} did not answer in time") from exc
        except requests.RequestException as exc:  # a URL requests cannot even try, e.g. no scheme
            raise EventError(f"cannot use --url {self.url}: {exc}", 2) from exc

    def function(self, name: str) -> dict[str, Any]:
        """How the emu describes function ``name`` in ``GET /_emu/functions``."""
        response = self.request("GET", "/_emu/functions")
        try:
            functions = {f["name"]: f for f in response.json()["functions"]} if response.status_code == 200 else None
        except (ValueError, KeyError, TypeError):
            functions = None
        if functions is None:
            raise EventError(f"{self.url} does not answer like emu (GET /_emu/functions gave {response.status_code})")
        if name not in functions:
            served = ", ".join(sorted(functions)) or "no functions"
            raise EventError(f"no function {name!r} in the emu at {self.url} (it serves {served})")
        return functions[name]


def _message(body: bytes) -> str:
    """The message in an error body: Lambda's ``Message``/``message``, Google's ``error.message``."""
    try:
        doc = json.loads(body)
        if isinstance(doc.get("error"), dict):
            doc = doc["error"]
        return str(doc.get("Message") or doc.get("message") or doc)
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace").strip() or "(no message)"


# -- one function ----------------------------------------------------------------------------------


def to_function(emu: EmuClient, name: str, source: str, sample: dict[str, Any] | GcpSample, legacy: bool, spec: FunctionSpec | None) -> Delivered:
    """``sample`` to function ``name`` alone. ``spec`` is the local config's view of it, if any."""
    described = emu.function(name)
    cloud = "gcp" if isinstance(sample, GcpSample) else "aws"
    provider = described.get("provider")
    if provider != cloud:
        raise EventError(f"{name} is {'an' if provider == 'aws' else 'a'} {provider} function; {source} events go to {cloud} functions", 2)
    if isinstance(sample, GcpSample):
        return _post_event(emu, name, sample, legacy or _takes_legacy(described, spec))
    return _invoke(emu, name, sample)


def _invoke(emu: EmuClient, name: str, event: dict[str, Any]) -> Delivered:
    response = emu.request(
        "POST",
        f"/2015-03-31/functions/{quote(name, safe='')}/invocations",
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json"},
    )
    error_type = response.headers.get("x-amzn-ErrorType")
    if response.status_code != 200 or error_type:
        kind = f" {error_type}" if error_type else ""
        raise EventError(f"invoking {name} failed: {response.status_code}{kind}: {_message(response.content)}")
    function_error = response.headers.get("X-Amz-Function-Error")
    summary = f"{name}: StatusCode {response.status_code}" + (f", FunctionError {function_error}" if function_error else "")
    return Delivered(response.content, summary, 1 if function_error else 0)


def _takes_legacy(described: Mapping[str, Any], spec: FunctionSpec | None) -> bool:
    """Whether a GCP function is a 1st-gen ``event`` function: as the emu says, else as the config says."""
    if "signature" in described:
        return described["signature"] == "event"
    if spec is not None and spec.provider == "gcp":
        from emulator.runtimes.gcp_python import signature_of

        return signature_of(spec) == "event"
    # A CloudEvent is safe either way: functions-framework converts one for a legacy function.
    return False


def _post_event(emu: EmuClient, name: str, sample: GcpSample, legacy: bool) -> Delivered:
    if legacy:
        headers = {"Content-Type": "application/json"}
        body = sample.legacy
    else:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in sample.cloud_event.binary_headers()}
        body = sample.cloud_event.data
    response = emu.request("POST", f"/{quote(name, safe='')}", data=body, headers=headers)
    form = "legacy event" if legacy else "CloudEvent"
    summary = f"{name}: {response.status_code} {response.reason} ({form})"
    return Delivered(response.content, summary, 0 if response.status_code < 400 else 1)


# -- subscribers -----------------------------------------------------------------------------------


def publish(emu: EmuClient, project: str, topic: str, data: bytes, attributes: Mapping[str, str]) -> Delivered:
    """One message on ``topic``, through Pub/Sub's REST publish endpoint."""
    name = f"projects/{project}/topics/{topic}"
    message: dict[str, Any] = {"data": base64.b64encode(data).decode("ascii")}
    if attributes:
        message["attributes"] = dict(attributes)
    response = emu.request("POST", f"/v1/{quote(name)}:publish", json={"messages": [message]})
    if response.status_code != 200:
        raise EventError(f"publishing to {name} failed: {response.status_code}: {_message(response.content)}")
    return Delivered(response.content, f"published to {name}")


def gcs_change(emu: EmuClient, kind: str, bucket: str, name: str, data: bytes, content_type: str | None) -> Delivered:
    """An object change in emu's stand-in bucket, which raises it to the bucket's subscribers."""
    where = f"gs://{bucket}/{name}"
    path = f"/_emu/gcs/{quote(bucket, safe='')}/{quote(name, safe='/')}"
    if kind == "finalized":
        response = emu.request("POST", path, data=data, headers={"Content-Type": content_type} if content_type else {})
        done = f"uploaded {where} ({len(data)} bytes) to the emu's stand-in bucket"
    elif kind == "deleted":
        response = emu.request("DELETE", path)
        if response.status_code == 404:
            raise EventError(f"{where} is not in the emu's stand-in bucket: upload it first (emu event gcs finalized), or send to one function with --to")
        done = f"deleted {where} from the emu's stand-in bucket"
    else:
        raise EventError(f"gcs {kind} events go to one function at a time: add --to FUNCTION (the stand-in bucket raises only finalized and deleted)", 2)
    if response.status_code >= 300:
        raise EventError(f"{where}: the emu answered {response.status_code}: {_message(response.content)}")
    return Delivered(response.content, done)


def aws_subscribers(emu: EmuClient, source: str, event: dict[str, Any]) -> Delivered:
    """An AWS event to the functions whose triggers match it, as the emu decides."""
    response = emu.request("POST", f"/_emu/events/aws/{quote(source, safe='')}", json=event)
    if response.status_code in (404, 405):
        raise EventError(
            f"the emu at {emu.url} cannot hand {source} events to subscribers (no POST /_emu/events/aws/{source}): "
            "send to one function with --to FUNCTION"
        )
    if response.status_code >= 300:
        raise EventError(f"the emu refused the {source} event: {response.status_code}: {_message(response.content)}")
    try:
        functions = response.json().get("functions") or []
    except (ValueError, AttributeError):
        functions = []
    if not functions:
        raise EventError(f"no function subscribes to this {source} event: add a trigger, or send to one function with --to FUNCTION")
    return Delivered(response.content, f"sent to {', '.join(map(str, functions))}")
