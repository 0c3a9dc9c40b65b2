"""Fill a dataset folder from a manifest and a source of blobs, as prepare would have.

Each resource is built under its own lock (the lock prepare takes, so a pull and a prepare of
one dataset never write one resource twice) in a temporary name beside its final one: folders,
then files (each blob verified by its fetcher), then links (last, so no file is ever written
through a link), then executable bits (other bits follow the umask, as for prepare). The result
must have the digest the manifest recorded for the resource; only then is it renamed into place
and recorded in the state file. When every resource is in place the dataset is marked prepared
and the manifest kept beside the state.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TypeVar

from dmconf.checksum import tree_sha256
from dmconf.definition import DatasetDefinition
from dmconf.errors import CorruptBlob
from dmconf.lock import Locking
from dmconf.state import DatasetState
from dmconf.store.manifest import Entry, Manifest, Record, write_manifest

__all__ = ["BlobFetcher", "assemble", "each"]

T = TypeVar("T")

log = logging.getLogger("dmconf")

#: writes the verified bytes of ``entry`` to a new file at the given path, or raises
BlobFetcher = Callable[[Entry, Path], None]


def assemble(
    definition: DatasetDefinition, manifest: Manifest, folder: Path, fetch: BlobFetcher,
    parallel: int = 1, locking: Locking | None = None,
) -> int:
    """Build every resource of ``manifest`` not yet in ``folder``; return how many were built.

    ``parallel`` files are fetched at once (remotes answer each file after a round trip);
    ``locking``: the settings' lock kind, the one ``prepare`` takes on the same lock files.
    """
    from dmconf.fetch.download import reclaim, remove_path, temp_path
    from dmconf.lock import locked
    from dmconf.materialise import storage as _storage

    built = 0
    with _storage(definition.id, folder):
        folder.mkdir(parents=True, exist_ok=True)
    for key, resource in sorted(definition.resources.items()):
        record = manifest.resources[key]
        entries = [e for e in manifest.files if e.path.split("/")[0] == key]
        with _storage(definition.id, folder), locked(folder / f".{key}.lock",
                                                     f"building {definition.id}/{key}", locking):
            state = DatasetState(folder, locking)
            if state.has(key, resource) and state.resources[key].get(
                    "materialised") == record.materialised:
                continue
            reclaim(folder, key)
            tmp = temp_path(folder, key, "unpack")
            try:
                _build(entries, tmp, fetch, parallel)
                _check_materialised(definition, key, tmp, entries, record)
                _rename_into_place(tmp, folder / key)
            finally:
                remove_path(tmp)
            state.record(key, record.sha256, record.materialised, resource.unpacking)
            built += 1
    with _storage(definition.id, folder):
        DatasetState(folder, locking).mark_prepared(definition)
        write_manifest(manifest, folder)
    return built


def each(run: Callable[[T], None], items: Iterable[T], parallel: int) -> None:
    """``run`` every item, ``parallel`` at once; the first failure stops the rest and is raised."""
    items = list(items)
    if parallel <= 1 or len(items) <= 1:
        for item in items:
            run(item)
        return
    with ThreadPoolExecutor(min(parallel, len(items)), thread_name_prefix="dmconf") as pool:
        futures = [pool.submit(run, item) for item in items]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _build(entries: list[Entry], tmp: Path, fetch: BlobFetcher, parallel: int) -> None:
    def place(entry: Entry) -> Path:
        return tmp.joinpath(*entry.path.split("/")[1:])

    def fetch_file(entry: Entry) -> None:
        place(entry).parent.mkdir(parents=True, exist_ok=True)
        fetch(entry, place(entry))

    from dmconf.fetch.download import remove_path

    remove_path(tmp)  # whatever is at this process's temporary name goes (links unfollowed)
    if any(e.kind == "dir" and "/" not in e.path for e in entries):
        os.mkdir(tmp)  # ours, new: what is built below is never reached through a planted link
    for entry in entries:
        if entry.kind == "dir":
            place(entry).mkdir(parents=True, exist_ok=True)
    each(fetch_file, [e for e in entries if e.kind == "file"], parallel)
    for entry in entries:
        if entry.kind == "link":
            place(entry).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(entry.target or "", place(entry))
    for entry in entries:  # files were created with the umask's bits: add x where r is
        if entry.kind == "file" and entry.executable:
            mode = place(entry).stat().st_mode
            os.chmod(place(entry), mode | (mode & 0o444) >> 2)


def _rename_into_place(built: Path, target: Path) -> None:
    """Rename a verified resource to its final name (under the resource's lock).

    A stale copy there (or anything else: a link is renamed, never followed) is swapped for
    the new one in one step (:mod:`dmconf.store.swap`), so the final name never goes missing
    nor holds a half-deleted folder.
    """
    from dmconf.store.swap import replace_in_place

    if os.path.lexists(target):
        replace_in_place(built, target)
        return
    try:
        os.replace(built, target)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and target.is_dir():
            return  # where locks do not work, another process put its verified copy first
        raise


def _check_materialised(
    definition: DatasetDefinition, key: str, tmp: Path, entries: list[Entry], record: Record
) -> None:
    """The built resource must be what the pushing machine's state recorded for it."""
    published = definition.resources[key].sha256
    if published is not None and record.sha256 != published:
        raise CorruptBlob(
            f"{definition.id}: the manifest says resource {key!r} was downloaded with sha256 "
            f"{record.sha256}, but the definition publishes {published}; nothing was written",
            dataset=definition.id, resource=key,
        )
    top = next(e for e in entries if e.path == key)
    # a single file was verified on arrival: its blob's sha256 is its digest
    actual = tree_sha256(tmp) if top.kind == "dir" else top.sha256
    if actual != record.materialised:
        raise CorruptBlob(
            f"{definition.id}: resource {key!r} built from the manifest has digest {actual}, "
            f"but the manifest records {record.materialised}; nothing was written. The "
            "manifest does not describe its data: push it again from a machine where the "
            "dataset is prepared", dataset=definition.id, resource=key,
        )
