"""``emu stats``, ``emu cost`` and ``emu logs``, run as a user runs them: against a running emu, then a stopped one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from conftest import EmuProcess, free_port

CONFIG = """
functions:
  hello:
    runtime: python3.11
    handler: app.handler
    code: ./hello
    memory: 512
  raises:
    runtime: python3.11
    handler: app.handler
    code: ./raises
  web:
    provider: gcp
    runtime: python311
    entry_point: echo
    code: ./web
"""
FUNCTIONS = {"hello": "hello", "raises": "raises", "web": "gcp_http"}


# Where no emu answers: the commands' default, so that an emu someone runs on 9000 is not read.
NOWHERE = {"EMU_URL": f"http://127.0.0.1:{free_port()}"}


def emu_cli(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "emulator", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **NOWHERE})


def invoke(emu: EmuProcess, name: str) -> None:
    requests.post(f"{emu.url}/2015-03-31/functions/{name}/invocations", json={}, timeout=30)


def busy(emu: EmuProcess) -> None:
    for _ in range(3):
        invoke(emu, "hello")
    invoke(emu, "raises")
    requests.get(f"{emu.url}/web/", timeout=30)


def test_stats_from_a_running_emu_then_from_its_records(emu_server: Any) -> None:
    emu = emu_server(CONFIG, FUNCTIONS)
    busy(emu)
    live = emu_cli("stats", "--url", emu.url, "--json", cwd=emu.root)
    assert live.returncode == 0, live.stderr
    stats = {s["function"]: s for s in json.loads(live.stdout)["functions"]}
    assert (stats["hello"]["invocations"], stats["hello"]["cold_starts"], stats["hello"]["errors"]) == (3, 1, 0)
    assert (stats["raises"]["invocations"], stats["raises"]["errors"]) == (1, 1)
    assert stats["web"]["provider"] == "gcp"

    table = emu_cli("stats", "--url", emu.url, cwd=emu.root)
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["FUNCTION", "CLOUD", "INVOCATIONS", "COLD", "COLD", "%", "P50", "MS", "P95", "MS", "P99", "MS",
                              "ERRORS", "THROTTLED"]
    hello = next(row.split() for row in rows if row.startswith("hello"))
    assert hello[:5] == ["hello", "aws", "3", "1", "33.3"]

    emu.stop()
    # No emu answers at the default URL ($EMU_URL here): the records of the config in the current folder.
    offline = emu_cli("stats", "--json", cwd=emu.root)
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout)["functions"] == json.loads(live.stdout)["functions"]


def test_cost_prices_the_records_for_a_given_volume(emu_server: Any) -> None:
    emu = emu_server(CONFIG, FUNCTIONS)
    busy(emu)
    emu.stop()
    result = emu_cli("cost", "--monthly", "5M", "--json", cwd=emu.root)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    hello = next(f for f in report["functions"] if f["function"] == "hello")
    assert (hello["invocations"], hello["memory_mb"], hello["invocations_per_month"]) == (3, 512, 5_000_000)
    assert {b["product"] for b in hello["bills"]} == {"lambda-x86_64", "lambda-arm64"}
    web = next(f for f in report["functions"] if f["function"] == "web")
    assert {b["product"] for b in web["bills"]} == {"gcf-gen1", "gcf-gen2"}
    table = emu_cli("cost", cwd=emu.root)  # the recorded rate over 30 days
    assert table.returncode == 0 and "Projected month (each function's recorded rate over 30 days)" in table.stdout


def test_logs_prints_recent_lines_and_follows_until_emu_stops(emu_server: Any) -> None:
    emu = emu_server(CONFIG, FUNCTIONS)
    invoke(emu, "hello")
    recent = emu_cli("logs", "hello", "--url", emu.url, "-n", "3", cwd=emu.root)
    assert recent.returncode == 0, recent.stderr
    assert [line.split(" | ")[1].split(" ")[0] for line in recent.stdout.splitlines()] == ["hello", "END", "REPORT"]

    follower = subprocess.Popen([sys.executable, "-m", "emulator", "logs", "-f", "-n", "0", "--url", emu.url],
                                cwd=emu.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)  # let it connect
        invoke(emu, "raises")
        emu.stop()
        out, err = follower.communicate(timeout=20)
    finally:
        follower.kill()
    assert follower.returncode == 0, err
    assert "raises   | about to fail" in out and "raises   | REPORT RequestId" in out
    assert f"the emu at {emu.url} stopped" in err

    # Stopped: the latest invocations' logs, from the records.
    offline = emu_cli("logs", "raises", cwd=emu.root)
    assert offline.returncode == 0 and "raises   | about to fail" in offline.stdout


def test_what_cannot_be_read_is_one_line_and_an_exit_code(emu_server: Any, tmp_path: Path) -> None:
    nowhere = NOWHERE["EMU_URL"]
    no_emu = emu_cli("stats", "--url", nowhere, cwd=tmp_path)
    assert (no_emu.returncode, no_emu.stderr) == (1, f"emu stats: no emu answers at {nowhere}: start one with `emu up`, or point --url at it\n")
    nothing_here = emu_cli("cost", cwd=tmp_path)
    assert nothing_here.returncode == 1 and "there are no records here" in nothing_here.stderr

    emu = emu_server(CONFIG, FUNCTIONS)
    unknown = emu_cli("logs", "nope", "--url", emu.url, cwd=tmp_path)
    assert unknown.returncode == 2 and "no function 'nope'" in unknown.stderr
    emu.stop()
    follow = emu_cli("logs", "-f", cwd=emu.root)
    assert follow.returncode == 1 and "following the log needs a running emu" in follow.stderr
    bad = emu_cli("cost", "--monthly", "lots", cwd=emu.root)
    assert bad.returncode == 2 and "expected a whole number" in bad.stderr
