"""Watching local buckets' folders: watchdog -> one debounced call per changed path.

Owns which file system events can mean an object changed and when a change is
over. A file being written produces a burst (created, modified..., closed); it is
reported once, after its events have stopped for ``QUIET_S``, and, if it was
written to but not yet closed (a slow copy pausing), only once it is closed or has
been silent for ``SLOW_WRITER_S``. Where the platform reports no closes (macOS),
the quiet rule alone applies after a write. Editors' and downloads' temporary files
(``bucket_store.is_temporary``) are never reported; nor are opens, reads and
attribute changes.

What a change *is* (created, rewritten, removed, nothing at all) is not decided
here: ``on_change(bucket, key, is_folder, noticed)`` hands the path (and the
monotonic time its burst began) to ``LocalBuckets``,
which compares it with the store's index. A folder that came, went or moved is
reported as a folder, for everything under it.

Seams: watchdog's Observer, whose thread hands events to the event loop with
``loop.call_soon_threadsafe``; all timing state lives on the loop.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from watchdog import events
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from emulator.console import Console
from emulator.events.bucket_store import is_temporary

# Writers put a file down in a few system calls within milliseconds; 60 ms of quiet
# means the burst is over, and keeps a drop's event well inside a tenth of a second.
QUIET_S = 0.06
# A file written to and not yet closed is someone mid-copy; wait this long for more.
SLOW_WRITER_S = 1.0

_EVENT_FILTER: list[type[events.FileSystemEvent]] = [
    events.FileCreatedEvent, events.FileModifiedEvent, events.FileClosedEvent, events.FileDeletedEvent,
    events.FileMovedEvent, events.DirCreatedEvent, events.DirDeletedEvent, events.DirMovedEvent,
]
_KINDS = frozenset({"created", "modified", "closed", "deleted", "moved"})

OnChange = Callable[[str, str, bool, float], None]


@dataclass(slots=True)
class _Due:
    first: float  # when the burst began: when the change was noticed
    last: float
    writing: bool = False  # written to since it was last closed

    def due(self, quiet: float, slow: float) -> float:
        return self.last + (slow if self.writing else quiet)


class _Handler(events.FileSystemEventHandler):
    def __init__(self, watcher: BucketWatcher) -> None:
        self._watcher = watcher

    def dispatch(self, event: events.FileSystemEvent) -> None:
        self._watcher._from_thread(event)


class BucketWatcher:
    def __init__(self, on_change: OnChange, console: Console, quiet: float = QUIET_S, slow: float = SLOW_WRITER_S) -> None:
        self._on_change = on_change
        self._console = console
        self._quiet = quiet
        self._slow = slow
        self._folders: Mapping[Path, str] = {}  # folder -> bucket; replaced whole, read by watchdog's thread
        self._scheduled: dict[Path, ObservedWatch] = {}
        self._handler = _Handler(self)
        self._observer: BaseObserver | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[tuple[str, str, bool], _Due] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    async def start(self) -> bool:
        """Start watching; False (and a logged reason) when the platform will not let emu watch files."""
        self._loop = asyncio.get_running_loop()
        observer = Observer()
        try:
            observer.start()
        except OSError as exc:
            self._console.error("emu", f"local buckets are not watched: cannot watch files ({exc.strerror or exc})")
            return False
        self._observer = observer
        return True

    def watch(self, folders: Mapping[str, Path]) -> None:
        """Watch each bucket's folder (``bucket -> folder``) and no others."""
        self._folders = {folder: bucket for bucket, folder in folders.items()}
        if self._observer is None:
            return
        for folder in [f for f in self._scheduled if f not in self._folders]:
            try:
                self._observer.unschedule(self._scheduled.pop(folder))
            except (KeyError, OSError):  # its folder is gone, and its watch with it
                pass
        for folder in self._folders.keys() - self._scheduled.keys():
            try:
                self._scheduled[folder] = self._observer.schedule(self._handler, str(folder), recursive=True, event_filter=_EVENT_FILTER)
            except OSError as exc:
                self._console.error("emu", f"cannot watch bucket folder {folder}: {exc.strerror or exc}")

    async def aclose(self) -> None:
        observer, self._observer = self._observer, None
        if self._timer is not None:
            self._timer.cancel()
        if observer is not None:
            observer.stop()
            await asyncio.get_running_loop().run_in_executor(None, observer.join, 5)

    # -- watchdog's thread ------------------------------------------------------------

    def _from_thread(self, event: events.FileSystemEvent) -> None:
        kind = event.event_type
        if kind not in _KINDS or (event.is_directory and kind in ("modified", "closed")):
            return
        paths = [event.src_path, *([event.dest_path] if kind == "moved" else [])]
        folders = self._folders  # one read: the loop may replace it
        for raw in paths:
            found = _locate(folders, Path(os.fsdecode(raw)))
            if found is None:
                continue
            bucket, key = found
            if key and any(is_temporary(part) for part in key.split("/")):
                continue
            self._post(bucket, key, event.is_directory or not key, kind)

    def _post(self, bucket: str, key: str, is_folder: bool, kind: str) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._note, bucket, key, is_folder, kind)
        except RuntimeError:  # the loop has closed: emu is stopping
            pass

    # -- the event loop -------------------------------------------------------------

    def _note(self, bucket: str, key: str, is_folder: bool, kind: str) -> None:
        now = time.monotonic()
        entry = self._pending.setdefault((bucket, key, is_folder), _Due(now, now))
        entry.last = now
        if kind == "modified":
            entry.writing = True
        elif kind in ("closed", "deleted", "moved"):
            entry.writing = False
        self._arm(entry.due(self._quiet, self._slow))

    def _arm(self, at: float) -> None:
        if self._observer is None or self._loop is None:
            return
        if self._timer is not None and not self._timer.cancelled() and self._timer_at <= at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self._loop.call_later(max(0.0, at - time.monotonic()), self._fire)

    def _fire(self) -> None:
        self._timer = None
        now = time.monotonic()
        ready = [(k, d.first) for k, d in self._pending.items() if d.due(self._quiet, self._slow) <= now]
        for entry, _ in ready:
            del self._pending[entry]
        # Folders first: a folder's reconciliation may already cover the files within.
        for (bucket, key, is_folder), noticed in sorted(ready, key=lambda e: not e[0][2]):
            try:
                self._on_change(bucket, key, is_folder, noticed)
            except Exception as exc:  # one bad path must not stop the watcher
                self._console.error("emu", f"bucket {bucket}: handling a change to {key or 'the bucket'} failed: {exc!r}")
        if self._pending:
            self._arm(min(d.due(self._quiet, self._slow) for d in self._pending.values()))


def _locate(folders: Mapping[Path, str], path: Path) -> tuple[str, str] | None:
    """(bucket, key) of ``path`` below a watched folder; key is "" for the folder itself."""
    for folder, bucket in folders.items():
        if path == folder:
            return bucket, ""
        if folder in path.parents:
            return bucket, path.relative_to(folder).as_posix()
    return None
