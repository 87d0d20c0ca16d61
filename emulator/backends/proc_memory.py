"""Memory of a process tree, read from Linux's /proc: what a worker and its children use.

The tree is found through ``/proc/PID/task/TID/children`` (one small read per
process) rather than by scanning every process on the machine. The main
process's status file is kept open and re-read with ``pread``: on the hot path,
opening it each time cost more than the rest of an invocation.
"""

from __future__ import annotations

import os

_PAGE = os.sysconf("SC_PAGE_SIZE")


def children(pid: int) -> list[int]:
    """Every descendant of ``pid``, nearest first; empty once it is gone."""
    found: list[int] = []
    queue = [pid]
    while queue:
        parent = queue.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children", "rb") as f:
                    kids = [int(p) for p in f.read().split()]
            except (OSError, ValueError):
                continue
            found.extend(kids)
            queue.extend(kids)
    return found


def rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def high_water_mark(status: bytes) -> int:
    """VmHWM from a /proc status file: the kernel's own peak of resident memory."""
    start = status.find(b"VmHWM:")
    if start < 0:
        return 0  # a zombie has no memory left to report
    return int(status[start + 6 : status.index(b"kB", start)]) * 1024


def peak(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            return high_water_mark(f.read())
    except OSError:
        return 0


class TreeMemory:
    """A worker's memory now and at its peak, children included (a gunicorn worker, a fork)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._children: list[int] = []
        self._status_fd: int | None = None

    def now(self) -> int:
        # Sampled only for long-running work, so the tree is looked up afresh each time.
        self._children = children(self.pid)
        return rss(self.pid) + sum(rss(child) for child in self._children)

    def peak(self) -> int:
        try:
            if self._status_fd is None:
                self._status_fd = os.open(f"/proc/{self.pid}/status", os.O_RDONLY)
            main = high_water_mark(os.pread(self._status_fd, 8192, 0))
        except OSError:
            return 0
        if not self._children:
            return main
        # Each child's own peak: an upper bound of the tree's, as pages they share
        # (a forked worker's) count once per process.
        return main + sum(peak(child) for child in self._children)

    def refresh(self) -> int:
        """Learn the children now (e.g. an instance's forked worker); returns how many."""
        self._children = children(self.pid)
        return len(self._children)

    def close(self) -> None:
        if self._status_fd is not None:
            os.close(self._status_fd)
            self._status_fd = None
