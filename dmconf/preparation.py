"""The prepare flow: from a dataset id to a verified folder and a typed object.

Read :func:`prepare` top to bottom: resolve the definition, return at once if the folder is
already prepared (a few ``stat`` calls), otherwise lock the dataset, fetch each missing resource
(download to a temporary file beside the target, hash while streaming, verify, unpack, move into
place), mark the dataset prepared, and build the typed object with absolute paths.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dmconf.catalog import Catalog
from dmconf.checksum import HashingWriter
from dmconf.definition import DatasetDefinition, Resource
from dmconf.errors import ChecksumMismatch, DownloadError, OfflineError
from dmconf.settings import Settings, load_settings
from dmconf.state import DatasetState

__all__ = ["build_object", "is_prepared", "prepare", "resolve_definition"]

log = logging.getLogger("dmconf")

LOCK_FILE = ".dmconf.lock"


def prepare(
    dataset: str | DatasetDefinition,
    *,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
) -> BaseModel:
    """Download what is missing of a dataset, verify it, and return its typed object."""
    settings = settings or load_settings()
    definition = resolve_definition(dataset, settings=settings, catalog=catalog)
    folder = settings.dataset_folder(definition.id)
    if not DatasetState(folder).is_prepared(definition):
        folder.mkdir(parents=True, exist_ok=True)
        from dmconf.lock import locked

        with locked(folder / LOCK_FILE, f"preparing {definition.id}"):
            state = DatasetState(folder)  # re-read: another process may have finished meanwhile
            missing = {k: r for k, r in definition.resources.items() if not state.has(k, r)}
            if missing:
                log.info("%s: fetching %d resource(s) into %s", definition.id, len(missing), folder)
            for key, resource in missing.items():
                sha256 = _materialise(definition, key, resource, folder, settings)
                state.record(key, sha256)
            if not state.is_prepared(definition):
                state.mark_prepared(definition)
                log.info("%s: prepared in %s", definition.id, folder)
    return build_object(definition, folder)


def is_prepared(dataset: str | DatasetDefinition, *, settings: Settings | None = None) -> bool:
    """Whether a dataset is prepared in the data folder (no network, no hashing)."""
    settings = settings or load_settings()
    definition = resolve_definition(dataset, settings=settings)
    return DatasetState(settings.dataset_folder(definition.id)).is_prepared(definition)


def resolve_definition(
    dataset: str | DatasetDefinition | Mapping[str, Any],
    *,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
) -> DatasetDefinition:
    """A definition from an id (looked up in the catalogue), a mapping, or a definition."""
    if isinstance(dataset, DatasetDefinition):
        return dataset
    if isinstance(dataset, Mapping):
        return DatasetDefinition.from_mapping(dataset)
    return (catalog or Catalog.from_settings(settings)).find(dataset)


def build_object(definition: DatasetDefinition, folder: Path) -> BaseModel:
    """The typed object of a definition whose files are (or will be) in ``folder``."""
    from dmconf.data.registry import build, resolve_type

    cls = resolve_type(definition.type, f"{definition.source}: type")
    return build(definition.data, cls, folder, f"{definition.id}: data", id=definition.id)


def _materialise(
    definition: DatasetDefinition, key: str, resource: Resource, folder: Path, settings: Settings
) -> str:
    """Fetch, verify and unpack one resource into ``folder/key``; return the sha256 verified."""
    from dmconf.unpack import unpacker_for

    target = folder / key
    unpacker = unpacker_for(resource.unpack)
    urls = [_rewrite(url, settings.mirrors) for url in resource.urls]
    if settings.offline:
        raise OfflineError(
            f"{definition.id}: resource {key!r} is not prepared and DMCONF_OFFLINE forbids the "
            f"network; prepare the dataset where the network is reachable (dmconf prepare "
            f"{definition.id}) with the same DMCONF_DATA, or copy {urls[0]} to {target}",
            dataset=definition.id, resource=key, url=urls[0], path=str(target),
        )
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    download = folder / f".{key}.{token}.download"
    unpacked = folder / f".{key}.{token}.unpack"
    failures: list[Exception] = []
    try:
        for number, url in enumerate(urls, 1):
            try:
                sha256 = _download(definition, key, resource, url, download, settings)
            except (DownloadError, ChecksumMismatch) as exc:
                if number < len(urls):
                    log.warning("%s; trying the next URL", exc)
                failures.append(exc)
                _remove(download)
                continue
            _remove_tree(target)  # a stale copy verified against an older checksum
            unpacker.unpack(download, unpacked)
            os.replace(unpacked, target)
            log.info("%s: %s ready (%s)", definition.id, key, target)
            return sha256
        raise _final_error(definition, key, target, failures)
    finally:
        _remove(download)
        _remove_tree(unpacked)


def _download(
    definition: DatasetDefinition, key: str, resource: Resource, url: str, path: Path,
    settings: Settings,
) -> str:
    """Stream ``url`` to ``path`` and verify its sha256; return the sha256."""
    from dmconf.fetch import fetcher_for
    from dmconf.progress import Bar, progress_enabled

    log.info("%s: downloading %s", definition.id, url)
    bar = Bar(f"{definition.id}/{key}", progress_enabled(settings))
    try:
        with open(path, "xb") as out:
            writer = HashingWriter(out)
            fetcher_for(url)(settings).fetch(
                url, writer,  # type: ignore[arg-type]
                on_size=bar.set_total, on_bytes=bar.advance,
            )
    finally:
        bar.close()
    actual = writer.hexdigest()
    if resource.sha256 is None:
        log.warning(
            "%s: resource %r has no sha256; pin the downloaded one in the definition: "
            "sha256: %s (size: %d)", definition.id, key, actual, writer.size,
        )
    elif actual != resource.sha256:
        raise ChecksumMismatch(
            dataset=definition.id, resource=key, url=url, path=str(path.parent / key),
            expected=resource.sha256, actual=actual, size=writer.size,
        )
    return actual


def _final_error(
    definition: DatasetDefinition, key: str, target: Path, failures: list[Exception]
) -> Exception:
    if len(failures) == 1:
        return failures[0]
    tried = "; ".join(str(f) for f in failures)
    return DownloadError(
        f"{definition.id}: resource {key!r} could not be fetched from any of its "
        f"{len(failures)} URLs: {tried}",
        dataset=definition.id, resource=key, path=str(target),
        attempts=[str(f) for f in failures],
    )


def _rewrite(url: str, mirrors: dict[str, str]) -> str:
    """Apply the settings' URL prefix rewrites (longest prefix wins)."""
    for prefix in sorted(mirrors, key=len, reverse=True):
        if url.startswith(prefix):
            return mirrors[prefix] + url[len(prefix) :]
    return url


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _remove_tree(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path)
    else:
        _remove(path)
