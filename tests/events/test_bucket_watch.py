"""The bucket watcher on a real folder: one report per finished change, none for droppings."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from pathlib import Path

from emulator.console import Console
from emulator.events.bucket_watch import BucketWatcher


async def _watch(folder: Path, act, settle: float = 0.4) -> list[tuple[str, str, bool]]:
    seen: list[tuple[str, str, bool]] = []
    watcher = BucketWatcher(lambda bucket, key, is_folder, noticed: seen.append((bucket, key, is_folder)), Console(io.StringIO()), quiet=0.05)
    assert await watcher.start()
    watcher.watch({"photos": folder})
    await asyncio.sleep(0.1)
    try:
        await act()
        await asyncio.sleep(settle)
    finally:
        await watcher.aclose()
    return seen


def test_a_file_written_in_pieces_is_reported_once_after_it_is_closed(tmp_path: Path) -> None:
    async def act() -> None:
        with open(tmp_path / "big.bin", "wb") as out:
            for _ in range(3):
                out.write(b"x" * 1000)
                out.flush()
                await asyncio.sleep(0.12)  # longer than the quiet: only the close ends the write

    assert asyncio.run(_watch(tmp_path, act)) == [("photos", "big.bin", False)]


def test_droppings_are_not_reported_and_a_rename_reports_both_names(tmp_path: Path) -> None:
    async def act() -> None:
        (tmp_path / ".#notes.txt").write_text("lock")
        (tmp_path / "notes.txt.swp").write_text("swap")
        (tmp_path / "a.txt").write_text("a")
        await asyncio.sleep(0.2)
        os.rename(tmp_path / "a.txt", tmp_path / "b.txt")

    seen = asyncio.run(_watch(tmp_path, act))
    assert sorted(seen) == [("photos", "a.txt", False), ("photos", "a.txt", False), ("photos", "b.txt", False)]


def test_a_folder_removed_is_reported_as_a_folder(tmp_path: Path) -> None:
    (tmp_path / "album").mkdir()
    (tmp_path / "album" / "one.jpg").write_text("1")

    async def act() -> None:
        shutil.rmtree(tmp_path / "album")

    seen = asyncio.run(_watch(tmp_path, act))
    assert ("photos", "album", True) in seen
