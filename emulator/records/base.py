"""The seam pools and invokers hand finished invocations' records to.

``RecordSink`` itself keeps nothing: it is what a pool built outside ``emu up``
(a test, a benchmark harness) records into, so callers never branch on "off".
``recorder.Recorder`` is the one ``emu up`` uses.
"""

from __future__ import annotations

from emulator.records.record import InvocationRecord


class RecordSink:
    def add(self, record: InvocationRecord) -> None:
        """Take ``record``. Called on the hot path: must not block or do I/O."""
