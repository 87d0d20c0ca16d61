"""``Emu``: a running emu as a test drives it. The pytest plugin's ``emu`` fixture is one.

Everything goes over emu's public surfaces (the Invoke API, Pub/Sub's REST API,
SNS, the GCS stand-in, ``/_emu/...``), so a test sees what a client would.

Each test gets its own ``Emu`` (``for_test``) that remembers where the records
and the log stood when it began: ``invocations``, ``wait_for`` and ``logs`` see
only what happened since, even though the emu process is shared by the session.

``invoke`` returns an ``InvokeResult`` rather than raising on a function error: a
failing handler is a result a test may well want to assert on (as in Lambda, where
it is a 200 with ``X-Amz-Function-Error``). ``result.raise_for_error()`` turns it
into a ``FunctionFailed`` naming the error type, message and log.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote

import requests

_TIMEOUT = (5.0, 960.0)  # connect; read: longer than any Lambda may run
_POLL_S = 0.05
_NO_AUTH_SNS = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0"


class FunctionFailed(AssertionError):
    """A function's invocation failed; the message has its error and its log."""


@dataclass(frozen=True, slots=True)
class InvokeResult:
    """What an invocation gave: the payload (parsed JSON where it is JSON), and on failure the error."""

    function: str
    status_code: int
    raw: bytes
    payload: Any
    function_error: str | None  # Lambda's X-Amz-Function-Error ("Unhandled"); "HTTP 500" for a GCP function
    request_id: str
    log: str

    @property
    def ok(self) -> bool:
        return self.function_error is None

    @property
    def error_type(self) -> str | None:
        return self.payload.get("errorType") if self.function_error and isinstance(self.payload, dict) else None

    @property
    def error_message(self) -> str | None:
        return self.payload.get("errorMessage") if self.function_error and isinstance(self.payload, dict) else None

    def raise_for_error(self) -> InvokeResult:
        """``self`` when the function succeeded; else ``FunctionFailed`` with its error and log."""
        if self.function_error is None:
            return self
        what = self.error_type or self.function_error
        message = self.error_message or self.raw.decode("utf-8", "replace")
        raise FunctionFailed(f"{self.function} failed ({what}): {message}\n--- log ---\n{self.log}")


class _RootedSession(requests.Session):
    """A session whose relative URLs (``/path``, ``path``) are under ``root``."""

    def __init__(self, root: str) -> None:
        super().__init__()
        self.root = root.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        text = url.decode() if isinstance(url, bytes) else url
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
            text = self.root + ("" if text.startswith("/") or not text else "/") + text
        kwargs.setdefault("timeout", _TIMEOUT)
        return super().request(method, text, *args, **kwargs)


class Emu:
    def __init__(self, url: str, region: str | None = None) -> None:
        self.url = url.rstrip("/")
        self._region = region
        self._session = requests.Session()
        self._since_seq = 0
        self._since_line = 0
        self._clients: dict[str, Any] = {}

    def for_test(self) -> Emu:
        """A view of the same emu that sees only what happens from now on."""
        view = Emu(self.url, self._region)
        view._session = self._session
        view._clients = self._clients
        latest = self._get("/_emu/invocations", limit=1)["invocations"]
        view._since_seq = latest[0]["seq"] if latest else 0
        lines = self._get("/_emu/logs", lines=1)["lines"]
        view._since_line = lines[-1]["seq"] if lines else 0
        return view

    # -- plumbing -----------------------------------------------------------------

    def _get(self, path: str, **params: Any) -> Any:
        response = self._session.get(self.url + path, params=params, timeout=_TIMEOUT)
        response.raise_for_status()
        return response.json()

    @property
    def region(self) -> str:
        """The AWS region emu's settings name (ARNs carry it)."""
        if self._region is None:
            self._region = str(self._get("/_emu/health").get("region") or "us-east-1")
        return self._region

    def functions(self) -> dict[str, dict[str, Any]]:
        """``GET /_emu/functions``: each function's configuration, triggers and environments, by name."""
        return {f["name"]: f for f in self._get("/_emu/functions")["functions"]}

    def _function(self, name: str) -> dict[str, Any]:
        functions = self.functions()
        if name not in functions:
            raise LookupError(f"no function {name!r} in the emu at {self.url} (it serves {', '.join(functions) or 'none'})")
        return functions[name]

    # -- AWS ------------------------------------------------------------------------

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for ``service`` (lambda, s3, sqs, sns) pointed at emu: dummy credentials, no retries."""
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise RuntimeError("emu's boto3 clients need boto3: pip install boto3") from exc
        options: dict[str, Any] = {"retries": {"max_attempts": 0}, "read_timeout": _TIMEOUT[1], **config}
        if service == "s3":
            options.setdefault("s3", {"addressing_style": "path"})
        return boto3.client(
            service, endpoint_url=self.url, region_name=self.region, aws_access_key_id="test",
            aws_secret_access_key="test", config=Config(**options),
        )

    def lambda_client(self, **config: Any) -> Any:
        return self.client("lambda", **config)

    def invoke(self, name: str, event: Any = None) -> InvokeResult:
        """Invoke ``name`` with ``event`` (JSON) and wait for the result.

        A Lambda function goes through the Invoke API; a GCP function gets ``event``
        as a JSON POST to ``/{name}``. The log is the invocation's record's.
        """
        body = json.dumps({} if event is None else event).encode()
        if self._function(name)["provider"] == "gcp":
            response = self._session.post(f"{self.url}/{quote(name)}", data=body, headers={"Content-Type": "application/json"}, timeout=_TIMEOUT)
            request_id = response.headers.get("function-execution-id", "")
            error = f"HTTP {response.status_code}" if response.status_code >= 500 else None
        else:
            response = self._session.post(
                f"{self.url}/2015-03-31/functions/{quote(name)}/invocations", data=body,
                headers={"X-Amz-Log-Type": "Tail"}, timeout=_TIMEOUT,
            )
            if response.status_code != 200:  # emu refused it: not a function error but an API one
                raise FunctionFailed(f"invoking {name} gave HTTP {response.status_code}: {response.text}")
            request_id = response.headers.get("x-amzn-requestid", "")
            error = response.headers.get("x-amz-function-error")
        return InvokeResult(name, response.status_code, response.content, _parsed(response.content), error, request_id,
                            self._log_of(request_id, response.headers.get("x-amz-log-result")))

    def _log_of(self, request_id: str, tail: str | None) -> str:
        if request_id:
            response = self._session.get(f"{self.url}/_emu/invocations/{quote(request_id)}", timeout=_TIMEOUT)
            if response.status_code == 200:
                return str(response.json().get("log", ""))
        return base64.b64decode(tail).decode("utf-8", "replace") if tail else ""

    # -- events -----------------------------------------------------------------------

    def http(self, name: str) -> requests.Session:
        """A requests session rooted where ``name`` answers HTTP: a GCP function's ``/{name}``,
        a Lambda Function URL, or, for a function behind API Gateway routes, emu's root
        (routes are absolute paths): ``emu.http("web").get("/path")``."""
        function = self._function(name)
        if function["provider"] == "gcp":
            return _RootedSession(f"{self.url}/{quote(name)}")
        triggers = function.get("triggers", [])
        if "url" in triggers:
            return _RootedSession(f"{self.url}/lambda-url/{quote(name)}")
        if any(t.startswith("api ") for t in triggers):
            return _RootedSession(self.url)
        raise LookupError(f"{name} has no HTTP endpoint: give it an api event or url: true (or use invoke)")

    def publish(self, topic: str, data: bytes | str | Any, attributes: Mapping[str, str] | None = None) -> list[str]:
        """Publish one message to ``topic``: to the SNS topic and/or Pub/Sub topic of that name that
        functions subscribe to (Pub/Sub when none does). ``data`` that is not bytes or text goes as JSON.
        The message ids."""
        payload = data if isinstance(data, (bytes, str)) else json.dumps(data)
        functions = self.functions().values()
        sns = any(f"sns {topic}" in f.get("triggers", []) for f in functions)
        pubsub = [f for f in functions if f"pubsub {topic}" in f.get("triggers", [])]
        ids: list[str] = []
        if sns:
            ids.append(self._publish_sns(topic, payload, attributes or {}))
        if pubsub or not sns:
            project = pubsub[0].get("project") if pubsub else "emu-project"
            raw = payload.encode() if isinstance(payload, str) else payload
            message: dict[str, Any] = {"data": base64.b64encode(raw).decode()}
            if attributes:
                message["attributes"] = dict(attributes)
            response = self._session.post(f"{self.url}/v1/projects/{project}/topics/{quote(topic)}:publish",
                                          json={"messages": [message]}, timeout=_TIMEOUT)
            response.raise_for_status()
            ids.extend(response.json()["messageIds"])
        return ids

    def _publish_sns(self, topic: str, message: bytes | str, attributes: Mapping[str, str]) -> str:
        headers = {"Authorization": _NO_AUTH_SNS}
        listed = self._session.post(self.url + "/", data={"Action": "ListTopics"}, headers=headers, timeout=_TIMEOUT)
        arns = [a for a in re.findall(r"<TopicArn>([^<]+)</TopicArn>", listed.text) if a.rsplit(":", 1)[-1] == topic]
        if not arns:
            raise LookupError(f"emu serves no SNS topic {topic!r}")
        form = {"Action": "Publish", "TopicArn": arns[0],
                "Message": message.decode() if isinstance(message, bytes) else message}
        for n, (key, value) in enumerate(attributes.items(), 1):
            form[f"MessageAttributes.entry.{n}.Name"] = key
            form[f"MessageAttributes.entry.{n}.Value.DataType"] = "String"
            form[f"MessageAttributes.entry.{n}.Value.StringValue"] = value
        response = self._session.post(self.url + "/", data=form, headers=headers, timeout=_TIMEOUT)
        if response.status_code != 200:
            raise RuntimeError(f"SNS Publish to {topic} gave HTTP {response.status_code}: {response.text}")
        found = re.search(r"<MessageId>([^<]+)</MessageId>", response.text)
        return found.group(1) if found else ""

    def upload(self, bucket: str, key: str, data: bytes | str, content_type: str | None = None) -> None:
        """Write an object to a local bucket, raising its S3 and Cloud Storage triggers (one folder serves both)."""
        raw = data.encode() if isinstance(data, str) else data
        response = self._session.post(self._object(bucket, key), data=raw, timeout=_TIMEOUT,
                                      headers={"Content-Type": content_type} if content_type else {})
        if response.status_code >= 300:
            raise RuntimeError(f"upload of {bucket}/{key} gave HTTP {response.status_code}: {response.text}")

    def delete(self, bucket: str, key: str) -> None:
        """Remove an object from a local bucket, raising its delete triggers."""
        response = self._session.delete(self._object(bucket, key), timeout=_TIMEOUT)
        if response.status_code >= 300:
            raise RuntimeError(f"delete of {bucket}/{key} gave HTTP {response.status_code}: {response.text}")

    def _object(self, bucket: str, key: str) -> str:
        return f"{self.url}/_emu/gcs/{quote(bucket, safe='')}/{quote(key, safe='/')}"

    # -- records ------------------------------------------------------------------------

    def invocations(self, name: str | None = None) -> list[dict[str, Any]]:
        """Records of ``name``'s invocations (every function's, without a name) since this test began, oldest first.

        Each is ``/_emu/invocations``' JSON: id, function, trigger, cold, init_ms,
        duration_ms, billed_ms, outcome, error_type, report…
        """
        params: dict[str, Any] = {"since": self._since_seq, "limit": 1000}
        if name is not None:
            params["function"] = name
        return list(reversed(self._get("/_emu/invocations", **params)["invocations"]))

    def invocation(self, id: str) -> dict[str, Any]:
        """One record, with its log."""
        return dict(self._get(f"/_emu/invocations/{quote(id)}"))

    def wait_for(self, name: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until ``name`` has been invoked ``count`` times since this test began (asynchronous
        triggers); those records, oldest first. ``AssertionError`` with what was seen on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.invocations(name)
            if len(seen) >= count:
                return seen
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{name} was invoked {len(seen)} time(s) in {timeout:g} s, not {count}; its log since the test began:\n"
                    + self.logs(name)
                )
            time.sleep(_POLL_S)

    def logs(self, name: str | None = None) -> str:
        """What ``name`` (every function, without a name) wrote since this test began, as the terminal shows it."""
        params: dict[str, Any] = {"lines": 2000}
        if name is not None:
            params["function"] = name
        lines = [line for line in self._get("/_emu/logs", **params)["lines"] if line["seq"] > self._since_line]
        return "".join(line["text"] + "\n" for line in lines)


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
