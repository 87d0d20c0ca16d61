"""S3's wire with plain data: error rows, listing pages, aws-chunked bodies, ranges."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone

import pytest

from emulator import errors
from emulator.wire import s3_xml

NS = {"s3": s3_xml.NAMESPACE}


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (errors.NoSuchBucket("b"), "NoSuchBucket", 404),
        (errors.NoSuchKey("b", "k"), "NoSuchKey", 404),
        (errors.InvalidObjectKey("b", "../k", "a '..' segment"), "InvalidArgument", 400),
        (errors.InvalidObjectKey("b", "k" * 1025, "a key is at most 1024 bytes"), "KeyTooLongError", 400),
    ],
)
def test_each_storage_error_has_its_s3_code_and_status(error: errors.StorageError, code: str, status: int) -> None:
    got, message = s3_xml.error_for(error)
    assert got == code
    rendered_status, body = s3_xml.error_body(got, message, Key=error.key)
    assert rendered_status == status
    root = ElementTree.fromstring(body)
    assert root.tag == "Error" and root.findtext("Code") == code and root.findtext("RequestId")


def test_an_error_escapes_what_it_quotes() -> None:
    _, body = s3_xml.error_body("NoSuchKey", Key="<a&b>")
    assert ElementTree.fromstring(body).findtext("Key") == "<a&b>"


KEYS = ["a.txt", "photos/2024/x.jpg", "photos/2024/y.jpg", "photos/cat.jpg", "z.txt"]


def test_a_page_rolls_keys_up_at_the_delimiter() -> None:
    page = s3_xml.page_of(KEYS, "", "/", 1000)
    assert page.keys == ["a.txt", "z.txt"] and page.common_prefixes == ["photos/"] and not page.is_truncated
    page = s3_xml.page_of(KEYS, "photos/", "/", 1000)
    assert page.keys == ["photos/cat.jpg"] and page.common_prefixes == ["photos/2024/"]


def test_pages_continue_after_the_last_entry_without_repeating_a_common_prefix() -> None:
    first = s3_xml.page_of(KEYS, "", "/", 2)
    assert first.keys == ["a.txt"] and first.common_prefixes == ["photos/"] and first.is_truncated
    assert first.last == "photos/"
    token = s3_xml.continuation_token(first.last)
    second = s3_xml.page_of(KEYS, "", "/", 2, s3_xml.after_token(token))
    assert second.keys == ["z.txt"] and second.common_prefixes == [] and not second.is_truncated


def test_a_bad_continuation_token_is_refused() -> None:
    with pytest.raises(ValueError):
        s3_xml.after_token("!!!")


def test_the_listing_url_encodes_keys_when_asked() -> None:
    page = s3_xml.page_of(["a b+c.txt"], "", "", 1000)
    listed = [s3_xml.Listed("a b+c.txt", datetime(2024, 5, 1, tzinfo=timezone.utc), "0" * 32, 3)]
    body = s3_xml.list_objects_xml("bkt", page, listed, {"Prefix": "", "KeyCount": "1", "EncodingType": "url"}, url_encode=True)
    root = ElementTree.fromstring(body)
    assert root.findtext("s3:Contents/s3:Key", namespaces=NS) == "a%20b%2Bc.txt"
    assert root.findtext("s3:Contents/s3:ETag", namespaces=NS) == '"' + "0" * 32 + '"'
    assert root.findtext("s3:Contents/s3:LastModified", namespaces=NS) == "2024-05-01T00:00:00.000Z"


def test_aws_chunked_bodies_decode_signed_or_not_with_trailers() -> None:
    unsigned = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    assert s3_xml.decode_aws_chunked(unsigned) == b"hello world"
    signed = b"3;chunk-signature=abc\r\nabc\r\n0;chunk-signature=def\r\n\r\n"
    assert s3_xml.decode_aws_chunked(signed) == b"abc"
    with pytest.raises(ValueError):
        s3_xml.decode_aws_chunked(b"5\r\nhel")
    with pytest.raises(ValueError):
        s3_xml.decode_aws_chunked(b"zz\r\n")


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("bytes=0-3", (0, 3)), ("bytes=5-", (5, 9)), ("bytes=-4", (6, 9)), ("bytes=8-100", (8, 9)), ("bytes=1-2,4-5", None), ("items=0-1", None)],
)
def test_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert s3_xml.byte_range(header, 10) == expected


def test_a_range_past_the_end_is_unsatisfiable() -> None:
    with pytest.raises(ValueError):
        s3_xml.byte_range("bytes=10-", 10)
