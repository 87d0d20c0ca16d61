"""Local buckets on disk: a folder per bucket, a file per object, and what each was last seen as.

Owns the mapping of an object key to a file, refusing keys that would leave the
bucket's folder (``..``, an absolute path, NUL, empty segments, a symlink out);
writing objects whole (a temporary file renamed into place, so neither a reader
nor the watcher ever sees half an object); the sidecar that remembers what a
file cannot hold (Content-Type, user metadata); and the index of each object's
last delivered state.

The index is how every change is delivered exactly once, whoever makes it. emu's
own writes (the S3 API, the GCS stand-in) record the new state as they deliver;
the watcher, noticing the same file a moment later, finds it as recorded and
delivers nothing. A change made by anyone else differs from the index, and the
watcher delivers it.

    <buckets_dir>/<bucket>/<key>                  the object's bytes
    <buckets_dir>/.emu-meta/<bucket>/<hash>.json  its sidecar, valid while the file is unchanged
    <buckets_dir>/.emu-tmp/                       writes in progress

Bucket names never start with a dot, so the two dot-folders are never buckets.
Plain synchronous file I/O, called from the event loop: objects here are a
developer's test files, and a write must be recorded before anything else runs.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Iterator, Literal, Mapping

from emulator.errors import InvalidObjectKey, NoSuchBucket, NoSuchKey

META_DIR = ".emu-meta"
TMP_DIR = ".emu-tmp"
# S3 keys and GCS object names are at most 1024 bytes of UTF-8.
MAX_KEY_BYTES = 1024
# Most file systems' NAME_MAX: one key segment becomes one file or folder name.
MAX_SEGMENT_BYTES = 255
# Lowercase letters, digits, '.', '-' and '_', as both clouds allow (S3 has no '_'; the
# config checks each cloud's own rule). A folder named otherwise is not a bucket.
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]")

# Files that are not objects but something's work in progress: editors' swap, backup
# and "safe write" files, and browsers' partial downloads (renamed when complete).
TEMPORARY_SUFFIXES = (
    ".swp", ".swo", ".swx", "~",
    "___jb_tmp___", "___jb_old___",
    ".part", ".crdownload", ".download",
)
TEMPORARY_PREFIXES = (".#", ".~lock.", ".goutputstream-")
TEMPORARY_NAMES = frozenset({"4913", ".DS_Store", "Thumbs.db"})


def is_temporary(name: str) -> bool:
    """Whether a file named ``name`` is an editor's or a download's work in progress."""
    return (
        name in TEMPORARY_NAMES
        or name.endswith(TEMPORARY_SUFFIXES)
        or name.startswith(TEMPORARY_PREFIXES)
        or (len(name) > 1 and name[0] == name[-1] == "#")  # emacs auto-save
    )


def key_segments(bucket: str, key: str) -> tuple[str, ...]:
    """``key`` split into the folder and file names it is stored as; InvalidObjectKey if it cannot be."""
    if not key:
        raise InvalidObjectKey(bucket, key, "a key cannot be empty")
    if "\x00" in key:
        raise InvalidObjectKey(bucket, key, "a key cannot hold NUL")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidObjectKey(bucket, key, f"a key is at most {MAX_KEY_BYTES} bytes")
    if key.startswith("/"):
        raise InvalidObjectKey(bucket, key, "a local bucket's key cannot start with '/'")
    segments = tuple(key.split("/"))
    for segment in segments:
        if segment in ("", ".", ".."):
            # '..' would climb out of the bucket; '' and '.' would name the same file as another key.
            what = f"a {segment!r} segment" if segment else "an empty segment ('//', or '/' at its end)"
            raise InvalidObjectKey(bucket, key, f"a local bucket's key cannot have {what}")
        if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            raise InvalidObjectKey(bucket, key, f"each '/'-separated part is at most {MAX_SEGMENT_BYTES} bytes here")
    return segments


@dataclass(frozen=True, slots=True)
class FileState:
    """What distinguishes one version of a file from the next, without reading it."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileState:
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One object as both clouds describe it."""

    bucket: str
    key: str
    state: FileState
    content_type: str | None  # as written, or guessed from the key; None when neither says
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def size(self) -> int:
        return self.state.size

    @property
    def modified(self) -> datetime:
        return datetime.fromtimestamp(self.state.mtime_ns / 1e9, timezone.utc)

    @property
    def generation(self) -> int:
        """GCS's generation: the write's time in microseconds, as GCS makes it."""
        return self.state.mtime_ns // 1000


Change = Literal["created", "removed"]


@dataclass(frozen=True, slots=True)
class Observed:
    """A change the index had not recorded: an object created (or rewritten) or removed."""

    change: Change
    info: ObjectInfo


class BucketStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._index: dict[tuple[str, str], ObjectInfo] = {}
        self._etags: dict[tuple[str, str], tuple[FileState, str]] = {}

    # -- buckets ----------------------------------------------------------------

    def bucket_dir(self, bucket: str) -> Path:
        return self.root / bucket

    def has_bucket(self, bucket: str) -> bool:
        return BUCKET_NAME.fullmatch(bucket) is not None and self.bucket_dir(bucket).is_dir()

    def create_bucket(self, bucket: str) -> None:
        if not BUCKET_NAME.fullmatch(bucket):
            raise NoSuchBucket(bucket)
        self.bucket_dir(bucket).mkdir(parents=True, exist_ok=True)

    def buckets(self) -> list[str]:
        try:
            with os.scandir(self.root) as entries:
                return sorted(e.name for e in entries if e.is_dir() and BUCKET_NAME.fullmatch(e.name))
        except OSError:
            return []

    def path_of(self, bucket: str, key: str) -> Path:
        """The file that holds ``key``; refuses a key (or a symlink on its way) that leads out of the bucket."""
        segments = key_segments(bucket, key)
        if not self.has_bucket(bucket):
            raise NoSuchBucket(bucket)
        base = self.bucket_dir(bucket)
        path = base.joinpath(*segments)
        real_base = os.path.realpath(base)
        if os.path.commonpath([real_base, os.path.realpath(path)]) != real_base:
            raise InvalidObjectKey(bucket, key, "it leads out of the bucket's folder")
        return path

    # -- emu's own writes ---------------------------------------------------------

    def put(self, bucket: str, key: str, data: bytes, content_type: str | None, metadata: Mapping[str, str] | None = None) -> ObjectInfo:
        """Store ``data`` under ``key`` whole, and record it as delivered."""
        path = self.path_of(bucket, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise InvalidObjectKey(bucket, key, "a part of it is already an object (a folder here cannot also be a file)") from exc
        tmp = self.root / TMP_DIR
        tmp.mkdir(exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except IsADirectoryError as exc:
            raise InvalidObjectKey(bucket, key, "it is a folder of other objects here") from exc
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        state = FileState.of(path.stat())
        self._etags[(bucket, key)] = (state, hashlib.md5(data, usedforsecurity=False).hexdigest())
        info = ObjectInfo(bucket, key, state, content_type or _guess(key), MappingProxyType(dict(metadata or {})))
        self._write_sidecar(info, explicit_type=content_type is not None)
        self._index[(bucket, key)] = info
        return info

    def delete(self, bucket: str, key: str) -> ObjectInfo | None:
        """Remove ``key`` (and folders it leaves empty); its last state, or None when there was none."""
        path = self.path_of(bucket, key)
        try:
            if not path.is_file():  # a folder of other objects is no object
                raise FileNotFoundError(path)
            info = self._info(bucket, key, path, FileState.of(path.stat()))
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            self._index.pop((bucket, key), None)
            return None
        self._sidecar(bucket, key).unlink(missing_ok=True)
        self._index.pop((bucket, key), None)
        self._etags.pop((bucket, key), None)
        base = self.bucket_dir(bucket)
        for parent in path.parents:
            if parent == base:
                break
            try:
                parent.rmdir()  # only if empty: S3 has no folders, so none outlives its last object
            except OSError:
                break
        return info

    # -- reading ------------------------------------------------------------------

    def head(self, bucket: str, key: str) -> ObjectInfo:
        path = self.path_of(bucket, key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise NoSuchKey(bucket, key) from exc
        if not path.is_file():
            raise NoSuchKey(bucket, key)
        return self._info(bucket, key, path, FileState.of(st))

    def read(self, bucket: str, key: str) -> tuple[ObjectInfo, bytes]:
        path = self.path_of(bucket, key)
        try:
            data = path.read_bytes()
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise NoSuchKey(bucket, key) from exc
        state = FileState.of(st)
        if state.size == len(data):
            self._etags[(bucket, key)] = (state, hashlib.md5(data, usedforsecurity=False).hexdigest())
        return self._info(bucket, key, path, state), data

    def etag(self, info: ObjectInfo) -> str:
        """The object's ETag as S3 makes it for a single-part upload: the MD5 of its bytes, in hex."""
        cached = self._etags.get((info.bucket, info.key))
        if cached is not None and cached[0] == info.state:
            return cached[1]
        digest = hashlib.md5(usedforsecurity=False)
        with open(self.bucket_dir(info.bucket).joinpath(*info.key.split("/")), "rb") as source:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
        self._etags[(info.bucket, info.key)] = (info.state, digest.hexdigest())
        return digest.hexdigest()

    def keys(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object in ``bucket`` whose key starts with ``prefix``, in S3's order (UTF-8 bytes)."""
        if not self.has_bucket(bucket):
            raise NoSuchBucket(bucket)
        base = self.bucket_dir(bucket)
        # Walk only the folder the prefix can be in (a prefix is text, not a path: never '..').
        folders = prefix.split("/")[:-1]
        start = base.joinpath(*folders) if folders and all(f not in ("", ".", "..") for f in folders) else base
        if os.path.commonpath([os.path.realpath(base), os.path.realpath(start)]) != os.path.realpath(base):
            start = base
        found: list[tuple[bytes, str, os.stat_result]] = []
        for folder, dirs, files in os.walk(start):
            dirs.sort()
            relative = PurePosixPath(Path(folder).relative_to(base).as_posix())
            for name in files:
                key = name if str(relative) == "." else f"{relative}/{name}"
                if key.startswith(prefix):
                    try:
                        found.append((key.encode("utf-8", "surrogateescape"), key, os.stat(os.path.join(folder, name))))
                    except OSError:  # removed while listing
                        continue
        for _, key, st in sorted(found):
            yield self._info(bucket, key, base.joinpath(*key.split("/")), FileState.of(st))

    # -- the index ----------------------------------------------------------------

    def scan(self, bucket: str) -> int:
        """Record every object now in ``bucket`` as delivered: what was there before emu watched is no change."""
        count = 0
        if self.bucket_dir(bucket).is_dir():
            for info in self.keys(bucket):
                if not any(is_temporary(part) for part in info.key.split("/")):
                    self._index[(bucket, info.key)] = info
                    count += 1
        return count

    def forget(self, bucket: str) -> None:
        for entry in [k for k in self._index if k[0] == bucket]:
            del self._index[entry]

    def observe(self, bucket: str, key: str) -> Observed | None:
        """What happened to ``key`` since it was last recorded, recording it now; None if nothing did."""
        known = self._index.get((bucket, key))
        try:
            path = self.path_of(bucket, key)
            st = path.stat()
            is_file = path.is_file()
        except (OSError, InvalidObjectKey, NoSuchBucket):
            st, is_file = None, False
        if st is None or not is_file:
            if known is None:
                return None
            del self._index[(bucket, key)]
            self._etags.pop((bucket, key), None)
            return Observed("removed", known)
        state = FileState.of(st)
        if known is not None and known.state == state:
            return None
        info = self._info(bucket, key, path, state)
        self._index[(bucket, key)] = info
        return Observed("created", info)

    def observe_folder(self, bucket: str, prefix: str) -> list[Observed]:
        """``observe`` for every object under the folder ``prefix`` (``""``: the whole bucket), present or recorded."""
        folder = prefix.rstrip("/") + "/" if prefix else ""
        keys = {key for b, key in self._index if b == bucket and key.startswith(folder)}
        try:
            keys.update(info.key for info in self.keys(bucket, folder))
        except NoSuchBucket:
            pass
        seen = (self.observe(bucket, key) for key in sorted(keys) if not any(is_temporary(p) for p in key.split("/")))
        return [change for change in seen if change is not None]

    # -- sidecars -----------------------------------------------------------------

    def _sidecar(self, bucket: str, key: str) -> Path:
        return self.root / META_DIR / bucket / (hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40] + ".json")

    def _write_sidecar(self, info: ObjectInfo, explicit_type: bool) -> None:
        sidecar = self._sidecar(info.bucket, info.key)
        if not explicit_type and not info.metadata:
            sidecar.unlink(missing_ok=True)
            return
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "key": info.key,
            "size": info.state.size,
            "mtime_ns": info.state.mtime_ns,
            "content_type": info.content_type,
            "metadata": dict(info.metadata),
        }
        sidecar.write_text(json.dumps(record), encoding="utf-8")

    def _info(self, bucket: str, key: str, path: Path, state: FileState) -> ObjectInfo:
        """The object at ``path`` in ``state``, with what its sidecar remembers if it still describes it."""
        known = self._index.get((bucket, key))
        if known is not None and known.state == state:
            return known
        try:
            record = json.loads(self._sidecar(bucket, key).read_text(encoding="utf-8"))
            if record.get("key") == key and record.get("size") == state.size and record.get("mtime_ns") == state.mtime_ns:
                return ObjectInfo(bucket, key, state, record.get("content_type"), MappingProxyType(dict(record.get("metadata") or {})))
        except (OSError, ValueError, AttributeError):
            pass
        return ObjectInfo(bucket, key, state, _guess(key))


def _guess(key: str) -> str | None:
    return mimetypes.guess_type(key, strict=False)[0]
