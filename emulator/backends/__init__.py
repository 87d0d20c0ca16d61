"""Backends start environments: worker processes now, containers later.

The pool only ever holds a ``Backend`` and the ``Handle`` it returns.
"""

from emulator.backends.base import Backend, Handle, LaunchSpec
from emulator.backends.process import ProcessBackend

__all__ = ["Backend", "Handle", "LaunchSpec", "ProcessBackend", "get_backend"]


def get_backend(name: str) -> Backend:
    if name == "process":
        return ProcessBackend()
    raise ValueError(f"unknown backend {name!r}")
