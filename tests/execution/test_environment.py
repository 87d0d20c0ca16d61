"""The environment state machine, with plain objects: every move the table allows, and none it doesn't."""

from __future__ import annotations

import itertools

import pytest

from emulator.execution.environment import Environment, EnvState, IllegalTransition

S = EnvState
# Written out from the diagram in environment.py's docstring, not copied from its table.
LEGAL = {
    (S.STARTING, S.IDLE),  # the runtime asked for work with nothing bound
    (S.STARTING, S.BUSY),  # ...or with an invocation already waiting for it
    (S.STARTING, S.RETIRING),  # killed during init (init error, shutdown)
    (S.STARTING, S.DEAD),
    (S.IDLE, S.BUSY),
    (S.IDLE, S.RETIRING),  # reaped, recycled
    (S.IDLE, S.DEAD),
    (S.BUSY, S.IDLE),
    (S.BUSY, S.RETIRING),  # timed out, out of memory, recycled mid-invocation
    (S.BUSY, S.DEAD),
    (S.RETIRING, S.DEAD),
}
ALL_MOVES = list(itertools.product(EnvState, EnvState))


def env_in(state: EnvState) -> Environment:
    env = Environment(function="hello")
    env.state = state
    return env


@pytest.mark.parametrize("start, to", sorted(LEGAL, key=str), ids=lambda s: s.value)
def test_legal_moves(start, to):
    env = env_in(start)
    env.move(to)
    assert env.state is to


@pytest.mark.parametrize(
    "start, to",
    [move for move in ALL_MOVES if move not in LEGAL],
    ids=lambda s: s.value,
)
def test_illegal_moves_raise_and_leave_the_state_alone(start, to):
    env = env_in(start)
    with pytest.raises(IllegalTransition) as info:
        env.move(to)
    assert env.state is start
    assert str(info.value) == f"environment {env.id} of hello: {start.value} -> {to.value}"


def test_dead_is_final_and_retiring_only_dies():
    assert not [to for start, to in LEGAL if start is S.DEAD]
    assert {to for start, to in LEGAL if start is S.RETIRING} == {S.DEAD}


def test_a_new_environment_is_starting_and_live():
    env = Environment(function="hello")
    assert env.state is S.STARTING
    assert env.invocation is None and env.served == 0 and env.init_ms is None
    assert env.pid is None  # no process yet


@pytest.mark.parametrize("state, live", [(S.STARTING, True), (S.IDLE, True), (S.BUSY, True), (S.RETIRING, False), (S.DEAD, False)])
def test_is_live(state, live):
    assert env_in(state).is_live() is live


def test_a_full_life():
    env = Environment(function="hello", provisioned=True)
    for state in (S.IDLE, S.BUSY, S.IDLE, S.BUSY, S.RETIRING, S.DEAD):
        env.move(state)
    assert env.state is S.DEAD and not env.is_live()


def test_ids_are_unique():
    assert len({Environment(function="hello").id for _ in range(5)}) == 5
