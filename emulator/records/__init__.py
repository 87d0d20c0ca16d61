"""Invocation records: what every invocation did, kept in SQLite in emu's state folder.

``record`` holds the record and its JSON shape; ``store`` the SQLite schema and
queries (sync, used by the writer's thread and by ``emu stats``/``emu cost`` on a
stopped emu); ``recorder`` batches records off the hot path into the store;
``summary`` turns stored rows into per-function stats and cost ``Usage``;
``base`` is the seam pools record into. The live log ``emu logs -f`` follows is
``emulator.log_feed``.
"""
