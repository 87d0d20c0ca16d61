"""Tiny pure-Python wheels made on the spot, for tests that install dependencies with real pip.

A wheel is a zip with a dist-info folder; pip installs one from a local path
offline, in well under a second.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def make_wheel(folder: Path, name: str, version: str, source: str) -> Path:
    """Write ``name``-``version`` (one module, ``name/__init__.py`` = ``source``) into ``folder``; its path."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": source,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: emu-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for arcname, text in files.items():
            data = text.encode()
            wheel.writestr(arcname, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arcname},sha256={digest},{len(data)}")
        record.append(f"{info}/RECORD,,")
        wheel.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


def probe_wheel(folder: Path, value: str, version: str = "1.0") -> Path:
    """``emu_probe_dep``, a package emu itself does not have, whose ``VALUE`` is ``value``."""
    return make_wheel(folder, "emu_probe_dep", version, f"VALUE = {value!r}\n")
