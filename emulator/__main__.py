"""Allows ``python -m emulator``, the same as the ``emu`` command."""

from emulator.cli import main

raise SystemExit(main())
