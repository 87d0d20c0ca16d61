"""The pytest plugin (entry point ``pytest11: emu``): an ``emu`` fixture for any test suite.

    def test_hello(emu):
        assert emu.invoke("hello", {"name": "x"}).payload == {...}

Which config the fixture serves, first that applies:

1. ``@pytest.mark.emu_config("path")`` on the test, its class or module
   (``pytestmark``), relative to the test file's folder, else to the rootdir;
2. the ini option ``emu_config``, relative to the ini file's folder;
3. an ``emu.yaml`` (or ``template.yaml``) beside the test file or in a folder above
   it, up to the rootdir.

Each config gets one ``emu up`` on a free 127.0.0.1 port, started when a test
first needs it and stopped (SIGTERM, as Ctrl-C) at the end of the session. With
``EMU_URL`` set, no emu is started: every test uses the one at that URL.

``emu`` itself is function-scoped: each test gets a view (``Emu.for_test``) whose
``invocations``, ``wait_for`` and ``logs`` see only what happened since it began.
The emu process behind it is the session's. ``emu_session`` is the same emu as a
session-scoped fixture (config from the ini option or the rootdir), for fixtures
of a wider scope; it sees everything.

A test module or conftest that defines its own ``emu`` fixture overrides this one,
as pytest overrides any plugin fixture.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:  # imported when a test first asks for emu: every pytest run loads this plugin
    from emulator.testing.client import Emu
    from emulator.testing.server import EmuServer

MARKER = "emu_config"
INI_CONFIG = "emu_config"
URL_VARIABLE = "EMU_URL"
CONFIG_NAMES = ("emu.yaml", "emu.yml", "template.yaml", "template.yml")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI_CONFIG, "the emu.yaml (or SAM template) the emu fixture serves, relative to the ini file", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(path): the config file the emu fixture serves for these tests")


class EmuServers:
    """One ``emu up`` per config file for the session; or, with ``EMU_URL``, the emu already running there."""

    def __init__(self, log_dir: Path, url: str | None) -> None:
        self._log_dir = log_dir
        self._url = url.rstrip("/") if url else None
        self._servers: dict[Path, EmuServer] = {}
        self._failures: dict[Path, str] = {}  # configs emu could not serve: each is tried once
        self._emus: dict[str, Emu] = {}

    def emu_for(self, config: Path | None) -> Emu:
        from emulator.testing.client import Emu

        if self._url is not None:
            url = self._url
        else:
            if config is None:
                raise pytest.UsageError(
                    "the emu fixture found no emu.yaml beside the tests or in the rootdir: "
                    f"set the ini option {INI_CONFIG}, mark the test with @pytest.mark.{MARKER}(path), or set {URL_VARIABLE}"
                )
            url = self._server(config).url
        if url not in self._emus:
            self._emus[url] = Emu(url)
        return self._emus[url]

    def _server(self, config: Path) -> EmuServer:
        from emulator.testing.server import EmuServer, EmuStartError

        if config in self._failures:
            pytest.fail(self._failures[config], pytrace=False)
        server = self._servers.get(config)
        if server is None:
            log = self._log_dir / f"emu-{len(self._servers) + len(self._failures) + 1}-{config.parent.name or 'root'}.log"
            server = EmuServer(config, log)
            try:
                server.start()
            except EmuStartError as exc:
                self._failures[config] = str(exc)
            if config in self._failures:  # failed outside the except: pytest shows no chained traceback
                pytest.fail(self._failures[config], pytrace=False)
            self._servers[config] = server
        return server

    def close(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()


@pytest.fixture(scope="session")
def emu_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmuServers]:
    servers = EmuServers(tmp_path_factory.mktemp("emu-logs"), os.environ.get(URL_VARIABLE) or None)
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture(scope="session")
def emu_session(request: pytest.FixtureRequest, emu_servers: EmuServers) -> Emu:
    """The session's emu (the ini option's config, else the rootdir's); it sees every test's invocations."""
    root = Path(request.config.rootpath)
    return emu_servers.emu_for(_ini_config(request.config) or _search(root, root))


@pytest.fixture
def emu(request: pytest.FixtureRequest, emu_servers: EmuServers) -> Emu:
    """emu serving this test's config, seeing only what happens from this test on."""
    return emu_servers.emu_for(config_for(request)).for_test()


def config_for(request: pytest.FixtureRequest) -> Path | None:
    """The config file for the requesting test: its marker, the ini option, or one found beside it."""
    root = Path(request.config.rootpath)
    here = Path(request.node.path).parent if getattr(request.node, "path", None) else root
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        if not marker.args or not isinstance(marker.args[0], (str, os.PathLike)):
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes the config file's path, e.g. {MARKER}('emu.yaml')")
        for base in (here, root):
            candidate = (base / marker.args[0]).resolve()
            if candidate.is_file():
                return candidate
        raise pytest.UsageError(f"@pytest.mark.{MARKER}({str(marker.args[0])!r}): no such file beside {here} or in {root}")
    return _ini_config(request.config) or _search(here, root)


def _ini_config(config: pytest.Config) -> Path | None:
    value = str(config.getini(INI_CONFIG) or "").strip()
    if not value:
        return None
    base = Path(config.inipath).parent if config.inipath else Path(config.rootpath)
    path = (base / value).resolve()
    if not path.is_file():
        raise pytest.UsageError(f"ini option {INI_CONFIG} = {value}: {path} does not exist")
    return path


def _search(start: Path, root: Path) -> Path | None:
    """The first config file in ``start`` or a folder above it, stopping at ``root``."""
    folder = start.resolve()
    root = root.resolve()
    while True:
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return folder / name
        if folder == root or root not in folder.parents:
            return None
        folder = folder.parent
