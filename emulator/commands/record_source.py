"""Where ``emu logs``, ``emu stats`` and ``emu cost`` read invocation records from.

A running emu's admin API (``ApiSource``), or, when none answers at the default
URL, the records file of the config in the current folder (``FileSource``), so
``emu cost`` still works after emu has stopped. Both give the same shapes: the
summaries come from ``records.summary`` either way. Failures are ``SourceError``:
one line and an exit code, printed by the command.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterator

import requests

from emulator.commands.options import DEFAULT_URL
from emulator.config import find_config, load_project
from emulator.config.model import STATE_DIR
from emulator.cost.model import Usage
from emulator.errors import ConfigError
from emulator.records.record import iso_time
from emulator.records.store import FILE_NAME, RecordStore, StoreError
from emulator.records.summary import StatsJson, function_stats, usage_from_json, usages

_CONNECT_TIMEOUT_S = 2.0
_READ_TIMEOUT_S = 60.0

# One log line as the commands print it: (function, text).
Line = tuple[str, str]


class SourceError(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class RecordSource:
    """What the commands read. ``where`` names it for messages."""

    where: str

    def stats(self) -> list[StatsJson]:
        raise NotImplementedError

    def usages(self) -> list[Usage]:
        raise NotImplementedError

    def recent_lines(self, function: str | None, lines: int) -> list[Line]:
        raise NotImplementedError

    def follow(self, function: str | None, lines: int) -> Iterator[Line]:
        raise SourceError(f"following the log needs a running emu; none answers ({self.where} is a stopped one's records)")


class ApiSource(RecordSource):
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.where = self.url
        self._session = requests.Session()

    def answers(self) -> bool:
        """Whether an emu answers at the URL (anything else there is an error, not a 'no')."""
        try:
            response = self._session.get(self.url + "/_emu/health", timeout=(_CONNECT_TIMEOUT_S, _READ_TIMEOUT_S))
        except requests.ConnectionError:
            return False
        except requests.RequestException as exc:
            raise SourceError(f"cannot use --url {self.url}: {exc}", 2) from exc
        if response.status_code != 200:
            raise SourceError(f"{self.url} does not answer like emu (GET /_emu/health gave {response.status_code})")
        return True

    def _get(self, path: str, **params: Any) -> Any:
        try:
            response = self._session.get(self.url + path, params=params, timeout=(_CONNECT_TIMEOUT_S, _READ_TIMEOUT_S))
        except requests.RequestException as exc:
            raise SourceError(f"the emu at {self.url} stopped answering: {exc}") from exc
        if response.status_code != 200:
            raise SourceError(f"the emu at {self.url} answered GET {path} with {response.status_code}: {response.text.strip()}")
        return response.json()

    def check_function(self, function: str | None) -> None:
        if function is None:
            return
        names = [f["name"] for f in self._get("/_emu/functions")["functions"]]
        if function not in names:
            raise SourceError(f"no function {function!r} in the emu at {self.url} (it serves {', '.join(names) or 'none'})", 2)

    def stats(self) -> list[StatsJson]:
        return list(self._get("/_emu/stats")["functions"])

    def usages(self) -> list[Usage]:
        return [usage_from_json(doc) for doc in self._get("/_emu/usage")["functions"]]

    def recent_lines(self, function: str | None, lines: int) -> list[Line]:
        self.check_function(function)
        params = {"lines": lines, **({"function": function} if function else {})}
        return [(doc["function"], doc["text"]) for doc in self._get("/_emu/logs", **params)["lines"]]

    def follow(self, function: str | None, lines: int) -> Iterator[Line]:
        """Lines as emu writes them, until it stops (then the iterator ends)."""
        self.check_function(function)
        params: dict[str, Any] = {"follow": 1, "lines": lines, **({"function": function} if function else {})}
        try:
            # No read timeout: a quiet function may say nothing for hours; emu sends heartbeats.
            with self._session.get(self.url + "/_emu/logs", params=params, stream=True, timeout=(_CONNECT_TIMEOUT_S, None)) as response:
                if response.status_code != 200:
                    raise SourceError(f"the emu at {self.url} cannot stream its log (GET /_emu/logs gave {response.status_code})")
                for raw in response.iter_lines(decode_unicode=False):
                    if raw.startswith(b"data: "):
                        doc = json.loads(raw[6:])
                        yield doc["function"], doc["text"]
        except requests.RequestException as exc:
            raise SourceError(f"lost the emu at {self.url}: {exc}") from exc


class FileSource(RecordSource):
    """A stopped emu's records file, read directly."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def _store(self) -> RecordStore:
        try:
            return RecordStore(self.path)
        except StoreError as exc:
            raise SourceError(str(exc)) from exc

    def stats(self) -> list[StatsJson]:
        store = self._store()
        try:
            return function_stats(store.measurements())
        finally:
            store.close()

    def usages(self) -> list[Usage]:
        store = self._store()
        try:
            return usages(store.measurements(), store.sessions(), time.time())
        finally:
            store.close()

    def recent_lines(self, function: str | None, lines: int) -> list[Line]:
        """The logs of the latest invocations (the live log is gone with emu), last ``lines`` lines."""
        store = self._store()
        try:
            records = store.with_logs(function, limit=max(1, lines))
        finally:
            store.close()
        out: list[Line] = []
        for record in records:
            out.append(("emu", f"-- {record.function} {record.id} at {iso_time(record.started_at)} ({record.outcome})"))
            out.extend((record.function, text) for text in record.log.decode("utf-8", "replace").splitlines())
        return out[-lines:] if lines > 0 else []


def open_source(url: str | None, cwd: Path, default_url: str | None = None) -> RecordSource:
    """The running emu at ``url``, else at ``default_url`` (``$EMU_URL``) or ``DEFAULT_URL``; without
    ``--url``, the records file of the config in ``cwd`` if none answers."""
    api = ApiSource(url or default_url or DEFAULT_URL)
    if api.answers():
        return api
    if url is not None:
        raise SourceError(f"no emu answers at {api.url}: start one with `emu up`, or point --url at it")
    path = records_file(cwd)
    if path is None or not path.is_file():
        raise SourceError(f"no emu answers at {api.url}, and there are no records here ({cwd / STATE_DIR / FILE_NAME}); start one with `emu up`")
    return FileSource(path)


def records_file(cwd: Path) -> Path | None:
    """The records file of the config in ``cwd``: its ``settings.state_dir``, else ``.emu`` beside it."""
    try:
        return load_project(find_config(cwd)).state_dir / FILE_NAME
    except ConfigError:
        # An unloadable config (or none) may still have left records in the default place.
        return cwd / STATE_DIR / FILE_NAME
