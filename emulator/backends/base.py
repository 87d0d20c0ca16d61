"""The backend seam: how an environment is started, watched and stopped.

A ``Backend`` turns a ``LaunchSpec`` (argv, working directory, variables) into a
running ``Handle``. The pool knows nothing else about processes or containers,
so a container backend only has to implement these two classes.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Mapping

# Called with each line the environment writes to stdout or stderr (no newline).
OutputSink = Callable[[bytes], None]


@dataclass(frozen=True, slots=True)
class LaunchSpec:
    """What to run for one environment, as decided by a runtime's recipe."""

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)
    memory_mb: int = 128


class Handle(abc.ABC):
    """A started environment. Every method is safe to call after it has exited."""

    pid: int

    @abc.abstractmethod
    def wait(self) -> Awaitable[int]:
        """Resolve with the exit status once the environment has stopped (negative: signal)."""

    def drain_output(self) -> None:
        """Pass on, now, any output the environment has already written."""

    @abc.abstractmethod
    def kill(self) -> None:
        """Stop the environment and everything it started, at once."""

    @abc.abstractmethod
    def memory_bytes(self) -> int:
        """Resident memory of the environment now, children included; 0 once gone."""

    @abc.abstractmethod
    def peak_memory_bytes(self) -> int:
        """The highest resident memory the environment has reached (its processes' peaks)."""

    def refresh_children(self) -> int:
        """Look again for processes the environment has started (a forked worker); how many."""
        return 0


class Backend(abc.ABC):
    """Starts environments. One instance serves every pool that uses it."""

    name: str

    @abc.abstractmethod
    async def start(self, spec: LaunchSpec, on_output: OutputSink) -> Handle:
        """Start an environment; its output lines go to ``on_output``."""

    async def aclose(self) -> None:
        """Release what the backend holds (nothing, for processes)."""
