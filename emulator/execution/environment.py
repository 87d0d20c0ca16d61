"""An execution environment and the states it moves through.

    STARTING --> IDLE <--> BUSY
        |         |         |
        +---------+---------+--> RETIRING --> DEAD
        +---------+---------+--------------------^

STARTING is from spawn until the runtime first asks for work; an invocation may
already be bound to it, waiting. BUSY means it holds one invocation (Lambda runs
one at a time per environment). RETIRING environments finish what they hold and
are then stopped; DEAD ones are never reused.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from enum import Enum

from emulator.backends.base import Handle
from emulator.execution.invocation import Invocation


class EnvState(Enum):
    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    RETIRING = "retiring"
    DEAD = "dead"


_ALLOWED = {
    EnvState.STARTING: {EnvState.IDLE, EnvState.BUSY, EnvState.RETIRING, EnvState.DEAD},
    EnvState.IDLE: {EnvState.BUSY, EnvState.RETIRING, EnvState.DEAD},
    EnvState.BUSY: {EnvState.IDLE, EnvState.RETIRING, EnvState.DEAD},
    EnvState.RETIRING: {EnvState.DEAD},
    EnvState.DEAD: set(),
}


class IllegalTransition(RuntimeError):
    """An environment was moved along an edge the table does not have: an emu bug."""


_ids = itertools.count(1)


@dataclass(slots=True, eq=False)
class Environment:
    function: str
    provisioned: bool = False
    id: int = field(default_factory=lambda: next(_ids))
    state: EnvState = EnvState.STARTING
    handle: Handle | None = None
    runtime_api: str = ""  # host:port of this environment's Runtime API
    invocation: Invocation | None = None
    # The runtime's parked GET /next, while it waits for work.
    waiter: asyncio.Future[Invocation] | None = None
    spawned_at: float = 0.0
    init_ms: float | None = None  # set at the first /next; reported once, then cleared
    init_error: tuple[bytes, str] | None = None
    last_used: float = 0.0
    served: int = 0
    peak_memory: int = 0
    kill_reason: str | None = None  # "timeout", "oom", "retire", "shutdown" when emu killed it
    last_request_id: str | None = None
    # Monotonic time its current work began; 0 while it has none. Memory is sampled
    # only for work that has run a while.
    busy_since: float = 0.0
    port: int = 0  # where an HTTP instance (GCP) listens
    active: int = 0  # requests an HTTP instance is serving now

    def move(self, to: EnvState) -> None:
        if to not in _ALLOWED[self.state]:
            raise IllegalTransition(f"environment {self.id} of {self.function}: {self.state.value} -> {to.value}")
        self.state = to

    def has_work(self) -> bool:
        return self.invocation is not None or self.active > 0

    def is_live(self) -> bool:
        return self.state in (EnvState.STARTING, EnvState.IDLE, EnvState.BUSY)

    @property
    def pid(self) -> int | None:
        return self.handle.pid if self.handle else None
