"""A small S3 REST API over the local buckets, path-style, for functions' own SDK calls.

    GET    /                            ListBuckets
    PUT    /{bucket}                    CreateBucket (a folder under buckets_dir)
    HEAD   /{bucket}                    HeadBucket
    GET    /{bucket}?list-type=2        ListObjectsV2 (prefix, delimiter, max-keys, start-after,
                                        continuation-token, encoding-type=url); without
                                        list-type, ListObjects (marker)
    GET    /{bucket}?location           GetBucketLocation
    POST   /{bucket}?delete             DeleteObjects
    PUT    /{bucket}/{key}              PutObject (plain or aws-chunked body; Content-Type and
                                        x-amz-meta-* kept in the object's sidecar)
    GET    /{bucket}/{key}              GetObject (Range honoured)
    HEAD   /{bucket}/{key}              HeadObject
    DELETE /{bucket}/{key}              DeleteObject

Anything else on a bucket (multipart uploads, copies, ACLs, tagging) is S3's
501 NotImplemented. Signatures are not checked. Boto3 reaches this API through
``endpoint_url`` or ``AWS_ENDPOINT_URL_S3`` (which emu sets in every Lambda
environment); with an IP-address endpoint (``http://127.0.0.1:PORT``) botocore
addresses buckets path-style by itself.

Which requests are S3's (``claims``): S3 shares ``/{first}/...`` with Cloud
Functions (``/{name}``) and API Gateway routes, so a request is S3's when its first
segment is a bucket emu knows and either it is signed for S3 (an SDK call: the
SigV4 credential scope names the ``s3`` service) or no function or route claims the
path; a request signed for S3 to an unknown bucket is S3's too (CreateBucket, or
NoSuchBucket). So an SDK call always reaches S3, and a plain ``curl`` reaches a
function named like a bucket. A request signed for another service (an API
Gateway route with IAM auth, SQS and SNS on ``POST /``) is never S3's.

PutObject and DeleteObject go through ``LocalBuckets``, which delivers the S3 and
GCS events once, in the chain the request's ``X-Amzn-Trace-Id`` names (loop_guard).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, Callable
from urllib.parse import parse_qs

from emulator.errors import InvalidObjectKey, NoSuchBucket, StorageError
from emulator.events.bucket_store import BUCKET_NAME, ObjectInfo
from emulator.events.buckets import LocalBuckets
from emulator.events.loop_guard import Chain, parse_trace_header
from emulator.surfaces.asgi import BodyTooLarge, Headers, Receive, Scope, Send, header, http_date, read_body
from emulator.wire import s3_xml

# PutObject takes up to 5 GB in one request; emu holds a body in memory, so less.
PUT_LIMIT = 512 * 1024 * 1024
_DELETE_LIMIT = 2 * 1024 * 1024
DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 stores when a PutObject names none
# Sub-resources (query parameters) that make a bucket or object request another operation.
_UNSUPPORTED = ("uploads", "uploadId", "partNumber", "acl", "tagging", "versioning", "policy", "cors", "lifecycle", "versionId", "restore", "select", "attributes")


def is_signed(scope: Scope) -> bool:
    """Whether a request is an AWS SDK's call to S3: signed for the ``s3`` service (SigV4's
    credential scope, in the Authorization header or a presigned URL's query), or SigV2."""
    auth = header(scope, b"authorization") or ""
    if auth.startswith("AWS "):
        return True
    if auth.startswith("AWS4-HMAC-SHA256 "):
        return "/s3/aws4_request" in auth
    query: bytes = scope.get("query_string", b"")
    return b"X-Amz-Credential=" in query and (b"%2Fs3%2Faws4_request" in query or b"/s3/aws4_request" in query)


def first_segment(path: str) -> str:
    return path[1:].split("/", 1)[0]


class S3Surface:
    def __init__(self, buckets: LocalBuckets, region: Callable[[], str], owner: Callable[[], str]) -> None:
        self.buckets = buckets
        self._region = region
        self._owner = owner

    def claims(self, scope: Scope, elsewhere: bool) -> bool:
        """Whether the request is S3's (see the module's docstring); ``elsewhere``: a function or route claims it."""
        path: str = scope["path"]
        if path == "/":
            return scope["method"] == "GET" and is_signed(scope)  # ListBuckets
        bucket = first_segment(path)
        if not is_signed(scope):
            return not elsewhere and self.buckets.is_known(bucket)
        return self.buckets.is_known(bucket) or (not elsewhere and BUCKET_NAME.fullmatch(bucket) is not None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        bucket, _, key = scope["path"][1:].partition("/")
        query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True).items()}
        try:
            if any(name in query for name in _UNSUPPORTED):
                await self._error(scope, send, "NotImplemented", f"emu's S3 does not implement this operation ({method} with ?{'&'.join(query)})")
            elif not bucket:
                await self._list_buckets(scope, send)
            elif not key:
                await self._bucket(scope, receive, send, method, bucket, query)
            else:
                await self._object(scope, receive, send, method, bucket, key)
        except StorageError as exc:
            code, message = s3_xml.error_for(exc)
            await self._error(scope, send, code, message, BucketName=exc.bucket if code == "NoSuchBucket" else None, Key=exc.key if code == "NoSuchKey" else None)

    # -- buckets ------------------------------------------------------------------

    async def _list_buckets(self, scope: Scope, send: Send) -> None:
        if scope["method"] != "GET":
            await self._error(scope, send, "MethodNotAllowed")
            return
        store = self.buckets.store
        entries = []
        for name in store.buckets():
            try:
                entries.append((name, _created(store.bucket_dir(name).stat().st_mtime)))
            except OSError:
                continue
        await self._send(send, 200, [s3_xml.XML], s3_xml.list_buckets_xml(entries, self._owner()))

    async def _bucket(self, scope: Scope, receive: Receive, send: Send, method: str, bucket: str, query: dict[str, str]) -> None:
        if method == "PUT":
            if not BUCKET_NAME.fullmatch(bucket):
                await self._error(scope, send, "InvalidBucketName", BucketName=bucket)
                return
            await read_body(receive, _DELETE_LIMIT)  # a CreateBucketConfiguration, if any: the region is emu's
            self.buckets.store.create_bucket(bucket)
            await self._send(send, 200, [(b"location", f"/{bucket}".encode())], b"")
            return
        if not self.buckets.is_known(bucket):
            raise NoSuchBucket(bucket)
        if method == "HEAD":
            await self._send(send, 200, [(b"x-amz-bucket-region", self._region().encode())], b"", head=True)
        elif method == "GET" and "location" in query:
            await self._send(send, 200, [s3_xml.XML], s3_xml.location_xml(self._region()))
        elif method == "GET":
            await self._list(scope, send, bucket, query)
        elif method == "POST" and "delete" in query:
            await self._delete_objects(scope, receive, send, bucket)
        else:
            await self._error(scope, send, "NotImplemented", f"emu's S3 does not implement {method} on a bucket")

    async def _list(self, scope: Scope, send: Send, bucket: str, query: dict[str, str]) -> None:
        v2 = query.get("list-type") == "2"
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter", "")
        try:
            max_keys = max(0, min(1000, int(query.get("max-keys", "1000"))))
        except ValueError:
            await self._error(scope, send, "InvalidArgument", "Provided max-keys not an integer or within integer range", ArgumentName="max-keys")
            return
        token = query.get("continuation-token")
        try:
            after = s3_xml.after_token(token) if v2 and token else query.get("start-after" if v2 else "marker", "")
        except ValueError as exc:
            await self._error(scope, send, "InvalidArgument", str(exc), ArgumentName="continuation-token")
            return
        store = self.buckets.store
        infos = {info.key: info for info in store.keys(bucket, prefix)}
        page = s3_xml.page_of(infos, prefix, delimiter, max_keys, after)
        listed = []
        for key in page.keys:
            info = infos[key]
            try:
                listed.append(s3_xml.Listed(key, info.modified, store.etag(info), info.size))
            except OSError:  # removed while listing
                continue
        url = query.get("encoding-type") == "url"
        params: dict[str, str | None] = {"Prefix": prefix}
        if v2:
            next_token = s3_xml.continuation_token(page.last) if page.is_truncated and page.last else None
            params.update({
                "KeyCount": str(len(listed) + len(page.common_prefixes)),
                "MaxKeys": str(max_keys),
                "Delimiter": delimiter or None,
                "EncodingType": "url" if url else None,
                "IsTruncated": "true" if page.is_truncated else "false",
                "ContinuationToken": token,
                "NextContinuationToken": next_token,
                "StartAfter": query.get("start-after"),
            })
        else:
            params.update({
                "Marker": query.get("marker", ""),
                "NextMarker": page.last if page.is_truncated and delimiter else None,
                "MaxKeys": str(max_keys),
                "Delimiter": delimiter or None,
                "EncodingType": "url" if url else None,
                "IsTruncated": "true" if page.is_truncated else "false",
            })
        await self._send(send, 200, [s3_xml.XML], s3_xml.list_objects_xml(bucket, page, listed, params, url))

    async def _delete_objects(self, scope: Scope, receive: Receive, send: Send, bucket: str) -> None:
        try:
            root = ElementTree.fromstring(await read_body(receive, _DELETE_LIMIT))
        except (BodyTooLarge, ElementTree.ParseError):
            await self._error(scope, send, "MalformedXML")
            return
        ns = {"s3": s3_xml.NAMESPACE}
        keys = [el.text or "" for el in root.findall("s3:Object/s3:Key", ns) + root.findall("Object/Key")]
        quiet = (root.findtext("s3:Quiet", namespaces=ns) or root.findtext("Quiet") or "").lower() == "true"
        chain = self._chain(scope)
        for key in keys:
            try:
                self.buckets.delete(bucket, key, chain)
            except InvalidObjectKey:
                continue  # no such object can exist: deleting it is done
        await self._send(send, 200, [s3_xml.XML], s3_xml.deleted_xml(keys, quiet))

    # -- objects ------------------------------------------------------------------

    async def _object(self, scope: Scope, receive: Receive, send: Send, method: str, bucket: str, key: str) -> None:
        if method == "PUT":
            await self._put(scope, receive, send, bucket, key)
        elif method in ("GET", "HEAD"):
            await self._get(scope, send, bucket, key, head=method == "HEAD")
        elif method == "DELETE":
            if not self.buckets.is_known(bucket):
                raise NoSuchBucket(bucket)
            try:
                self.buckets.delete(bucket, key, self._chain(scope))
            except InvalidObjectKey:
                pass  # S3 answers 204 for a key that is not there, and this one cannot be
            await self._send(send, 204, [], b"")
        else:
            await self._error(scope, send, "MethodNotAllowed", Method=method, ResourceType="OBJECT")

    async def _put(self, scope: Scope, receive: Receive, send: Send, bucket: str, key: str) -> None:
        if header(scope, b"x-amz-copy-source"):
            await self._error(scope, send, "NotImplemented", "emu's S3 does not implement CopyObject; GetObject then PutObject")
            return
        try:
            body = await read_body(receive, PUT_LIMIT)
        except BodyTooLarge:
            await self._error(scope, send, "EntityTooLarge")
            return
        encoding = header(scope, b"content-encoding") or ""
        if "aws-chunked" in encoding or (header(scope, b"x-amz-content-sha256") or "").startswith("STREAMING-"):
            try:
                body = s3_xml.decode_aws_chunked(body)
            except ValueError:
                await self._error(scope, send, "IncompleteBody")
                return
            declared = header(scope, b"x-amz-decoded-content-length")
            if declared is not None and declared.isdigit() and int(declared) != len(body):
                await self._error(scope, send, "IncompleteBody")
                return
        metadata = {k[11:].decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k.startswith(b"x-amz-meta-")}
        info = self.buckets.put(bucket, key, body, header(scope, b"content-type"), metadata, self._chain(scope))
        await self._send(send, 200, [(b"etag", f'"{self.buckets.store.etag(info)}"'.encode())], b"")

    async def _get(self, scope: Scope, send: Send, bucket: str, key: str, head: bool) -> None:
        store = self.buckets.store
        try:
            if head:
                info, data = store.head(bucket, key), b""
            else:
                info, data = store.read(bucket, key)
        except StorageError as exc:
            if head:  # a HEAD error has no body: the status says it all
                code, _ = s3_xml.error_for(exc)
                await self._send(send, s3_xml.ERRORS[code][0], [], b"", head=True)
                return
            raise
        headers = _object_headers(info, store.etag(info))
        status = 200
        try:
            span = s3_xml.byte_range(header(scope, b"range"), info.size)
        except ValueError:
            await self._error(scope, send, "InvalidRange", RangeRequested=header(scope, b"range"))
            return
        length = info.size
        if span is not None:
            first, last = span
            status, length = 206, last - first + 1
            data = data[first : last + 1] if not head else b""
            headers.append((b"content-range", f"bytes {first}-{last}/{info.size}".encode()))
        await self._send(send, status, headers, data, head=head, length=length)

    # -- helpers ------------------------------------------------------------------

    @staticmethod
    def _chain(scope: Scope) -> Chain:
        # A request without a trace header is no function's: it starts a chain of its own.
        return parse_trace_header(header(scope, b"x-amzn-trace-id")) or Chain()

    async def _error(self, scope: Scope, send: Send, code: str, message: str | None = None, **resource: Any) -> None:
        status, body = s3_xml.error_body(code, message, **resource)
        await self._send(send, status, [s3_xml.XML], body, head=scope["method"] == "HEAD")

    @staticmethod
    async def _send(send: Send, status: int, headers: Headers, body: bytes, head: bool = False, length: int | None = None) -> None:
        headers = [*headers, *s3_xml.request_ids(), (b"date", http_date())]
        if status != 204:
            headers.append((b"content-length", b"%d" % (len(body) if length is None else length)))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})


def _created(mtime: float) -> datetime:
    return datetime.fromtimestamp(mtime, timezone.utc)


def _object_headers(info: ObjectInfo, etag: str) -> Headers:
    headers: Headers = [
        (b"content-type", (info.content_type or DEFAULT_CONTENT_TYPE).encode("latin-1", "replace")),
        (b"etag", f'"{etag}"'.encode()),
        (b"last-modified", format_datetime(info.modified.replace(microsecond=0), usegmt=True).encode()),
        (b"accept-ranges", b"bytes"),
    ]
    headers += [(b"x-amz-meta-" + k.encode("latin-1", "replace"), v.encode("latin-1", "replace")) for k, v in info.metadata.items()]
    return headers
