"""Google Cloud event builders, from plain data.

Three outside judges: the functions-framework conformance fixtures, the
``cloudevents`` SDK (both HTTP content modes must parse), and functions-framework's
own ``event_conversion``, which must turn each legacy body into the CloudEvent we
build for the same inputs, and each binary CloudEvent back into the legacy body.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from cloudevents.http import from_http
from functions_framework import event_conversion
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from emulator.wire import gcp_events as ge
from emulator.wire.gcp_events import CloudEvent

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conformance-events"

# The conventions every conformance fixture uses.
EVENT_ID = "aaaaaa-1111-bbbb-2222-cccccccccccc"
WHEN = datetime(2020, 9, 29, 11, 32, 0, 123000, tzinfo=timezone.utc)
WHEN_TEXT = "2020-09-29T11:32:00.123Z"

KINDS = ["finalized", "deleted", "archived", "metadataUpdated"]


def fixture(name: str) -> dict[str, Any]:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"conformance fixtures not found at {FIXTURES}")
    return json.loads(path.read_text())


def as_request(headers: list[tuple[bytes, bytes]], body: bytes, path: str = "/") -> Request:
    """A real Werkzeug request, the kind functions-framework hands to event_conversion."""
    builder = EnvironBuilder(path=path, method="POST", data=body)
    for name, value in headers:
        builder.headers[name.decode()] = value.decode()
    return Request(builder.get_environ())


def legacy_request(body: bytes) -> Request:
    return as_request([(b"content-type", b"application/json")], body)


def published(**overrides: Any) -> CloudEvent:
    args: dict[str, Any] = dict(
        project="sample-project",
        topic="gcf-test",
        data=b"This is a sample message",
        attributes={"attribute1": "value1"},
        ordering_key=None,
        message_id=EVENT_ID,
        publish_time=WHEN,
        subscription="sample-subscription",
    )
    return ge.pubsub_message_published(**(args | overrides))


def legacy_published(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(
        project="sample-project",
        topic="gcf-test",
        data=b"This is a sample message",
        attributes={"attribute1": "value1"},
        ordering_key=None,
        message_id=EVENT_ID,
        publish_time=WHEN,
    )
    return json.loads(ge.pubsub_legacy_event(**(args | overrides)))


def storage_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(
        kind="finalized",
        project="sample-project",
        bucket="some-bucket",
        name="folder/Test.cs",
        data=b"hello",
        content_type="text/plain",
        generation=1587627537231057,
        metageneration=1,
        time=WHEN,
        event_id=EVENT_ID,
    )
    return args | overrides


def object_data(event: CloudEvent) -> dict[str, Any]:
    return json.loads(event.data)


# --- checksums ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", 0x00000000),
        (b"123456789", 0xE3069283),  # the CRC catalogue's check value for CRC-32C
        (b"The quick brown fox jumps over the lazy dog", 0x22620404),
        # RFC 3720 appendix B.4 (iSCSI), 32-byte vectors:
        (bytes(32), 0x8A9136AA),
        (b"\xff" * 32, 0x62A8AB43),
        (bytes(range(32)), 0x46DD794E),
        (bytes(range(31, -1, -1)), 0x113FDB5C),
    ],
)
def test_crc32c_known_vectors(data: bytes, expected: int) -> None:
    assert ge.crc32c(data) == expected


def test_crc32c_continues_across_chunks() -> None:
    assert ge.crc32c(b"6789", ge.crc32c(b"12345")) == 0xE3069283


def test_object_hashes_are_base64_md5_and_big_endian_crc32c() -> None:
    data = object_data(ge.storage_object_event(**storage_args(data=b"123456789")))
    assert data["crc32c"] == base64.b64encode(bytes.fromhex("e3069283")).decode() == "4waSgw=="
    assert data["md5Hash"] == base64.b64encode(hashlib.md5(b"123456789").digest()).decode()
    hello = object_data(ge.storage_object_event(**storage_args(data=b"hello")))
    assert hello["md5Hash"] == "XUFAKrxLKna5cZ2REBfFkg=="  # md5("hello") = 5d41402a…
    assert hello["size"] == "5"


@pytest.mark.parametrize(
    ("generation", "metageneration", "etag"),
    [
        (1587627537231057, 1, "CNHZkbuF/ugCEAE="),  # conformance storage fixture
        (1588778055917163, 1, "COu8mb3Dn+kCEAE="),  # google-cloudevents StorageObjectData sample
    ],
)
def test_etag_matches_real_objects(generation: int, metageneration: int, etag: str) -> None:
    event = ge.storage_object_event(**storage_args(generation=generation, metageneration=metageneration))
    assert object_data(event)["etag"] == etag


# --- times and media types ------------------------------------------------------------------


def test_times_are_utc_with_milliseconds_and_z() -> None:
    assert ge.format_time(WHEN) == WHEN_TEXT
    assert ge.format_time(datetime(2021, 1, 2, 3, 4, 5, 678999, tzinfo=timezone.utc)) == "2021-01-02T03:04:05.678Z"
    assert ge.format_time(datetime(2021, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "2021-01-02T03:04:05.000Z"
    plus_two = timezone(timedelta(hours=2))
    assert ge.format_time(datetime(2021, 1, 2, 5, 4, 5, tzinfo=plus_two)) == "2021-01-02T03:04:05.000Z"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        ge.format_time(datetime(2021, 1, 2, 3, 4, 5))


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/cloudevents+json", True),
        ("application/vnd.api+json;v=1", True),
        ("text/plain", False),
        ("application/octet-stream", False),
        ("application/jsonl", False),
        ("", False),
        (None, False),
    ],
)
def test_is_json(content_type: str | None, expected: bool) -> None:
    assert ge.is_json(content_type) is expected


# --- CloudEvent renderings ------------------------------------------------------------------


def test_binary_headers_in_order() -> None:
    event = CloudEvent(
        id="1",
        source="//x/y",
        type="t.v1",
        subject="objects/a",
        time=WHEN_TEXT,
        datacontenttype="application/json",
        data=b"{}",
        extensions={"bucket": "b", "traceparent": "00-1-2-01"},
    )
    assert event.binary_headers() == [
        (b"ce-id", b"1"),
        (b"ce-source", b"//x/y"),
        (b"ce-type", b"t.v1"),
        (b"ce-specversion", b"1.0"),
        (b"ce-subject", b"objects/a"),
        (b"ce-time", WHEN_TEXT.encode()),
        (b"ce-bucket", b"b"),
        (b"ce-traceparent", b"00-1-2-01"),
        (b"content-type", b"application/json"),
    ]


def test_binary_headers_leave_out_absent_subject_and_content_type() -> None:
    names = [name for name, _ in CloudEvent(id="1", source="s", type="t", time=WHEN_TEXT).binary_headers()]
    assert names == [b"ce-id", b"ce-source", b"ce-type", b"ce-specversion", b"ce-time"]


def test_binary_header_values_are_percent_encoded_as_the_http_binding_requires() -> None:
    event = CloudEvent(id="1", source="s", type="t", time=WHEN_TEXT, subject='objects/a b"100%"/é.txt')
    (value,) = [v for name, v in event.binary_headers() if name == b"ce-subject"]
    assert value == b"objects/a%20b%22100%25%22/%C3%A9.txt"
    assert unquote(value.decode()) == event.subject


@pytest.mark.parametrize("name", ["Bucket", "my-ext", "", "id", "data", "é"])
def test_extension_names_must_be_lowercase_alphanumeric_and_not_core(name: str) -> None:
    with pytest.raises(ValueError):
        CloudEvent(id="1", source="s", type="t", time=WHEN_TEXT, extensions={name: "v"})


def test_structured_body_embeds_json_data() -> None:
    event = CloudEvent(
        id="1", source="s", type="t", subject="x", time=WHEN_TEXT,
        datacontenttype="application/json", data=b'{"a":[1,2]}', extensions={"bucket": "b"},
    )
    assert json.loads(event.structured_body()) == {
        "specversion": "1.0", "id": "1", "source": "s", "type": "t", "subject": "x", "time": WHEN_TEXT,
        "datacontenttype": "application/json", "bucket": "b", "data": {"a": [1, 2]},
    }


@pytest.mark.parametrize(
    ("content_type", "data"),
    [("application/octet-stream", b"\x00\x01\xff"), (None, b"plain"), ("application/json", b"not json{")],
)
def test_structured_body_carries_other_bytes_as_data_base64(content_type: str | None, data: bytes) -> None:
    event = CloudEvent(id="1", source="s", type="t", time=WHEN_TEXT, datacontenttype=content_type, data=data)
    body = json.loads(event.structured_body())
    assert "data" not in body
    assert base64.b64decode(body["data_base64"]) == data


def test_structured_body_without_data_has_neither_data_member() -> None:
    body = json.loads(CloudEvent(id="1", source="s", type="t", time=WHEN_TEXT).structured_body())
    assert "data" not in body and "data_base64" not in body and "subject" not in body


def _sdk_events(event: CloudEvent) -> list[Any]:
    binary = from_http({k.decode(): v.decode() for k, v in event.binary_headers()}, event.data)
    structured = from_http({"content-type": ge.STRUCTURED_CONTENT_TYPE.decode()}, event.structured_body())
    return [binary, structured]


@pytest.mark.parametrize(
    "event",
    [
        published(),
        ge.storage_object_event(**storage_args()),
        ge.storage_object_event(**storage_args(kind="deleted", data=None)),
    ],
    ids=["pubsub", "storage-finalized", "storage-deleted"],
)
def test_both_content_modes_parse_with_the_cloudevents_sdk(event: CloudEvent) -> None:
    for parsed in _sdk_events(event):
        assert parsed["id"] == event.id
        assert parsed["source"] == event.source
        assert parsed["type"] == event.type
        assert parsed["specversion"] == "1.0"
        assert parsed.get("subject") == event.subject
        assert parsed["time"] == event.time
        assert parsed["datacontenttype"] == event.datacontenttype
        for name, value in event.extensions.items():
            assert parsed[name] == value
        assert parsed.data == json.loads(event.data)


def test_binary_data_survives_both_content_modes() -> None:
    payload = b"\x00\x01\xfe\xff"
    event = CloudEvent(id="1", source="s", type="t", time=WHEN_TEXT, datacontenttype="application/octet-stream", data=payload)
    for parsed in _sdk_events(event):
        assert parsed.data == payload


# --- Pub/Sub --------------------------------------------------------------------------------


def test_message_published_attributes() -> None:
    event = published()
    assert event.id == EVENT_ID
    assert event.type == "google.cloud.pubsub.topic.v1.messagePublished"
    assert event.source == "//pubsub.googleapis.com/projects/sample-project/topics/gcf-test"
    assert event.subject is None
    assert event.time == WHEN_TEXT
    assert event.datacontenttype == "application/json"
    assert event.specversion == "1.0"
    assert event.extensions == {}


def test_message_published_data_carries_both_spellings() -> None:
    assert json.loads(published().data) == {
        "message": {
            "data": "VGhpcyBpcyBhIHNhbXBsZSBtZXNzYWdl",
            "attributes": {"attribute1": "value1"},
            "messageId": EVENT_ID,
            "message_id": EVENT_ID,
            "publishTime": WHEN_TEXT,
            "publish_time": WHEN_TEXT,
        },
        "subscription": "projects/sample-project/subscriptions/sample-subscription",
    }


def test_message_published_omits_empty_attributes_and_adds_ordering_key() -> None:
    message = json.loads(published(attributes={}, ordering_key="customer-7").data)["message"]
    assert "attributes" not in message
    assert message["orderingKey"] == "customer-7"


def test_message_published_keeps_a_full_subscription_name() -> None:
    data = json.loads(published(subscription="projects/other/subscriptions/s").data)
    assert data["subscription"] == "projects/other/subscriptions/s"


def test_message_published_matches_the_conformance_cloudevent() -> None:
    expected = fixture("legacy_pubsub-cloudevent-input.json")
    event = published()
    for name in ("id", "source", "type", "datacontenttype"):
        assert getattr(event, name) == expected[name]
    assert event.subject is None and "subject" not in expected
    assert _instant(event.time) == _instant(expected["time"])
    ours = json.loads(event.data)
    assert ours["subscription"] == expected["data"]["subscription"]
    # Every field the fixture's message has (bar the "@type" annotation, which real pushes lack).
    for name, value in expected["data"]["message"].items():
        if name != "@type":
            assert ours["message"][name] == value


@pytest.mark.parametrize(
    ("name", "data", "attributes"),
    [
        ("pubsub_text-legacy-input.json", b"test message 3", {"attr1": "attr1-value"}),
        ("pubsub_binary-legacy-input.json", b"\x01\x02\x03\x04", {}),
        ("legacy_pubsub-legacy-output-converted.json", b"This is a sample message", {"attribute1": "value1"}),
    ],
)
def test_legacy_pubsub_matches_the_conformance_fixtures(name: str, data: bytes, attributes: dict[str, str]) -> None:
    assert legacy_published(data=data, attributes=attributes) == fixture(name)


def test_legacy_pubsub_carries_an_ordering_key() -> None:
    assert legacy_published(ordering_key="k")["data"]["orderingKey"] == "k"


@pytest.mark.parametrize("ordering_key", [None, "customer-7"])
@pytest.mark.parametrize("attributes", [{}, {"a": "1", "b": "2"}])
def test_functions_framework_converts_legacy_pubsub_into_our_cloudevent(
    attributes: dict[str, str], ordering_key: str | None
) -> None:
    ours = published(attributes=attributes, ordering_key=ordering_key, data=b"\x00payload")
    body = ge.pubsub_legacy_event(
        "sample-project", "gcf-test", b"\x00payload", attributes, ordering_key, EVENT_ID, WHEN
    )
    converted = event_conversion.background_event_to_cloud_event(legacy_request(body))
    _assert_same_attributes(converted, ours)
    message = json.loads(ours.data)["message"]
    # The conversion knows nothing of subscriptions or the snake_case copies; everything it does know agrees.
    for name, value in converted.data["message"].items():
        if name != "@type":
            assert message[name] == value, name
    assert set(message) - set(converted.data["message"]) == {"message_id", "publish_time"}


def test_functions_framework_converts_our_pubsub_cloudevent_into_our_legacy_context() -> None:
    event = published()
    data, context = event_conversion.cloud_event_to_background_event(as_request(event.binary_headers(), event.data))
    expected = legacy_published()
    assert {
        "eventId": context.event_id,
        "timestamp": context.timestamp,
        "eventType": context.event_type,
        "resource": context.resource,
    } == expected["context"]
    assert data["data"] == expected["data"]["data"]
    assert data["attributes"] == expected["data"]["attributes"]


# --- Cloud Storage --------------------------------------------------------------------------


def test_finalized_attributes() -> None:
    event = ge.storage_object_event(**storage_args())
    assert event.id == EVENT_ID
    assert event.type == "google.cloud.storage.object.v1.finalized"
    assert event.source == "//storage.googleapis.com/projects/_/buckets/some-bucket"
    assert event.subject == "objects/folder/Test.cs"
    assert event.time == WHEN_TEXT
    assert event.datacontenttype == "application/json"
    assert event.extensions == {"bucket": "some-bucket"}


def test_finalized_object_data() -> None:
    assert object_data(ge.storage_object_event(**storage_args())) == {
        "kind": "storage#object",
        "id": "some-bucket/folder/Test.cs/1587627537231057",
        "selfLink": "https://www.googleapis.com/storage/v1/b/some-bucket/o/folder%2FTest.cs",
        "mediaLink": (
            "https://www.googleapis.com/download/storage/v1/b/some-bucket/o/folder%2FTest.cs"
            "?generation=1587627537231057&alt=media"
        ),
        "name": "folder/Test.cs",
        "bucket": "some-bucket",
        "generation": "1587627537231057",
        "metageneration": "1",
        "contentType": "text/plain",
        "storageClass": "STANDARD",
        "size": "5",
        "md5Hash": "XUFAKrxLKna5cZ2REBfFkg==",
        "crc32c": base64.b64encode(ge.crc32c(b"hello").to_bytes(4, "big")).decode(),
        "etag": "CNHZkbuF/ugCEAE=",
        "timeCreated": WHEN_TEXT,
        "updated": WHEN_TEXT,
        "timeStorageClassUpdated": WHEN_TEXT,
    }


def test_object_data_matches_the_conformance_fixture_where_it_can() -> None:
    expected = fixture("storage-cloudevent-input.json")
    event = ge.storage_object_event(**storage_args())
    for name in ("id", "source", "subject", "type", "datacontenttype"):
        assert getattr(event, name) == expected[name]
    ours = object_data(event)
    # Same names and value types; storageClass and selfLink differ on purpose (see the module).
    assert set(expected["data"]) == set(ours)
    for name in ("bucket", "contentType", "etag", "generation", "id", "kind", "mediaLink", "metageneration", "name"):
        assert ours[name] == expected["data"][name], name
    assert all(isinstance(value, str) for value in ours.values())


def test_object_without_content_type_is_octet_stream() -> None:
    data = object_data(ge.storage_object_event(**storage_args(content_type=None)))
    assert data["contentType"] == "application/octet-stream"


def test_deleted_without_bytes_leaves_out_size_and_hashes() -> None:
    event = ge.storage_object_event(**storage_args(kind="deleted", data=None))
    assert event.type == "google.cloud.storage.object.v1.deleted"
    data = object_data(event)
    assert not {"size", "md5Hash", "crc32c", "timeDeleted"} & set(data)


def test_deleted_with_bytes_keeps_size_and_hashes() -> None:
    data = object_data(ge.storage_object_event(**storage_args(kind="deleted", data=b"hello")))
    assert (data["size"], data["md5Hash"]) == ("5", "XUFAKrxLKna5cZ2REBfFkg==")
    assert "timeDeleted" not in data


def test_archived_carries_time_deleted_and_keeps_creation_time() -> None:
    created = WHEN - timedelta(days=3)
    data = object_data(ge.storage_object_event(**storage_args(kind="archived", created=created)))
    assert data["timeDeleted"] == WHEN_TEXT
    assert data["timeCreated"] == data["updated"] == ge.format_time(created)


def test_metadata_updated_moves_updated_but_not_creation() -> None:
    created = WHEN - timedelta(hours=1)
    event = ge.storage_object_event(**storage_args(kind="metadataUpdated", metageneration=2, created=created))
    data = object_data(event)
    assert event.type == "google.cloud.storage.object.v1.metadataUpdated"
    assert (data["timeCreated"], data["updated"], data["metageneration"]) == (ge.format_time(created), WHEN_TEXT, "2")


def test_unknown_storage_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        ge.storage_object_event(**storage_args(kind="created"))


@pytest.mark.parametrize(
    ("kind", "event_type"),
    [
        ("finalized", "google.storage.object.finalize"),
        ("deleted", "google.storage.object.delete"),
        ("archived", "google.storage.object.archive"),
        ("metadataUpdated", "google.storage.object.metadataUpdate"),
    ],
)
def test_legacy_storage_event(kind: str, event_type: str) -> None:
    body = json.loads(ge.storage_legacy_event(**storage_args(kind=kind)))
    assert body["context"] == {
        "eventId": EVENT_ID,
        "timestamp": WHEN_TEXT,
        "eventType": event_type,
        "resource": {
            "service": "storage.googleapis.com",
            "name": "projects/_/buckets/some-bucket/objects/folder/Test.cs",
            "type": "storage#object",
        },
    }
    assert body["data"] == object_data(ge.storage_object_event(**storage_args(kind=kind)))


def test_legacy_storage_context_matches_the_conformance_fixture() -> None:
    body = json.loads(ge.storage_legacy_event(**storage_args()))
    assert body["context"] == fixture("storage-legacy-input.json")["context"]


@pytest.mark.parametrize("kind", KINDS)
def test_functions_framework_converts_legacy_storage_into_our_cloudevent(kind: str) -> None:
    args = storage_args(kind=kind, name="deep/path/to/a file.txt", data=None if kind == "deleted" else b"x" * 1000)
    converted = event_conversion.background_event_to_cloud_event(legacy_request(ge.storage_legacy_event(**args)))
    ours = ge.storage_object_event(**args)
    _assert_same_attributes(converted, ours)
    assert converted.data == object_data(ours)


@pytest.mark.parametrize("kind", KINDS)
def test_functions_framework_converts_our_storage_cloudevent_into_our_legacy_event(kind: str) -> None:
    event = ge.storage_object_event(**storage_args(kind=kind))
    data, context = event_conversion.cloud_event_to_background_event(as_request(event.binary_headers(), event.data))
    expected = json.loads(ge.storage_legacy_event(**storage_args(kind=kind)))
    assert data == expected["data"]
    assert {
        "eventId": context.event_id,
        "timestamp": context.timestamp,
        "eventType": context.event_type,
        "resource": context.resource,
    } == expected["context"]


def _assert_same_attributes(converted: Any, ours: CloudEvent) -> None:
    """The CloudEvent fields the conformance suite compares (its README), plus specversion."""
    assert converted["id"] == ours.id
    assert converted["source"] == ours.source
    assert converted["type"] == ours.type
    assert converted.get("subject") == ours.subject
    assert converted["datacontenttype"] == ours.datacontenttype
    assert converted["specversion"] == ours.specversion
    assert _instant(converted["time"]) == _instant(ours.time)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
