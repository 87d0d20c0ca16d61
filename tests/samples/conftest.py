"""The sample projects' tests: each module runs ``emu up`` on one sample's config, in a copy of samples/.

A module names its config with ``pytestmark = pytest.mark.sample("thumbnails/emu.yaml")``
(relative to samples/). It gets the emu through ``emu``, the pytest plugin's own client
(``emulator.testing.Emu``, one view per test: ``invocations``, ``wait_for`` and ``logs`` see
only that test's doings), over one ``emulator.testing.EmuServer`` per module.

Why a copy rather than the plugin's ``emu_config`` marker on samples/ itself: emu keeps a
project's state beside its config (the buckets under ``.emu/buckets/``, the invocation
records in ``.emu/invocations.sqlite3``). Run in place, an ``emu up`` already serving the
sample (``make up``, another test run) would hear of the test's files and write records
into the same database, and the tests' exact counts ("one upload, one invocation") would
count its work too. The copy is made once per session, without ``.emu`` or ``__pycache__``;
the per-function virtualenvs still come from emu's cache, so Pillow is built once, ever.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from emulator.testing import Emu, EmuServer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sample(config): the sample config (relative to samples/) a module's emu serves")


@pytest.fixture(scope="session")
def samples_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("samples") / "samples"
    shutil.copytree(SAMPLES, copy, ignore=shutil.ignore_patterns(".emu", "__pycache__"))
    return copy


@pytest.fixture(scope="module")
def sample_config(request: pytest.FixtureRequest, samples_copy: Path) -> Path:
    marker = request.node.get_closest_marker("sample")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{request.node.name}: mark the module with pytest.mark.sample('<project>/emu.yaml')")
    config = samples_copy / marker.args[0]
    if not config.is_file():
        raise pytest.UsageError(f"pytest.mark.sample({marker.args[0]!r}): no such file in {SAMPLES}")
    return config


@pytest.fixture(scope="module")
def sample_dir(sample_config: Path) -> Path:
    """The copied sample's folder, where emu runs: its buckets are ``sample_dir / ".emu" / "buckets"``."""
    return sample_config.parent


@pytest.fixture(scope="module")
def emu_module(sample_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emu]:
    server = EmuServer(sample_config, tmp_path_factory.mktemp("emu-log") / "emu.log")
    server.start()
    try:
        yield Emu(server.url)
    finally:
        server.stop()


@pytest.fixture
def emu(emu_module: Emu) -> Emu:
    """This module's emu, seeing only what happens from this test on."""
    return emu_module.for_test()
