"""Hot reload: watchdog -> debounced, scoped -> ``pool.recycle()`` or ``Registry.apply``.

Owns what is watched (each function's ``code`` directory and the config file,
nothing else: not site-packages, not ``sys.path``), which changes count (not
bytecode, VCS, venvs, dependencies, logs, editor droppings or emu's own state),
and the rule of one reload per burst of saves.

Seams: watchdog's Observer on one side, whose thread hands changes to the event
loop with ``loop.call_soon_threadsafe``; the Registry on the other. A code change
recycles the pools whose code directory holds it (idle environments now, busy
ones after their work); a config change re-reads the config and
``Registry.apply``-ies it. ``NullReloader`` is ``emu up --no-watch``.

The rules (``is_ignored``, ``Scope``, ``Debouncer``) are sync and I/O-free but
for the venv check; ``plan_watches`` reads directories; ``Reloader`` does the rest.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Iterable, Mapping

from watchdog import events
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from emulator.config import load_project
from emulator.config.model import Project
from emulator.console import Console
from emulator.errors import ConfigError
from emulator.execution.registry import Registry

# A burst of saves is over once no change has come for this long. Editors write a
# file in one to three system calls a few milliseconds apart (write in place, or
# write a temporary then rename); 75 ms covers that and a formatter's rewrite,
# and keeps a reload (this + a cold start) well inside bench/reload.py's bar.
QUIET_S = 0.075
# A directory that never stops changing still reloads this often.
LONGEST_S = 1.0

# Directories whose contents are never a function's code: version control, bytecode,
# dependencies, virtualenvs, tool caches and emu's own state folder.
IGNORED_DIRS = frozenset({
    ".git", ".hg", ".svn",
    "__pycache__",
    "node_modules",
    ".venv", "venv",
    ".emu",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox",
})
# Of those, the ones big enough not to watch at all. __pycache__ is not among them:
# every package directory grows one at its first import, and it holds a few files.
PRUNED_DIRS = IGNORED_DIRS - {"__pycache__"}
VENV_MARKER = "pyvenv.cfg"  # any directory holding one is a virtualenv, whatever its name
IGNORED_SUFFIXES = (
    ".pyc", ".pyo",  # bytecode
    ".log",
    ".swp", ".swo", ".swx",  # vim swap files
    "~",  # backups (vim, emacs, gedit)
    "___jb_tmp___", "___jb_old___",  # JetBrains "safe write"
)
IGNORED_PREFIXES = (".#",)  # emacs lock files
IGNORED_NAMES = frozenset({
    "4913",  # vim's probe that a directory is writable
    ".DS_Store",
    VENV_MARKER,
})

# The event types a save can produce. Opens, reads and closes without a write are
# left out: an environment importing the code must not reload it.
_KINDS = frozenset({"created", "modified", "deleted", "moved", "closed", "attrib"})
_LAYOUT_KINDS = frozenset({"created", "deleted", "moved"})
_EVENT_FILTER: list[type[events.FileSystemEvent]] = [
    events.FileCreatedEvent, events.FileModifiedEvent, events.FileDeletedEvent, events.FileMovedEvent,
    events.FileClosedEvent, events.DirCreatedEvent, events.DirDeletedEvent, events.DirMovedEvent,
    *([events.FileAttribEvent] if hasattr(events, "FileAttribEvent") else []),  # `touch app.py`, where watchdog reports it
]
# A tree that needs more watches than this once its ignored directories are cut
# out (vendored packages beside a .git, say) is watched whole instead: each watch
# is a thread, and ignored changes are still filtered out by name.
MAX_WATCHES_PER_TREE = 32


def is_ignored(relative: PurePath) -> bool:
    """Whether a change at ``relative`` (to the watched directory) is not a code change."""
    parts = relative.parts
    if not parts:
        return False
    if any(part in IGNORED_DIRS for part in parts):
        return True
    name = parts[-1]
    return (
        name in IGNORED_NAMES
        or name.endswith(IGNORED_SUFFIXES)
        or name.startswith(IGNORED_PREFIXES)
        or (len(name) > 1 and name[0] == name[-1] == "#")  # emacs auto-save
    )


def in_venv(root: Path, path: Path) -> bool:
    """Whether ``path`` lies in a virtualenv below ``root``, named anything."""
    for parent in path.parents:
        if parent == root or len(parent.parts) <= len(root.parts):
            return False
        if (parent / VENV_MARKER).is_file():
            return True
    return False


# -- what a change means ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    functions: frozenset[str] = frozenset()  # whose code changed
    config: bool = False  # the config file (or the env file it names) changed
    layout: bool = False  # a directory in a code tree came or went: the watches need redoing
    modules: frozenset[Path] = frozenset()  # the Python sources among the code that changed

    def __bool__(self) -> bool:
        return bool(self.functions) or self.config or self.layout

    def __or__(self, other: Change) -> Change:
        return Change(
            self.functions | other.functions,
            self.config or other.config,
            self.layout or other.layout,
            self.modules | other.modules,
        )


@dataclass(frozen=True, slots=True)
class Scope:
    """What is watched and what a change there means. Replaced whole when the config changes."""

    code: Mapping[Path, frozenset[str]]  # code directory -> the functions that run it
    config: frozenset[Path]  # the config file, and the env file it names
    # The local buckets' folder: objects written there (by functions, too) are never code.
    buckets: Path | None = None

    @classmethod
    def of(cls, project: Project) -> Scope:
        code: dict[Path, set[str]] = {}
        for spec in project.functions.values():
            code.setdefault(spec.code, set()).add(spec.name)
        config = {project.path}
        if project.settings.env_file is not None:
            config.add(project.settings.env_file)
        return cls({root: frozenset(names) for root, names in code.items()}, frozenset(config), project.buckets_dir)

    def route(self, path: Path, is_dir_event: bool = False) -> Change:
        if self.buckets is not None and (path == self.buckets or self.buckets in path.parents):
            return Change()
        functions: set[str] = set()
        layout = False
        for root, names in self.code.items():
            if path != root and root not in path.parents:
                continue
            layout = layout or is_dir_event
            if not is_ignored(path.relative_to(root)) and not in_venv(root, path):
                functions |= names
        modules = frozenset({path}) if functions and path.suffix == ".py" and not is_dir_event else frozenset()
        return Change(frozenset(functions), path in self.config, layout, modules)


@dataclass(slots=True)
class Debouncer:
    """Gathers changes into bursts: a burst is due ``quiet`` s after its last change, or ``longest`` s after its first."""

    quiet: float = QUIET_S
    longest: float = LONGEST_S
    _pending: Change | None = None
    _first: float = 0.0
    _last: float = 0.0

    def add(self, change: Change, now: float) -> bool:
        """Count ``change``; True when it opens a burst (the caller then arms a timer for ``due()``)."""
        if not change:
            return False
        opened = self._pending is None
        if self._pending is None:
            self._pending, self._first = change, now
        else:
            self._pending = self._pending | change
        self._last = now
        return opened

    def due(self) -> float | None:
        if self._pending is None:
            return None
        return min(self._last + self.quiet, self._first + self.longest)

    def take(self, now: float) -> Change | None:
        """The burst, if it is due; otherwise None and it keeps gathering."""
        due = self.due()
        if due is None or now < due:
            return None
        burst, self._pending = self._pending, None
        return burst


def forget_bytecode(modules: Iterable[Path]) -> None:
    """Delete the cached bytecode of edited modules, so the next import compiles the source.

    Python trusts a ``.pyc`` whose recorded source mtime (in whole seconds) and size
    match the file: an edit that keeps the size, saved in the same second as the
    import that wrote the cache, would otherwise run the old code.
    """
    for module in modules:
        caches = {module.parent / "__pycache__" / name for name in _cache_names(module)}
        try:
            caches.add(Path(importlib.util.cache_from_source(str(module))))  # honours PYTHONPYCACHEPREFIX
        except ValueError:
            pass
        for cache in caches:
            try:
                cache.unlink()
            except OSError:  # not there: nothing cached
                pass


def _cache_names(module: Path) -> list[str]:
    """The module's entries in its __pycache__, whichever interpreter wrote them."""
    try:
        with os.scandir(module.parent / "__pycache__") as entries:
            prefix = module.stem + "."
            return [e.name for e in entries if e.name.startswith(prefix) and e.name.endswith(".pyc")]
    except OSError:
        return []


# -- what to watch ------------------------------------------------------------


def plan_watches(scope: Scope) -> dict[Path, bool]:
    """Directories to watch, each with whether to watch it recursively.

    Each code tree is watched minus its pruned directories: a directory with one
    of them below it is watched on its own, and its other subdirectories whole.
    The config file's directory is watched on its own (only the file counts).
    """
    watches: dict[Path, bool] = {}
    for root in scope.code:
        tree = _plan_tree(root)[1] if root.is_dir() else {}
        if len(tree) > MAX_WATCHES_PER_TREE:
            tree = {root: True}
        for path, recursive in tree.items():
            watches[path] = watches.get(path, False) or recursive
    for config in scope.config:
        if config.parent.is_dir():
            watches.setdefault(config.parent, False)
    # A directory inside a recursive watch is already seen.
    recursive = [path for path, whole in watches.items() if whole]
    return {
        path: whole
        for path, whole in watches.items()
        if not any(other != path and other in path.parents for other in recursive)
        and not (not whole and path in recursive)
    }


def _plan_tree(directory: Path) -> tuple[bool, dict[Path, bool]]:
    """(whether nothing below ``directory`` is pruned, its watches)."""
    clean = True
    children: list[Path] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if not entry.is_dir(follow_symlinks=False):
                    continue
                child = Path(entry.path)
                if entry.name in PRUNED_DIRS or (child / VENV_MARKER).is_file():
                    clean = False
                else:
                    children.append(child)
    except OSError:  # gone or unreadable: nothing to watch there
        return True, {}
    planned = [_plan_tree(child) for child in children]
    if clean and all(child_clean for child_clean, _ in planned):
        return True, {directory: True}
    watches = {directory: False}
    for _, sub in planned:
        watches.update(sub)
    return False, watches


# -- the reloader ---------------------------------------------------------------


class NullReloader:
    """The reloader's two verbs, watching nothing: ``emu up --no-watch``."""

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


class _Handler(events.FileSystemEventHandler):
    def __init__(self, reloader: Reloader) -> None:
        self._reloader = reloader

    def dispatch(self, event: events.FileSystemEvent) -> None:
        self._reloader._on_event(event)


@dataclass(slots=True)
class _Watches:
    """The watches scheduled now, keyed by what was asked for."""

    observer: BaseObserver
    scheduled: dict[tuple[Path, bool], ObservedWatch] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sync(self, wanted: dict[Path, bool], handler: events.FileSystemEventHandler) -> list[str]:
        """Make the watches ``wanted``; returns what could not be watched."""
        with self.lock:  # from the loop after a config change, or a worker thread after a layout change
            return self._sync(wanted, handler)

    def _sync(self, wanted: dict[Path, bool], handler: events.FileSystemEventHandler) -> list[str]:
        problems: list[str] = []
        keys = set(wanted.items())
        for key in [k for k in self.scheduled if k not in keys]:
            try:
                self.observer.unschedule(self.scheduled.pop(key))
            except (KeyError, OSError):  # its directory is gone and its watch with it
                pass
        for key in keys - self.scheduled.keys():
            path, recursive = key
            try:
                self.scheduled[key] = self.observer.schedule(handler, str(path), recursive=recursive, event_filter=_EVENT_FILTER)
            except FileNotFoundError:
                pass  # removed since it was planned
            except OSError as exc:
                problems.append(f"cannot watch {path}: {exc.strerror or exc}")
        return problems


class Reloader(NullReloader):
    def __init__(self, registry: Registry, console: Console, quiet: float = QUIET_S, longest: float = LONGEST_S) -> None:
        self._registry = registry
        self._console = console
        self._scope = Scope.of(registry.project)
        self._debouncer = Debouncer(quiet, longest)
        self._lock = threading.Lock()  # the debouncer is fed by watchdog's thread, drained by the loop
        self._handler = _Handler(self)
        self._observer: BaseObserver | None = None
        self._watches: _Watches | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._resync: asyncio.Future[list[str]] | None = None
        self._resync_again = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        observer = Observer()
        self._watches = _Watches(observer)
        try:
            observer.start()
        except OSError as exc:  # no inotify instance left, say
            self._console.error("emu", f"hot reload is off: cannot watch files ({exc.strerror or exc})")
            return
        self._observer = observer
        for problem in self._watches.sync(plan_watches(self._scope), self._handler):
            self._console.error("emu", problem)
        folders = len(self._scope.code)
        config = ", ".join(sorted(path.name for path in self._scope.config))
        self._console.info(f"emu: watching {folders} code folder{'s' if folders != 1 else ''} and {config} for changes")

    async def aclose(self) -> None:
        observer, self._observer = self._observer, None  # from now on nothing is armed or resynced
        if self._timer is not None:
            self._timer.cancel()
        if self._resync is not None:
            await asyncio.wait([self._resync], timeout=5)
        if observer is not None:
            observer.stop()
            await asyncio.get_running_loop().run_in_executor(None, observer.join, 5)

    # -- watchdog's thread ----------------------------------------------------

    def _on_event(self, event: events.FileSystemEvent) -> None:
        kind = event.event_type
        if kind not in _KINDS:
            return
        scope = self._scope  # one read: the loop may swap it for a new config's
        is_dir_event = event.is_directory and kind in _LAYOUT_KINDS
        change = scope.route(Path(os.fsdecode(event.src_path)), is_dir_event)
        dest = getattr(event, "dest_path", "")
        if dest:
            change = change | scope.route(Path(os.fsdecode(dest)), is_dir_event)
        if not change:
            return
        with self._lock:
            opened = self._debouncer.add(change, time.monotonic())
        loop = self._loop
        if opened and loop is not None:
            try:
                loop.call_soon_threadsafe(self._arm)
            except RuntimeError:  # the loop has closed: emu is stopping
                pass

    # -- the event loop -------------------------------------------------------

    def _arm(self) -> None:
        with self._lock:
            due = self._debouncer.due()
        if due is not None and self._observer is not None:
            assert self._loop is not None
            self._timer = self._loop.call_later(max(0.0, due - time.monotonic()), self._fire)

    def _fire(self) -> None:
        with self._lock:
            burst = self._debouncer.take(time.monotonic())
        if burst is None:  # more changes came: wait for the quiet
            self._arm()
            return
        try:
            self._reload(burst)
        except Exception as exc:  # a reload that fails must not stop the next one
            self._console.error("emu", f"reload failed: {exc!r}")

    def _reload(self, burst: Change) -> None:
        started = time.perf_counter()
        forget_bytecode(burst.modules)
        handled: set[str] = set()
        if burst.config:
            handled = self._reload_config(started)
        for name in sorted(burst.functions - handled):
            pool = self._registry.pools.get(name)
            if pool is None:  # removed by a config change in the same burst
                continue
            count = pool.recycle()
            self._console.info(f"{name}: reloaded ({_environments(count)} recycled) in {_ms(started)}")
            # An edited requirements.txt is a new virtualenv: start building it before the next cold start needs it.
            self._registry.code_changed(name)
        if burst.layout:
            self._start_resync()

    def _reload_config(self, started: float) -> set[str]:
        """Re-read the config, apply it and watch its code; the functions it added, removed or replaced."""
        path = self._registry.project.path
        try:
            project = load_project(path)
        except ConfigError as exc:
            message = " ".join(str(exc).split())
            self._console.error("emu", f"{message} (config not applied; still serving the last good one)")
            return set()
        applied = self._registry.apply(project)
        self._scope = Scope.of(project)
        # At once, not in the background: a function's code is watched from the moment it is served.
        assert self._watches is not None
        for problem in self._watches.sync(plan_watches(self._scope), self._handler):
            self._console.error("emu", problem)
        took = _ms(started)
        for name in applied.added:
            self._console.info(f"{name}: added in {took}")
        for name, count in applied.removed:
            self._console.info(f"{name}: removed ({_environments(count)} recycled) in {took}")
        for name, count in applied.changed:
            self._console.info(f"{name}: reconfigured ({_environments(count)} recycled) in {took}")
        if not (applied.added or applied.removed or applied.changed):
            self._console.info(f"emu: {path.name} reloaded, no function changed")
        return {*applied.added, *(n for n, _ in applied.changed), *(n for n, _ in applied.removed)}

    def _start_resync(self) -> None:
        """Redo the watches for the code trees as they are now, off the loop (it walks them)."""
        if self._resync is not None and not self._resync.done():
            self._resync_again = True  # the running one may have walked before this change
            return
        assert self._loop is not None and self._watches is not None
        self._resync_again = False
        watches, scope, handler = self._watches, self._scope, self._handler
        self._resync = self._loop.run_in_executor(None, lambda: watches.sync(plan_watches(scope), handler))
        self._resync.add_done_callback(self._resynced)

    def _resynced(self, done: asyncio.Future[list[str]]) -> None:
        exc = None if done.cancelled() else done.exception()
        problems = [f"watching failed: {exc!r}"] if exc else [] if done.cancelled() else done.result()
        for problem in problems:
            self._console.error("emu", problem)
        if self._resync_again and self._observer is not None:
            self._start_resync()


def _environments(count: int) -> str:
    return f"{count} environment{'s' if count != 1 else ''}"


def _ms(started: float) -> str:
    return f"{(time.perf_counter() - started) * 1000:.0f} ms"
