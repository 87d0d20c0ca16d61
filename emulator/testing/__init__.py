"""emu for test suites: ``EmuServer`` runs ``emu up``, ``Emu`` drives it. The pytest plugin
(``emulator.pytest_plugin``) hands tests an ``Emu`` as the ``emu`` fixture."""

from emulator.testing.client import Emu, FunctionFailed, InvokeResult
from emulator.testing.server import EmuServer, EmuStartError

__all__ = ["Emu", "EmuServer", "EmuStartError", "FunctionFailed", "InvokeResult"]
