"""The bucket store on a temporary folder: keys as files, sidecars, and the index of delivered states."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from emulator.errors import InvalidObjectKey, NoSuchBucket, NoSuchKey
from emulator.events.bucket_store import BucketStore, is_temporary, key_segments


@pytest.fixture
def store(tmp_path: Path) -> BucketStore:
    store = BucketStore(tmp_path / "buckets")
    store.create_bucket("photos")
    return store


@pytest.mark.parametrize(
    "key",
    ["", "../x", "a/../../x", "/abs", "a//b", "a/", ".", "a/./b", "nul\x00byte", "k" * 1025, "a/" + "s" * 256],
)
def test_keys_that_cannot_be_a_file_in_the_bucket_are_refused(key: str) -> None:
    with pytest.raises(InvalidObjectKey):
        key_segments("photos", key)


def test_ordinary_keys_become_folders_and_a_file() -> None:
    assert key_segments("photos", "a b/c+d/é.jpg") == ("a b", "c+d", "é.jpg")
    assert key_segments("photos", "..hidden") == ("..hidden",)


def test_a_symlink_out_of_the_bucket_is_refused(store: BucketStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, store.bucket_dir("photos") / "link")
    with pytest.raises(InvalidObjectKey):
        store.put("photos", "link/escape.txt", b"x", None)
    assert not (outside / "escape.txt").exists()


def test_an_unknown_bucket_is_no_such_bucket(store: BucketStore) -> None:
    with pytest.raises(NoSuchBucket):
        store.put("nope", "k", b"x", None)
    with pytest.raises(NoSuchBucket):
        store.path_of("..", "k")
    assert not store.has_bucket("..")


def test_put_writes_the_file_whole_and_remembers_its_type_and_metadata(store: BucketStore) -> None:
    info = store.put("photos", "in/cat.jpg", b"meow", "image/x-cat", {"owner": "me"})
    assert (store.bucket_dir("photos") / "in" / "cat.jpg").read_bytes() == b"meow"
    assert store.etag(info) == hashlib.md5(b"meow").hexdigest()
    fresh = BucketStore(store.root)  # a new emu reads the sidecar back
    head = fresh.head("photos", "in/cat.jpg")
    assert head.content_type == "image/x-cat" and dict(head.metadata) == {"owner": "me"} and head.size == 4
    assert not list((store.root / ".emu-tmp").iterdir())


def test_a_file_changed_behind_the_sidecars_back_is_guessed_again(store: BucketStore) -> None:
    store.put("photos", "doc.txt", b"one", "application/x-custom")
    path = store.bucket_dir("photos") / "doc.txt"
    path.write_bytes(b"changed")
    assert BucketStore(store.root).head("photos", "doc.txt").content_type == "text/plain"


def test_delete_removes_the_file_and_the_folders_it_leaves_empty(store: BucketStore) -> None:
    store.put("photos", "a/b/c.txt", b"x", None)
    store.put("photos", "a/keep.txt", b"x", None)
    assert store.delete("photos", "a/b/c.txt") is not None
    assert not (store.bucket_dir("photos") / "a" / "b").exists()
    assert (store.bucket_dir("photos") / "a" / "keep.txt").exists()
    assert store.delete("photos", "a/b/c.txt") is None
    with pytest.raises(NoSuchKey):
        store.read("photos", "a/b/c.txt")


def test_keys_list_in_s3_order_under_a_prefix(store: BucketStore) -> None:
    for key in ("b.txt", "a/z.txt", "a/b/c.txt", "a-b.txt", "Z.txt"):
        store.put("photos", key, b"x", None)
    assert [i.key for i in store.keys("photos")] == sorted(["b.txt", "a/z.txt", "a/b/c.txt", "a-b.txt", "Z.txt"], key=str.encode)
    assert [i.key for i in store.keys("photos", "a/")] == ["a/b/c.txt", "a/z.txt"]
    assert [i.key for i in store.keys("photos", "../")] == []


def test_the_index_makes_each_change_observed_once(store: BucketStore) -> None:
    store.put("photos", "mine.txt", b"by emu", None)
    assert store.observe("photos", "mine.txt") is None  # emu's own write: already delivered

    path = store.bucket_dir("photos") / "theirs.txt"
    path.write_bytes(b"by a user")
    seen = store.observe("photos", "theirs.txt")
    assert seen is not None and seen.change == "created" and seen.info.size == 9
    assert store.observe("photos", "theirs.txt") is None

    path.write_bytes(b"rewritten!")
    again = store.observe("photos", "theirs.txt")
    assert again is not None and again.change == "created"

    path.unlink()
    gone = store.observe("photos", "theirs.txt")
    assert gone is not None and gone.change == "removed" and gone.info.generation == again.info.generation
    assert store.observe("photos", "theirs.txt") is None
    assert store.observe("photos", "never-there.txt") is None


def test_what_was_there_before_the_scan_is_no_change(store: BucketStore) -> None:
    (store.bucket_dir("photos") / "old").mkdir()
    (store.bucket_dir("photos") / "old" / "file.txt").write_text("old")
    assert store.scan("photos") == 1
    assert store.observe_folder("photos", "old") == []
    (store.bucket_dir("photos") / "old" / "file.txt").unlink()
    (store.bucket_dir("photos") / "old" / "new.txt").write_text("new")
    changes = {(c.change, c.info.key) for c in store.observe_folder("photos", "old")}
    assert changes == {("removed", "old/file.txt"), ("created", "old/new.txt")}


@pytest.mark.parametrize("name", [".#notes.txt", "notes.txt.swp", "notes.txt~", "4913", "#notes#", "movie.mp4.crdownload", ".DS_Store"])
def test_editor_and_download_droppings_are_temporary(name: str) -> None:
    assert is_temporary(name)


@pytest.mark.parametrize("name", ["notes.txt", "photo.jpg", ".env", "~home", "a#b"])
def test_ordinary_files_are_not_temporary(name: str) -> None:
    assert not is_temporary(name)
