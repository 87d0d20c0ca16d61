"""The records' SQLite store and the recorder that batches into it, on real files."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from emulator.console import Console
from emulator.records.record import LOG_HEAD_BYTES, LOG_TAIL_BYTES, InvocationRecord, bounded_log, parse_time, record_json
from emulator.records.recorder import Recorder
from emulator.records.store import RecordStore, StoreError


def record(n: int, function: str = "hello", **overrides: object) -> InvocationRecord:
    values: dict[str, object] = dict(
        id=f"req-{n}", function=function, provider="aws", trigger="direct", started_at=1_700_000_000.0 + n,
        cold=n == 0, init_ms=120.0 if n == 0 else None, duration_ms=10.0 + n, billed_ms=11 + n, memory_mb=128,
        peak_memory=40 * 1024 * 1024, outcome="ok", platform="x86_64", report=f"REPORT RequestId: req-{n}",
        log=f"START RequestId: req-{n}\nhello {n}\n".encode(),
    )
    values.update(overrides)
    return InvocationRecord(**values)  # type: ignore[arg-type]


def test_records_come_back_newest_first_with_their_fields(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "state" / "invocations.sqlite3")
    session = store.begin_session("emu.yaml", 1_700_000_000.0)
    store.insert(session, [record(0), record(1), record(2, function="other")])
    newest = store.recent()
    assert [r.id for r in newest] == ["req-2", "req-1", "req-0"]
    assert [r.seq for r in newest] == [3, 2, 1]
    first = store.recent(function="hello")[-1]
    assert (first.cold, first.init_ms, first.billed_ms, first.report) == (True, 120.0, 11, "REPORT RequestId: req-0")
    assert first.log == b""  # lists leave logs out
    shown = record_json(first)
    assert shown["start"] == "2023-11-14T22:13:20.000Z" and shown["peak_memory_mb"] == 40.0 and "log" not in shown


def test_since_is_a_seq_or_a_time_and_limit_bounds(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "r.sqlite3")
    store.insert(store.begin_session("x", 0), [record(n) for n in range(10)])
    assert [r.seq for r in store.recent(after=7)] == [10, 9, 8]
    assert [r.id for r in store.recent(since=1_700_000_008.0)] == ["req-9", "req-8"]
    assert len(store.recent(limit=4)) == 4


def test_get_finds_by_id_or_seq_with_the_log(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "r.sqlite3")
    session = store.begin_session("x", 0)
    # An async event's retry shares the request id: the latest attempt answers.
    store.insert(session, [record(1, outcome="error"), record(2), record(1, id="req-1", outcome="ok")])
    retried = store.get("req-1")
    assert retried is not None and retried.seq == 3 and retried.outcome == "ok"
    assert retried.log == b"START RequestId: req-1\nhello 1\n"
    by_seq = store.get("1")
    assert by_seq is not None and by_seq.outcome == "error"
    assert store.get("nope") is None


def test_retention_keeps_the_newest_records_and_fewer_logs(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "r.sqlite3", keep_records=5, keep_logs=2)
    session = store.begin_session("x", 0)
    for n in range(12):
        store.insert(session, [record(n)])
    assert [r.seq for r in store.recent()] == [12, 11, 10, 9, 8]
    assert [r.seq for r in store.with_logs()] == [11, 12]
    old = store.get("req-7")  # seq 8: kept, but its log is gone
    assert old is not None and old.log == b"" and old.report == "REPORT RequestId: req-7"


def test_a_long_log_keeps_its_start_and_end() -> None:
    log = b"a" * LOG_HEAD_BYTES + b"b" * 100_000 + b"c" * LOG_TAIL_BYTES
    kept = bounded_log(log)
    assert kept.startswith(b"a" * LOG_HEAD_BYTES + b"\n[... 100000 bytes not kept ...]\n")
    assert kept.endswith(b"c" * LOG_TAIL_BYTES)
    assert bounded_log(b"short\n") == b"short\n"


def test_wal_lets_a_second_connection_read_while_one_writes(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    writer = RecordStore(path)
    writer.insert(writer.begin_session("x", 0), [record(1)])
    reader = RecordStore(path)
    assert [r.id for r in reader.recent()] == ["req-1"]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_that_is_not_sqlite_or_from_a_newer_emu_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all, " * 100)
    with pytest.raises(StoreError, match="cannot use"):
        RecordStore(junk)
    newer = tmp_path / "newer.sqlite3"
    sqlite3.connect(newer).execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer emu"):
        RecordStore(newer)


def test_parse_time_takes_iso_times_and_rejects_the_rest() -> None:
    assert parse_time("2023-11-14T22:13:20Z") == 1_700_000_000.0
    assert parse_time("2023-11-14T23:13:20+01:00") == 1_700_000_000.0
    assert parse_time("2023-11-14T22:13:20") == 1_700_000_000.0  # naive: UTC
    assert parse_time("req-1") is None


def test_the_recorder_batches_and_a_read_sees_what_just_finished(tmp_path: Path) -> None:
    async def run() -> None:
        recorder = Recorder(tmp_path / ".emu" / "invocations.sqlite3", "emu.yaml", Console(colour=False))
        recorder.add(record(0))  # before start: kept until it has
        await recorder.start()
        for n in range(1, 300):  # past FLUSH_AT: one batch goes at once, the rest on the timer
            recorder.add(record(n))
        # No wait for the timer: a read flushes first, on the same thread as the writes.
        latest = await recorder.read(lambda store: store.recent(limit=1))
        assert latest[0].id == "req-299" and latest[0].seq == 300
        stats = await recorder.stats()
        assert stats[0]["invocations"] == 300 and stats[0]["cold_starts"] == 1
        await recorder.aclose()
        recorder.add(record(999))  # after close: dropped, no error

    asyncio.run(run())
    store = RecordStore(tmp_path / ".emu" / "invocations.sqlite3")
    assert len(store.recent(limit=1000)) == 300
    (session,) = store.sessions()
    assert session.stopped_at is not None and session.stopped_at <= time.time()


def test_a_recorder_that_cannot_use_its_folder_keeps_records_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the folder should be")
    out: list[str] = []

    class Lines:
        def write(self, text: str) -> None:
            out.append(text)

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

    console = Console(Lines(), colour=False)  # type: ignore[arg-type]

    async def run() -> None:
        recorder = Recorder(blocker / "invocations.sqlite3", "emu.yaml", console)
        await recorder.start()
        recorder.add(record(1))
        assert [r.id for r in await recorder.read(lambda store: store.recent())] == ["req-1"]
        await recorder.aclose()

    asyncio.run(run())
    console.flush()
    assert "invocation records are kept in memory only" in "".join(out)


def test_a_log_of_only_the_platform_lines_is_rebuilt_not_stored(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "r.sqlite3")
    report = "REPORT RequestId: req-1\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t"
    quiet_log = f"START RequestId: req-1 Version: $LATEST\nEND RequestId: req-1\n{report}\n".encode()
    loud_log = f"START RequestId: req-2 Version: $LATEST\nprinted\nEND RequestId: req-2\n{report}\n".encode()
    store.insert(store.begin_session("x", 0), [record(1, report=report, log=quiet_log), record(2, report=report, log=loud_log)])
    assert sqlite3.connect(tmp_path / "r.sqlite3").execute("SELECT seq FROM logs").fetchall() == [(2,)]
    quiet = store.get("req-1")
    assert quiet is not None and quiet.log == quiet_log
    assert [r.log for r in store.with_logs()] == [quiet_log, loud_log]


def test_a_file_from_the_first_schema_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE sessions (id INTEGER PRIMARY KEY, started_at REAL NOT NULL, stopped_at REAL, config TEXT NOT NULL);
        CREATE TABLE invocations (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, session INTEGER NOT NULL,
            function TEXT NOT NULL, provider TEXT NOT NULL, trigger TEXT NOT NULL, started_at REAL NOT NULL,
            cold INTEGER NOT NULL, init_ms REAL, duration_ms REAL NOT NULL, billed_ms INTEGER NOT NULL,
            memory_mb INTEGER NOT NULL, peak_memory INTEGER NOT NULL, outcome TEXT NOT NULL, error_type TEXT,
            status INTEGER, platform TEXT NOT NULL, report TEXT);
        CREATE INDEX invocations_by_id ON invocations (id);
        CREATE TABLE logs (seq INTEGER PRIMARY KEY, log TEXT NOT NULL);
        INSERT INTO invocations VALUES (1, 'old', 1, 'f', 'aws', 'direct', 0, 0, NULL, 1, 1, 128, 0, 'ok', NULL, NULL, 'x86_64', NULL);
        INSERT INTO logs VALUES (1, 'START RequestId: old');
        PRAGMA user_version = 1;
    """)
    old.close()
    store = RecordStore(path)
    store.insert(store.begin_session("x", 0), [record(2)])
    assert [r.id for r in store.recent()] == ["req-2", "old"]
    migrated = store.get("old")
    assert migrated is not None and migrated.log == b"START RequestId: old"
    indexes = {row[1] for row in sqlite3.connect(path).execute("PRAGMA index_list(invocations)")}
    assert "invocations_by_id" not in indexes


def test_a_writer_that_falls_behind_drops_batches_rather_than_grow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from emulator.records import recorder as recorder_module

    monkeypatch.setattr(recorder_module, "MAX_IN_FLIGHT", 1)
    release = threading.Event()

    async def run() -> None:
        recorder = Recorder(tmp_path / "r.sqlite3", "emu.yaml", Console(colour=False))
        await recorder.start()
        store = recorder._store
        assert store is not None
        insert = store.insert

        def slow_insert(session: int, records: list[InvocationRecord]) -> None:
            release.wait(10)
            insert(session, records)

        monkeypatch.setattr(store, "insert", slow_insert)
        for batch in range(3):
            recorder.add(record(batch))
            recorder._flush()  # one batch each: the first waits on the disk, the others find it busy
        assert recorder.dropped == 2
        release.set()
        assert [r.id for r in await recorder.read(lambda s: s.recent())] == ["req-0"]
        await recorder.aclose()

    asyncio.run(run())
