"""S3's REST wire, sans-io: error bodies, listings as XML, aws-chunked bodies, Range headers.

The one place storage errors become status codes and S3's XML error shape
(docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html); one table, one row
per code emu answers with. Listing is decided here from keys alone (``page_of``),
so the surface reads only the objects a page shows.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping, Sequence
from urllib.parse import quote
from xml.sax.saxutils import escape

from emulator import errors

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XML = (b"content-type", b"application/xml")

# S3 error codes: code -> (HTTP status, S3's own message).
ERRORS: Mapping[str, tuple[int, str]] = {
    "NoSuchBucket": (404, "The specified bucket does not exist"),
    "NoSuchKey": (404, "The specified key does not exist."),
    "InvalidArgument": (400, "Invalid Argument"),
    "InvalidBucketName": (400, "The specified bucket is not valid."),
    "KeyTooLongError": (400, "Your key is too long"),
    "InvalidRange": (416, "The requested range is not satisfiable"),
    "IncompleteBody": (400, "You did not provide the number of bytes specified by the Content-Length HTTP header."),
    "EntityTooLarge": (400, "Your proposed upload exceeds the maximum allowed size"),
    "MalformedXML": (400, "The XML you provided was not well-formed or did not validate against our published schema"),
    "MethodNotAllowed": (405, "The specified method is not allowed against this resource."),
    "NotImplemented": (501, "A header you provided implies functionality that is not implemented"),
}


def error_for(exc: errors.StorageError) -> tuple[str, str]:
    """(S3 code, message) for a storage error."""
    if isinstance(exc, errors.NoSuchBucket):
        return "NoSuchBucket", ERRORS["NoSuchBucket"][1]
    if isinstance(exc, errors.NoSuchKey):
        return "NoSuchKey", ERRORS["NoSuchKey"][1]
    if isinstance(exc, errors.InvalidObjectKey) and "at most 1024" in exc.reason:
        return "KeyTooLongError", ERRORS["KeyTooLongError"][1]
    return "InvalidArgument", str(exc)


def request_ids() -> list[tuple[bytes, bytes]]:
    """The ids S3 puts on every response, as headers."""
    return [
        (b"x-amz-request-id", secrets.token_hex(8).upper().encode()),
        (b"x-amz-id-2", base64.b64encode(secrets.token_bytes(48))),
    ]


def error_body(code: str, message: str | None = None, **resource: str | None) -> tuple[int, bytes]:
    """(status, body) of an S3 error; ``resource`` adds fields such as BucketName or Key."""
    status, default = ERRORS[code]
    fields = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in resource.items() if value is not None)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message or default)}</Message>{fields}"
        f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>"
    )
    return status, body.encode()


def iso(moment: datetime) -> str:
    """``2024-05-01T10:00:00.000Z``: how S3 XML prints a time."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- listing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListPage:
    keys: list[str]
    common_prefixes: list[str]
    is_truncated: bool
    last: str | None  # the last key or common prefix on the page: where the next one starts


def page_of(keys: Iterable[str], prefix: str, delimiter: str, max_keys: int, after: str = "") -> ListPage:
    """One page of a listing: ``keys`` in S3's order, past ``after``, rolled up at ``delimiter``."""
    after_b = after.encode()
    found: list[str] = []
    prefixes: list[str] = []
    last: str | None = None
    for key in keys:
        if not key.startswith(prefix) or key.encode() <= after_b:
            continue
        entry, rolled = key, False
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                entry, rolled = key[: cut + len(delimiter)], True
                if (prefixes and prefixes[-1] == entry) or entry.encode() <= after_b:
                    continue  # its common prefix is already on this page, or was on an earlier one
        if len(found) + len(prefixes) >= max_keys:
            return ListPage(found, prefixes, max_keys > 0, last)
        (prefixes if rolled else found).append(entry)
        last = entry
    return ListPage(found, prefixes, False, last)


def continuation_token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode()).decode()


def after_token(token: str) -> str:
    """The key a continuation token continues after; ValueError if it is not one of ours."""
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("The continuation token provided is incorrect") from exc


@dataclass(frozen=True, slots=True)
class Listed:
    key: str
    modified: datetime
    etag: str
    size: int


def list_objects_xml(
    bucket: str,
    page: ListPage,
    objects: Sequence[Listed],
    params: Mapping[str, str | None],
    url_encode: bool,
) -> bytes:
    """ListBucketResult (V2 when ``params`` has KeyCount) with ``params`` as given, in order."""
    enc = (lambda text: quote(text, safe="/")) if url_encode else (lambda text: text)
    encoded = {"Prefix", "Delimiter", "StartAfter", "Marker", "NextMarker"}
    parts = [f"<Name>{escape(bucket)}</Name>"]
    for name, value in params.items():
        if value is not None:
            parts.append(f"<{name}>{escape(enc(value) if name in encoded else value)}</{name}>")
    for obj in objects:
        parts.append(
            f"<Contents><Key>{escape(enc(obj.key))}</Key><LastModified>{iso(obj.modified)}</LastModified>"
            f"<ETag>&quot;{obj.etag}&quot;</ETag><Size>{obj.size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
        )
    for common in page.common_prefixes:
        parts.append(f"<CommonPrefixes><Prefix>{escape(enc(common))}</Prefix></CommonPrefixes>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{NAMESPACE}">' + "".join(parts) + "</ListBucketResult>").encode()


def list_buckets_xml(buckets: Iterable[tuple[str, datetime]], owner: str) -> bytes:
    entries = "".join(f"<Bucket><Name>{escape(name)}</Name><CreationDate>{iso(created)}</CreationDate></Bucket>" for name, created in buckets)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="{NAMESPACE}">'
        f"<Owner><ID>{escape(owner)}</ID><DisplayName>emu</DisplayName></Owner><Buckets>{entries}</Buckets></ListAllMyBucketsResult>"
    ).encode()


def deleted_xml(deleted: Iterable[str], quiet: bool) -> bytes:
    entries = "" if quiet else "".join(f"<Deleted><Key>{escape(key)}</Key></Deleted>" for key in deleted)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="{NAMESPACE}">{entries}</DeleteResult>'.encode()


def location_xml(region: str) -> bytes:
    # us-east-1 is the one region S3 reports as an empty LocationConstraint.
    value = "" if region == "us-east-1" else escape(region)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="{NAMESPACE}">{value}</LocationConstraint>'.encode()


# -- request bodies and headers ---------------------------------------------------------------

_CHUNK_HEAD = re.compile(rb"([0-9a-fA-F]+)(;[^\r\n]*)?\r\n")


def decode_aws_chunked(body: bytes) -> bytes:
    """The payload of an ``aws-chunked`` body (SigV4 streaming, signed or not, trailers dropped).

    Each chunk is ``hex-size[;chunk-signature=...]\\r\\n<bytes>\\r\\n``; a zero-size chunk
    ends the data and any trailing checksum headers follow it. ValueError if malformed.
    """
    out = bytearray()
    at = 0
    while True:
        head = _CHUNK_HEAD.match(body, at)
        if head is None:
            raise ValueError("malformed aws-chunked body")
        size = int(head[1], 16)
        at = head.end()
        if size == 0:
            return bytes(out)
        if at + size + 2 > len(body) or body[at + size : at + size + 2] != b"\r\n":
            raise ValueError("aws-chunked body ends inside a chunk")
        out += body[at : at + size]
        at += size + 2


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte a Range header asks for; None: the whole object.

    A header S3 ignores (several ranges, bad syntax) is None too; ValueError when the
    range is not satisfiable (416).
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match[1] and not match[2]):
        return None
    if not match[1]:  # the last N bytes
        length = int(match[2])
        if length == 0:
            raise ValueError("empty suffix range")
        return max(0, size - length), size - 1
    first = int(match[1])
    last = int(match[2]) if match[2] else size - 1
    if first >= size or last < first:
        raise ValueError("range starts past the end")
    return first, min(last, size - 1)
