"""Local buckets: the folders behind S3 and Cloud Storage triggers, and who hears of their changes.

Each bucket named in a trigger (an AWS function's ``s3`` event, a GCP function's
``gcs`` trigger) is a folder under ``Project.buckets_dir`` (``.emu/buckets/`` beside
the config unless ``settings.buckets_dir`` says otherwise), made at ``emu up``. Any
other folder there with a bucket's name is a bucket too, for functions to write
to; so is one made with S3's CreateBucket or the GCS stand-in.

A change to an object reaches its subscribers once:

- S3-triggered Lambda functions whose trigger matches the event and the key's
  prefix and suffix get an S3 notification (``samples.s3_event``: real size,
  ETag, sequencer), invoked asynchronously as S3 invokes Lambda;
- gcs-triggered GCP functions get ``finalized`` or ``deleted`` through
  ``GcpSources``, one bucket folder serving both clouds alike.

Who delivers: a change emu makes itself (S3 PutObject/DeleteObject, the
``/_emu/gcs`` stand-in) is delivered at once by the call that makes it, knowing
its chain exactly; a change anything else makes (a file dropped in, edited or
deleted) is delivered by the watcher. The store's index of delivered states sits
between them, so the watcher finds emu's own writes already recorded and stays
silent about them (``bucket_store``). Every delivery passes the loop guard first.

Seams: the Registry (pools, the async invoker, GcpSources; ``on_apply`` to follow
config reloads), ``BucketStore`` for the files, ``BucketWatcher`` for the watching.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import unquote_plus

from emulator.config.model import Project, S3Trigger
from emulator.errors import NoSuchBucket
from emulator.events import samples
from emulator.events.bucket_store import BucketStore, Change, ObjectInfo
from emulator.events.bucket_watch import BucketWatcher
from emulator.events.gcp_sources import StorageChange
from emulator.events.loop_guard import Chain, LoopGuard
from emulator.execution.invocation import Invocation
from emulator.execution.lambda_pool import LambdaPool
from emulator.execution.registry import Registry

# Each change as each cloud names it: S3's eventName (the config's trigger adds "s3:"),
# and the Cloud Storage event kind.
S3_EVENT_NAMES: Mapping[Change, str] = {"created": "ObjectCreated:Put", "removed": "ObjectRemoved:Delete"}
S3_SAMPLE_ACTIONS: Mapping[Change, samples.S3Action] = {"created": "put", "removed": "delete"}
GCS_KINDS: Mapping[Change, str] = {"created": "finalized", "removed": "deleted"}
# Chains already warned about, remembered up to this many.
_WARNED_LIMIT = 1024


def trigger_buckets(project: Project) -> list[str]:
    """Every bucket a function's trigger names, in name order."""
    names: set[str] = set()
    for spec in project.functions.values():
        names.update(t.bucket for t in spec.events if isinstance(t, S3Trigger))
        if spec.trigger is not None and spec.trigger.kind == "gcs" and spec.trigger.bucket:
            names.add(spec.trigger.bucket)
    return sorted(names)


class LocalBuckets:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._console = registry.console
        self.store = BucketStore(registry.project.buckets_dir)
        self.guard = LoopGuard()
        self._watcher = BucketWatcher(self._on_file_change, registry.console)
        self._watched: list[str] = []
        self._warned: set[tuple[str, str]] = set()
        registry.on_apply.append(self.follow)

    async def start(self) -> None:
        await self._watcher.start()
        self._sync(self._registry.project)
        if self._watched:
            where = self.store.root
            self._console.info(f"emu: local buckets in {where}: {', '.join(self._watched)} (drop files in to raise events)")

    async def aclose(self) -> None:
        await self._watcher.aclose()

    def follow(self, project: Project) -> None:
        """Serve ``project``'s buckets from now on (after a config reload)."""
        if project.buckets_dir != self.store.root:
            self.store = BucketStore(project.buckets_dir)
            self._watched = []
        self._sync(project)

    def _sync(self, project: Project) -> None:
        wanted = trigger_buckets(project)
        for bucket in set(self._watched) - set(wanted):
            self.store.forget(bucket)
        for bucket in wanted:
            if bucket not in self._watched:
                try:
                    self.store.create_bucket(bucket)
                except (OSError, NoSuchBucket) as exc:
                    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                    self._console.error("emu", f"cannot make bucket folder {self.store.bucket_dir(bucket)}: {reason}")
                    continue
                self.store.scan(bucket)
        self._watched = [b for b in wanted if self.store.has_bucket(b)]
        self._watcher.watch({bucket: self.store.bucket_dir(bucket) for bucket in self._watched})

    # -- what the surfaces ask ----------------------------------------------------

    def is_known(self, bucket: str) -> bool:
        return bucket in self._watched or self.store.has_bucket(bucket)

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str | None,
        metadata: Mapping[str, str] | None = None,
        chain: Chain | None = None,
        create_bucket: bool = False,
    ) -> ObjectInfo:
        """Store an object and deliver its creation. ``chain`` None: the write carried no trace (see loop_guard)."""
        if create_bucket:
            self.store.create_bucket(bucket)
        elif not self.is_known(bucket):
            raise NoSuchBucket(bucket)
        info = self.store.put(bucket, key, data, content_type, metadata)
        self._deliver("created", info, data, chain or self.guard.chain_of_untraced_write(time.monotonic()))
        return info

    def delete(self, bucket: str, key: str, chain: Chain | None = None) -> ObjectInfo | None:
        """Remove an object and deliver its removal; None (and no event) if it was not there."""
        info = self.store.delete(bucket, key)
        if info is not None:
            self._deliver("removed", info, None, chain or self.guard.chain_of_untraced_write(time.monotonic()))
        return info

    def deliver_s3_event(self, event: Any) -> list[str]:
        """A whole S3 notification (``emu event s3``) to the functions its records' triggers match.

        Each record goes as an event of its own, as S3 sends them; ValueError if it is no S3 event.
        """
        records = event.get("Records") if isinstance(event, dict) else None
        if not isinstance(records, list) or not records:
            raise ValueError("an S3 notification is an object with a non-empty Records list")
        names: list[str] = []
        for record in records:
            try:
                bucket = record["s3"]["bucket"]["name"]
                key = unquote_plus(record["s3"]["object"]["key"])
                event_name = record["eventName"]
            except (KeyError, TypeError) as exc:
                raise ValueError(f"an S3 record needs s3.bucket.name, s3.object.key and eventName ({exc!r} missing)") from None
            payload = json.dumps({**event, "Records": [record]}).encode()
            for pool in self._s3_subscribers(str(bucket), str(event_name), str(key)):
                if self._invoke(pool, payload, Chain(), f"{event_name} on s3://{bucket}/{key}") and pool.spec.name not in names:
                    names.append(pool.spec.name)
        return names

    # -- the watcher's changes ----------------------------------------------------------

    def _on_file_change(self, bucket: str, key: str, is_folder: bool, noticed: float) -> None:
        observed = self.store.observe_folder(bucket, key) if is_folder else [self.store.observe(bucket, key)]
        for change in observed:
            if change is not None:
                self._deliver(change.change, change.info, None, self.guard.chain_of_untraced_write(noticed))

    # -- delivery ---------------------------------------------------------------------

    def _deliver(self, change: Change, info: ObjectInfo, data: bytes | None, chain: Chain) -> None:
        reached = self._to_lambda(change, info, chain) + self._to_gcp(change, info, data, chain)
        if reached:
            self._console.info(f"bucket {info.bucket}: {S3_EVENT_NAMES[change]} {info.key} -> {', '.join(reached)}")

    def _to_lambda(self, change: Change, info: ObjectInfo, chain: Chain) -> list[str]:
        event_name = S3_EVENT_NAMES[change]
        subscribers = self._s3_subscribers(info.bucket, event_name, info.key)
        if not subscribers:
            return []
        try:
            etag = self.store.etag(info) if change == "created" else None
        except OSError:  # gone again already: its removal will follow
            return []
        origin = samples.Origin.from_settings(self._registry.project.settings)
        event = samples.s3_event(origin, S3_SAMPLE_ACTIONS[change], info.bucket, info.key, info.size, etag)
        payload = json.dumps(event).encode()
        what = f"{event_name} on s3://{info.bucket}/{info.key}"
        return [pool.spec.name for pool in subscribers if self._invoke(pool, payload, chain, what)]

    def _to_gcp(self, change: Change, info: ObjectInfo, data: bytes | None, chain: Chain) -> list[str]:
        kind = GCS_KINDS[change]
        subscribers = self._registry.gcp_sources.storage_subscribers(info.bucket, kind)
        if not subscribers:
            return []
        now = datetime.now(timezone.utc)
        if change == "created":
            if data is None:
                try:
                    info, data = self.store.read(info.bucket, info.key)
                except Exception:  # gone again already: its removal will follow
                    return []
            # A new generation was created when it was written: time, created and updated agree.
            storage = StorageChange(kind, info.bucket, info.key, data, info.content_type, info.generation, info.modified)
        else:
            storage = StorageChange(kind, info.bucket, info.key, None, info.content_type, info.generation, now, info.modified)
        reached = []
        for pool in subscribers:
            admitted = self._admit(pool.spec.name, chain, f"{kind} on gs://{info.bucket}/{info.key}")
            if admitted is not None:
                self._track(admitted, self._registry.gcp_sources.deliver_storage(pool, storage))
                reached.append(pool.spec.name)
        return reached

    def _s3_subscribers(self, bucket: str, event_name: str, key: str) -> list[LambdaPool]:
        wanted = f"s3:{event_name}"
        pools = []
        for spec in self._registry.project.functions.values():
            if any(isinstance(t, S3Trigger) and t.bucket == bucket and t.matches(wanted, key) for t in spec.events):
                pool = self._registry.lambda_pool(spec.name)
                if pool is not None:
                    pools.append(pool)
        return pools

    def _invoke(self, pool: LambdaPool, payload: bytes, chain: Chain, what: str) -> bool:
        name = pool.spec.name
        admitted = self._admit(name, chain, what)
        if admitted is None:
            return False
        inv = Invocation(function=name, payload=payload, function_arn=self._registry.arn(name), trace_id=admitted.trace_header(), trigger="s3")
        self._track(admitted, self._registry.async_invoker.submit(pool, inv))
        return True

    def _admit(self, function: str, chain: Chain, what: str) -> Chain | None:
        admitted = self.guard.admit(chain, function)
        if admitted is None:
            self._loop_stopped(function, chain, what)
        return admitted

    def _track(self, chain: Chain, task: Any) -> None:
        token = self.guard.began(chain, time.monotonic())
        task.add_done_callback(lambda _done: self.guard.ended(token, time.monotonic()))

    def _loop_stopped(self, function: str, chain: Chain, what: str) -> None:
        limit = self.guard.limit
        if (chain.root, function) in self._warned:
            self._console.error(function, f"recursive loop: {what} not delivered (same loop, chain Root={chain.root})")
            return
        if len(self._warned) >= _WARNED_LIMIT:
            self._warned.clear()
        self._warned.add((chain.root, function))
        bar = "!" * 78
        self._console.error(function, "\n".join([
            bar,
            f"RECURSIVE LOOP STOPPED: {function} has been invoked {limit} times by one chain of object events",
            f"  (trace Root={chain.root}); the {what} was NOT delivered to it.",
            f"  The function writes objects that trigger it again. Lambda stops such a loop after {limit}",
            "  invocations (recursive loop detection); so does emu. Write the output outside the trigger:",
            "  another bucket, or a key the trigger's prefix/suffix filters out.",
            bar,
        ]))
