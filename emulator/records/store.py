"""The records' SQLite file: schema, writes, retention and queries. Synchronous.

One ``RecordStore`` is one connection. ``emu up`` uses it only from the recorder's
own thread; ``emu stats``/``emu cost``/``emu logs`` open the file directly when no
emu is running. WAL mode lets them read while a running emu writes, and two emus
sharing a state folder take turns (``busy_timeout``).

Retention: the newest ``KEEP_RECORDS`` records, and the logs of the newest
``KEEP_LOGS`` of them (an older record keeps its REPORT line). A record's log is
at most ``LOG_HEAD_BYTES + LOG_TAIL_BYTES``, so the file stays within a few
hundred MB at worst, usually a few MB.

    sessions     one row per ``emu up``: when it started and stopped (for rates)
    invocations  one row per invocation; ``seq`` orders them and is the ``since`` cursor
    logs         seq -> the invocation's log (bounded)

A Lambda invocation whose log is only START, END and REPORT (a handler that
printed nothing, the common case under load) stores no log: ``quiet`` marks it and
the log is rebuilt when read. That saves a third of the cost of writing a record.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable, Sequence

from emulator.records.record import InvocationRecord, bounded_log
from emulator.records.summary import Measurement, SessionSpan
from emulator.wire.logs import end_line, start_line

FILE_NAME = "invocations.sqlite3"
SCHEMA_VERSION = 2
KEEP_RECORDS = 100_000
KEEP_LOGS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    stopped_at REAL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS invocations (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    session INTEGER NOT NULL,
    function TEXT NOT NULL,
    provider TEXT NOT NULL,
    trigger TEXT NOT NULL,
    started_at REAL NOT NULL,
    cold INTEGER NOT NULL,
    init_ms REAL,
    duration_ms REAL NOT NULL,
    billed_ms INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    peak_memory INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    error_type TEXT,
    status INTEGER,
    platform TEXT NOT NULL,
    report TEXT,
    quiet INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS invocations_by_function ON invocations (function, seq);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY,
    log BLOB NOT NULL
);
"""
# What each schema before SCHEMA_VERSION needs to become the next one.
_MIGRATIONS = {
    1: "ALTER TABLE invocations ADD COLUMN quiet INTEGER NOT NULL DEFAULT 0; DROP INDEX IF EXISTS invocations_by_id;",
}
_COLUMNS = (
    "seq, id, function, provider, trigger, started_at, cold, init_ms, duration_ms, billed_ms, memory_mb, "
    "peak_memory, outcome, error_type, status, platform, report, quiet"
)
_INSERT = (
    "INSERT INTO invocations (seq, id, session, function, provider, trigger, started_at, cold, init_ms, duration_ms, "
    "billed_ms, memory_mb, peak_memory, outcome, error_type, status, platform, report, quiet) VALUES "
)
_INSERT_LOGS = "INSERT INTO logs (seq, log) VALUES "
# Rows per INSERT statement: 19 columns x 50 stays under SQLite's oldest limit of 999 parameters.
_ROWS_PER_INSERT = 50


class StoreError(Exception):
    """The records file cannot be used (not SQLite, from a newer emu, unwritable)."""


class RecordStore:
    def __init__(self, path: Path | str, keep_records: int = KEEP_RECORDS, keep_logs: int = KEEP_LOGS) -> None:
        """Open (creating if need be) the records at ``path``; ``":memory:"`` keeps them in memory."""
        self.path = path
        self._keep_records = keep_records
        self._keep_logs = keep_logs
        try:
            if isinstance(path, Path):
                path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout = 5000")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{path} was written by a newer emu (schema {version})")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            if version:
                for step in range(version, SCHEMA_VERSION):
                    self._db.executescript(_MIGRATIONS[step])
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot use {path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    # -- writing ----------------------------------------------------------------

    def begin_session(self, config: str, started_at: float) -> int:
        cursor = self._db.execute("INSERT INTO sessions (started_at, config) VALUES (?, ?)", (started_at, config))
        return int(cursor.lastrowid or 0)

    def end_session(self, session: int, stopped_at: float) -> None:
        self._db.execute("UPDATE sessions SET stopped_at = ? WHERE id = ?", (stopped_at, session))

    def insert(self, session: int, records: Sequence[InvocationRecord]) -> None:
        """Store ``records`` in one transaction, then drop what retention no longer keeps.

        The seqs are handed out here, under the write lock (another emu may share the
        file). Rows go in many to a statement: each statement releases and retakes the
        GIL, which this thread shares with the router, so ``executemany`` (one step per
        row) cost the router more than the writing itself.
        """
        if not records:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            first = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM invocations").fetchone()[0]
            quiet = [r.report is not None and r.log == _platform_lines(r.id, r.report) for r in records]
            _insert_many(db, _INSERT, [
                (first + n, r.id, session, r.function, r.provider, r.trigger, r.started_at, r.cold, r.init_ms,
                 r.duration_ms, r.billed_ms, r.memory_mb, r.peak_memory, r.outcome, r.error_type, r.status,
                 r.platform, r.report, quiet[n])
                for n, r in enumerate(records)
            ])
            _insert_many(db, _INSERT_LOGS, [
                (first + n, bounded_log(r.log)) for n, r in enumerate(records) if r.log and not quiet[n]
            ])
            last = first + len(records) - 1
            if last > self._keep_records:
                db.execute("DELETE FROM invocations WHERE seq <= ?", (last - self._keep_records,))
            if last > self._keep_logs:
                db.execute("DELETE FROM logs WHERE seq <= ?", (last - self._keep_logs,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # -- reading ----------------------------------------------------------------

    def recent(self, function: str | None = None, after: int | None = None, since: float | None = None,
               limit: int = 100) -> list[InvocationRecord]:
        """Records newest first: of ``function``, after seq ``after``, started at or after ``since``."""
        where, args = self._filters(function, after, since)
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM invocations {where} ORDER BY seq DESC LIMIT ?", (*args, limit)
        ).fetchall()
        return [_record(row)[0] for row in rows]

    def get(self, key: str) -> InvocationRecord | None:
        """One record with its log: by request/execution id (the latest attempt), or by seq.

        No index on ids: random keys make every insert touch a random page, which doubled
        the cost of writing a record. The lookup scans from the newest record, where the
        ids asked for almost always are; an unknown id scans them all (tens of ms at 100k).
        """
        row = self._db.execute(f"SELECT {_COLUMNS} FROM invocations WHERE id = ? ORDER BY seq DESC LIMIT 1", (key,)).fetchone()
        if row is None and key.isdigit():
            row = self._db.execute(f"SELECT {_COLUMNS} FROM invocations WHERE seq = ?", (int(key),)).fetchone()
        if row is None:
            return None
        record, quiet = _record(row)
        if quiet:
            record.log = _platform_lines(record.id, record.report or "")
        else:
            log = self._db.execute("SELECT log FROM logs WHERE seq = ?", (record.seq,)).fetchone()
            record.log = _log_bytes(log[0]) if log else b""
        return record

    def with_logs(self, function: str | None = None, limit: int = 20) -> list[InvocationRecord]:
        """The newest ``limit`` records that still have a log, oldest first, logs included."""
        where, args = self._filters(function, None, None)
        where = (where + " AND" if where else "WHERE") + " (logs.log IS NOT NULL OR quiet)"
        rows = self._db.execute(
            f"SELECT {_COLUMNS}, logs.log FROM invocations LEFT JOIN logs USING (seq) {where} ORDER BY seq DESC LIMIT ?",
            (*args, limit),
        ).fetchall()
        out = []
        for row in reversed(rows):
            record, quiet = _record(row[:-1])
            record.log = _platform_lines(record.id, record.report or "") if quiet else _log_bytes(row[-1])
            out.append(record)
        return out

    def measurements(self) -> list[Measurement]:
        rows = self._db.execute(
            "SELECT function, provider, platform, memory_mb, cold, outcome, duration_ms, init_ms, started_at, session "
            "FROM invocations ORDER BY seq"
        ).fetchall()
        return [Measurement(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6], r[7], r[8], r[9]) for r in rows]

    def sessions(self) -> list[SessionSpan]:
        rows = self._db.execute(
            "SELECT s.id, s.started_at, s.stopped_at, max(i.started_at + i.duration_ms / 1000.0) "
            "FROM sessions s LEFT JOIN invocations i ON i.session = s.id GROUP BY s.id ORDER BY s.id"
        ).fetchall()
        return [SessionSpan(r[0], r[1], r[2], r[3]) for r in rows]

    @staticmethod
    def _filters(function: str | None, after: int | None, since: float | None) -> tuple[str, tuple[object, ...]]:
        clauses: list[str] = []
        args: list[object] = []
        for clause, value in (("function = ?", function), ("seq > ?", after), ("started_at >= ?", since)):
            if value is not None:
                clauses.append(clause)
                args.append(value)
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)


def _insert_many(db: sqlite3.Connection, insert: str, rows: Sequence[tuple[object, ...]]) -> None:
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start:start + _ROWS_PER_INSERT]
        values = "(" + ", ".join("?" * len(chunk[0])) + ")"
        db.execute(insert + ", ".join([values] * len(chunk)), [value for row in chunk for value in row])


def _log_bytes(value: object) -> bytes:
    # Schema 1 kept logs as text.
    return value.encode() if isinstance(value, str) else bytes(value)  # type: ignore[arg-type]


def _platform_lines(request_id: str, report: str) -> bytes:
    """A Lambda invocation's log when its handler wrote nothing."""
    return f"{start_line(request_id)}\n{end_line(request_id)}\n{report}\n".encode()


def _record(row: Iterable[object]) -> tuple[InvocationRecord, bool]:
    """A stored row as a record (its log not read), and whether its log is only the platform's lines."""
    (seq, id, function, provider, trigger, started_at, cold, init_ms, duration_ms, billed_ms, memory_mb,
     peak_memory, outcome, error_type, status, platform, report, quiet) = row
    return InvocationRecord(
        id=id, function=function, provider=provider, trigger=trigger, started_at=started_at,  # type: ignore[arg-type]
        cold=bool(cold), init_ms=init_ms, duration_ms=duration_ms, billed_ms=billed_ms,  # type: ignore[arg-type]
        memory_mb=memory_mb, peak_memory=peak_memory, outcome=outcome, error_type=error_type,  # type: ignore[arg-type]
        status=status, platform=platform, report=report, seq=seq,  # type: ignore[arg-type]
    ), bool(quiet)
