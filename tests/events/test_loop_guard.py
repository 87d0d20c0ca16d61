"""The loop guard with plain data: chains, trace headers, the stop at 16, the untraced guess."""

from __future__ import annotations

from urllib.parse import quote

from emulator.events.loop_guard import MAX_INVOCATIONS, Chain, LoopGuard, function_hash, parse_trace_header


def test_a_chain_counts_each_function_on_its_own() -> None:
    chain = Chain().entered("a").entered("a").entered("b")
    assert chain.count("a") == 2 and chain.count("b") == 1 and chain.count("c") == 0


def test_the_trace_header_round_trips_through_botocores_quoting() -> None:
    chain = Chain().entered("thumbnailer").entered("resizer").entered("thumbnailer")
    header = chain.trace_header()
    assert header.startswith(f"Root={chain.root};Parent=") and ";Sampled=0;Lineage=" in header
    # botocore quotes the header with safe='-=;:+&[]{}"\',', so '|' travels as %7C.
    sent = quote(header, safe="-=;:+&[]{}\"',")
    assert "%7C" in sent
    assert parse_trace_header(sent) == chain


def test_a_header_without_a_valid_root_is_no_chain() -> None:
    assert parse_trace_header(None) is None
    assert parse_trace_header("") is None
    assert parse_trace_header("Root=nonsense;Sampled=1") is None
    assert parse_trace_header("Self=1-abc") is None


def test_a_header_with_a_garbled_lineage_keeps_its_root() -> None:
    root = Chain().root
    parsed = parse_trace_header(f"Sampled=1;Lineage=zz:1|{function_hash('f')}:3|12345678:x;Root={root}")
    assert parsed == Chain(root, ((function_hash("f"), 3),))


def test_the_guard_admits_16_invocations_of_one_function_and_stops_the_17th() -> None:
    guard = LoopGuard()
    chain = Chain()
    for _ in range(MAX_INVOCATIONS):
        admitted = guard.admit(chain, "f")
        assert admitted is not None
        chain = admitted
    assert chain.count("f") == 16
    assert guard.admit(chain, "f") is None
    # Another function in the same chain still has its own 16.
    assert guard.admit(chain, "g") is not None


def test_an_untraced_write_joins_the_one_chain_running() -> None:
    guard = LoopGuard(grace=0.5)
    chain = Chain().entered("f")
    token = guard.began(chain, now=10.0)
    assert guard.chain_of_untraced_write(at=10.1) == chain
    guard.ended(token, now=10.2)
    assert guard.chain_of_untraced_write(at=10.3) == chain  # answered before the watcher heard of its write
    assert guard.chain_of_untraced_write(at=11.0).root != chain.root  # long after: a new chain


def test_an_untraced_write_with_no_or_several_chains_running_starts_a_new_chain() -> None:
    guard = LoopGuard()
    assert guard.chain_of_untraced_write(at=1.0).lineage == ()
    one, other = Chain().entered("f"), Chain().entered("g")
    guard.began(one, now=1.0)
    guard.began(other, now=1.0)
    fresh = guard.chain_of_untraced_write(at=1.1)
    assert fresh.root not in (one.root, other.root) and fresh.lineage == ()


def test_runs_of_one_chain_merge_to_the_larger_counts() -> None:
    guard = LoopGuard()
    base = Chain().entered("f")
    deeper = base.entered("f").entered("g")
    guard.began(base, now=1.0)
    guard.began(deeper, now=1.0)
    merged = guard.chain_of_untraced_write(at=1.0)
    assert merged.root == base.root and merged.count("f") == 2 and merged.count("g") == 1


def test_a_run_that_began_after_the_write_is_not_its_author() -> None:
    guard = LoopGuard()
    guard.began(Chain().entered("f"), now=5.0)
    assert guard.chain_of_untraced_write(at=4.0).lineage == ()
