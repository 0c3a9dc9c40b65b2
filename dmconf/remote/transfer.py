"""Moving prepared datasets to and from remotes: push, pull, and prepare's first source.

- :func:`push`: the manifest of a prepared dataset (hashed once, then kept), every blob the
  remote lacks, then the manifest, then the refs. Re-running after an interruption sends only
  what is still missing; two pushes of one dataset write identical bytes to identical names.
- :func:`pull`: the manifest (its digest checked against the name it was asked by), then each
  blob, hashed as it arrives and refused unless it has the size and sha256 the manifest gives,
  assembled by :mod:`dmconf.store.assemble` through temporary names.
- :func:`prepare_from_remotes`: prepare's hook; the remotes of ``settings.remotes`` are tried in
  order for this definition's content, and any failure falls back to the original URLs.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dmconf.errors import CorruptBlob, DefinitionError, RemoteError, SettingsError
from dmconf.progress import Bar, progress_enabled
from dmconf.refs import base_id
from dmconf.remote import open_remote
from dmconf.remote.base import CHUNK, Remote
from dmconf.store.assemble import assemble, each
from dmconf.store.manifest import Entry, Manifest, manifest_of

if TYPE_CHECKING:
    from dmconf.catalog import Catalog
    from dmconf.definition import DatasetDefinition
    from dmconf.settings import Settings

__all__ = ["Pulled", "Pushed", "fetch_manifest", "install", "prepare_from_remotes", "pull", "push"]

log = logging.getLogger("dmconf")

LATEST = "latest"


@dataclass
class Pushed:
    digest: str
    blobs: int  # blobs the manifest names
    sent: int  # blobs uploaded by this push
    size: int  # bytes uploaded


@dataclass
class Pulled:
    folder: Path
    digest: str
    resources: int  # resources built by this pull (0: it was already there)


def push(
    definition: DatasetDefinition, settings: Settings, remote: Remote, *, force: bool = False
) -> Pushed:
    """Upload a prepared dataset: missing blobs, then its manifest, then its refs."""
    from dmconf.remote.licence import check_licence

    remote.ensure_writable()
    folder = settings.dataset_folder(definition)
    manifest = manifest_of(definition, folder)
    check_licence(manifest, remote, force)
    blobs = {e.sha256: e for e in manifest.files if e.kind == "file" and e.sha256}
    sent: list[Entry] = []
    bar = Bar(f"{definition.id} -> {remote.name}", progress_enabled(settings))
    bar.set_total(sum(e.size or 0 for e in blobs.values()))

    def send(entry: Entry) -> None:
        assert entry.sha256 is not None  # a file entry (validated)
        if remote.exists(remote.blob_path(entry.sha256)):
            bar.advance(entry.size or 0)
            return
        log.debug("%s: sending %s (%s)", definition.id, entry.path, entry.sha256)
        remote.put_blob(folder / entry.path, entry.sha256, f"{definition.id}/{entry.path}",
                        bar.advance)
        sent.append(entry)  # list.append is atomic: threads may share it

    try:
        each(send, blobs.values(), settings.parallel)
    finally:
        bar.close()
    digest = manifest.digest()
    path = remote.manifest_path(definition.dataset_id, digest)
    if not remote.exists(path):
        remote.write_bytes(path, manifest.to_json())
    for ref in (manifest.definition, LATEST):
        remote.write_bytes(remote.ref_path(definition.dataset_id, ref), digest.encode())
    return Pushed(digest, len(blobs), len(sent), sum(e.size or 0 for e in sent))


def fetch_manifest(
    dataset_id: str, digest: str | None, remote: Remote,
    definition: DatasetDefinition | None = None,
) -> Manifest:
    """The manifest of ``dataset_id`` on ``remote``: by digest, else the one for
    ``definition``'s content, else the latest. Its digest must match the name it is stored by.
    """
    from dmconf.definition import ID_PATTERN, SHA256_PATTERN

    if not ID_PATTERN.match(dataset_id):
        raise SettingsError(f"{dataset_id!r} is not a dataset id (expected com.example.name)")
    if digest is not None and not SHA256_PATTERN.match(digest):
        raise SettingsError(f"{dataset_id}@{digest}: a digest is 64 hexadecimal characters")
    if digest is None:
        ref = definition.content_digest() if definition is not None else LATEST
        try:
            raw = remote.read_small(remote.ref_path(dataset_id, ref))
            digest = raw.decode("utf-8", errors="replace").strip()
        except RemoteError as exc:
            if not exc.fields.get("missing"):
                raise
            which = "for this definition's content" if definition is not None else "at all"
            raise RemoteError(
                f"{remote}: has no data of {dataset_id} {which}; push it from a machine where "
                f"it is prepared (`dmconf push {dataset_id} -r {remote.name}`), or pull another "
                "version by its digest (ID@DIGEST)",
                remote=remote.name, dataset=dataset_id, missing=True,
            ) from None
        if not SHA256_PATTERN.match(digest):
            raise CorruptBlob(f"{remote}: its ref {ref} of {dataset_id} holds no digest; it was "
                              "not used", remote=remote.name, blob=ref, path=dataset_id)
    path = remote.manifest_path(dataset_id, digest)
    try:
        manifest = Manifest.parse(remote.read_small(path), f"{remote}: {path}")
    except RemoteError as exc:
        if exc.fields.get("missing"):
            raise RemoteError(f"{remote}: has no manifest {digest} of {dataset_id}",
                              remote=remote.name, dataset=dataset_id, missing=True) from None
        raise
    if manifest.digest() != digest or base_id(manifest.id) != dataset_id:
        raise CorruptBlob(
            f"{remote}: manifest {path} is not the manifest {digest} of {dataset_id} (its "
            f"content has digest {manifest.digest()} and id {manifest.id}); it was not used",
            remote=remote.name, blob=digest, path=path,
        )
    return manifest


def pull(
    dataset_id: str, digest: str | None, settings: Settings, remote: Remote,
    catalog: Catalog | None = None,
) -> Pulled:
    """Download a dataset's prepared files from ``remote``, verifying every blob."""
    from dmconf.catalog import Catalog
    from dmconf.errors import DatasetNotFound

    try:
        definition: DatasetDefinition | None = (
            catalog or Catalog.from_settings(settings)).find(dataset_id)
    except DatasetNotFound:
        definition = None  # the manifest carries its definition
    manifest = fetch_manifest(base_id(dataset_id), digest, remote,
                              definition if digest is None else None)
    if definition is None or definition.content_digest() != manifest.definition:
        definition = _definition_of(manifest, remote, definition)
    return install(definition, manifest, settings, remote)


def install(
    definition: DatasetDefinition, manifest: Manifest, settings: Settings, remote: Remote
) -> Pulled:
    _check_consistent(definition, manifest, remote)
    folder = settings.dataset_folder(definition)

    bar = Bar(f"{remote.name} -> {definition.id}", progress_enabled(settings))
    bar.set_total(manifest.size)

    def fetch(entry: Entry, target: Path) -> None:
        fetch_blob(remote, entry, target, f"{definition.id}/{entry.path}", bar.advance)

    from dmconf.lock import Locking
    from dmconf.preparation import _id_locked

    try:
        with _id_locked(settings, definition, exclusive=False):  # as prepare: `rm` waits
            built = assemble(definition, manifest, folder, fetch, settings.parallel,
                             Locking.of(settings))
    finally:
        bar.close()
    return Pulled(folder, manifest.digest(), built)


def _definition_of(
    manifest: Manifest, remote: Remote, local: DatasetDefinition | None
) -> DatasetDefinition:
    """The definition a manifest was prepared from: its own copy, which must have its digest."""
    from dmconf.definition import DatasetDefinition

    if manifest.source is None:
        raise DefinitionError("the manifest carries no definition and the catalogue has none "
                              "with its content", dataset=manifest.id, path=str(remote))
    definition = DatasetDefinition.from_mapping(
        manifest.source, dataset_id=manifest.id, source=f"the manifest on {remote}")
    if definition.content_digest() != manifest.definition:
        raise CorruptBlob(f"{remote}: the manifest of {manifest.id} carries a definition that "
                          "is not the one it names; it was not used", remote=remote.name)
    if local is not None:
        log.warning(
            "%s: pulling the version prepared from another definition (content digest %s…; "
            "the catalogue's is %s…): prepare and load with the catalogue's will not see it",
            manifest.id, manifest.definition[:12], local.content_digest()[:12],
        )
    return definition


def _check_consistent(definition: DatasetDefinition, manifest: Manifest, remote: Remote) -> None:
    tops = {e.path: e for e in manifest.files if "/" not in e.path}
    if set(manifest.resources) != set(definition.resources) or any(
        key not in tops or tops[key].kind == "link" for key in definition.resources
    ):
        raise CorruptBlob(
            f"{remote}: the manifest of {definition.id} does not list the resources "
            f"{', '.join(sorted(definition.resources))}; it was not used", remote=remote.name,
        )


def fetch_blob(remote: Remote, entry: Entry, target: Path, where: str,
               advance: Callable[[int], None] | None = None) -> None:
    """Copy blob ``entry.sha256`` to the new file ``target``, refusing wrong bytes.

    At most ``size + 1`` bytes are read: a longer, shorter or different blob is an error naming
    the remote, the blob and the file, and nothing is left at ``target``.
    """
    assert entry.sha256 is not None and entry.size is not None  # a file entry (validated)
    digest, size = hashlib.sha256(), 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        with remote.io(f"cannot read blob {entry.sha256} ({where})"), remote.open_blob(
                entry.sha256) as stream, os.fdopen(os.open(target, flags, 0o666), "wb") as out:
            while size <= entry.size and (chunk := stream.read(min(CHUNK, entry.size + 1 - size))):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
                if advance is not None:
                    advance(len(chunk))
        if size != entry.size or digest.hexdigest() != entry.sha256:
            what = "truncated" if size < entry.size else "corrupt"
            raise CorruptBlob(
                f"{remote}: blob {entry.sha256} of {where} is {what} ({size} bytes with sha256 "
                f"{digest.hexdigest()}; expected {entry.size} bytes); it was deleted and nothing "
                f"was written. Push the dataset again from a machine where it is prepared",
                remote=remote.name, blob=entry.sha256, path=where,
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def prepare_from_remotes(definition: DatasetDefinition, settings: Settings) -> bool:
    """Prepare's first source: pull this definition's content from the settings' remotes.

    Returns whether one remote had it. A remote that lacks it, cannot be reached or holds
    corrupt data is logged and skipped: the original URLs remain.
    """
    for name in settings.remotes:
        remote = open_remote(name, settings)
        if settings.offline and remote.kind != "folder":
            continue
        try:
            manifest = fetch_manifest(definition.dataset_id, None, remote, definition)
            install(definition, manifest, settings, remote)
        except (RemoteError, CorruptBlob, DefinitionError) as exc:
            level = logging.DEBUG if exc.fields.get("missing") else logging.WARNING
            log.log(level, "%s; trying the next source", exc)
            continue
        log.info("%s: prepared from %s", definition.id, remote)
        return True
    return False
