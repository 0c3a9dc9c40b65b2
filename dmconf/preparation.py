"""The prepare flow: from a dataset id to a verified folder and a typed object.

Read :func:`prepare` top to bottom: resolve the definition, build the typed object with
absolute paths (so a wrong ``type`` or ``data`` fails before any download), return it at once
if the folder is already prepared (a few ``stat`` calls), otherwise fetch the missing resources
in parallel and mark the dataset prepared. One resource
(:func:`_materialise`) is fetched under its own lock: adopt what a killed run left, download the
rest (resuming, retrying, then trying mirrors; hashing and, for single-file decompression,
decompressing as bytes arrive), verify, unpack into a temporary name, move into place.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from dmconf.catalog import Catalog
from dmconf.definition import DatasetDefinition, Resource
from dmconf.errors import (
    ChecksumMismatch,
    DmconfError,
    DownloadError,
    OfflineError,
    StorageError,
    UnpackError,
)
from dmconf.progress import Summary
from dmconf.settings import Settings, load_settings
from dmconf.state import DatasetState

if TYPE_CHECKING:
    from dmconf.fetch.download import Download

__all__ = ["build_object", "is_prepared", "prepare", "resolve_definition"]

log = logging.getLogger("dmconf")


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
    typed = build_object(definition, folder)  # a wrong type or data fails before any download
    state = DatasetState(folder)
    if not state.is_prepared(definition):
        missing = {k: r for k, r in definition.resources.items() if not state.has(k, r)}
        job = _Job(definition, folder, settings)
        for key, resource in missing.items():
            _usable_urls(job, key, resource)  # offline: fail before touching the disk
        with _storage(definition.id, folder):
            folder.mkdir(parents=True, exist_ok=True)
        _run_all(missing, settings.parallel, lambda k, r: _materialise(job, k, r), job.cancel)
        with _storage(definition.id, folder):
            DatasetState(folder).mark_prepared(definition)
        log.info("%s", job.summary.line(folder))
    return typed


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
        definition = dataset
    elif isinstance(dataset, Mapping):
        definition = DatasetDefinition.from_mapping(dataset)
    else:
        definition = (catalog or Catalog.from_settings(settings)).find(dataset)
    if definition.croissant is not None:  # resources and data from Croissant metadata
        from dmconf.croissant.resolve import resolve_croissant

        definition = resolve_croissant(definition, settings or load_settings())
    return definition


def build_object(definition: DatasetDefinition, folder: Path) -> BaseModel:
    """The typed object of a definition whose files are (or will be) in ``folder``."""
    from dmconf.data.registry import build, resolve_type

    cls = resolve_type(definition.type or "generic", f"{definition.source}: type")
    return build(definition.data, cls, folder, f"{definition.id}: data", id=definition.id)


@dataclass
class _Job:
    """What every resource of one prepare shares."""

    definition: DatasetDefinition
    folder: Path
    settings: Settings
    summary: Summary = field(init=False)
    cancel: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.summary = Summary(self.definition.id)


def _run_all(
    work: dict[str, Resource], parallel: int, run: Callable[[str, Resource], None],
    cancel: threading.Event,
) -> None:
    """Run every resource (``parallel`` at once); raise the first failure once all are done.

    Resources that can be fetched are, even when another fails: the next run has less to do.
    """
    errors: list[BaseException] = []
    if parallel == 1 or len(work) <= 1:
        for key, resource in work.items():
            try:
                run(key, resource)
            except DmconfError as exc:
                errors.append(exc)
    else:
        with ThreadPoolExecutor(min(parallel, len(work)), thread_name_prefix="dmconf") as pool:
            futures = [pool.submit(run, key, resource) for key, resource in work.items()]
            try:
                errors = [e for e in (f.exception() for f in futures) if e is not None]
            except KeyboardInterrupt:
                cancel.set()  # downloads stop at their next chunk
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    if errors:
        raise errors[0]


def _materialise(job: _Job, key: str, resource: Resource) -> None:
    """Fetch, verify and unpack one resource into ``folder/key``, under the resource's lock."""
    from dmconf.fetch.download import reclaim, remove_partial, remove_path, temp_path
    from dmconf.lock import locked
    from dmconf.unpack import unpacker_for

    definition, folder = job.definition, job.folder
    lock = locked(folder / f".{key}.lock", f"downloading {definition.id}/{key}")
    with _storage(definition.id, folder), lock:
        if DatasetState(folder).has(key, resource):
            return  # another process prepared it while this one waited
        urls = _usable_urls(job, key, resource)
        unpacker = unpacker_for(resource.unpack)
        part, unpacked = temp_path(folder, key, "part"), temp_path(folder, key, "unpack")
        try:
            with _storage(definition.id, folder):
                reclaim(folder, key)
                sha256, materialised = _fetch_verified(job, key, resource, urls, part, unpacked)
                if not unpacker.streams:
                    materialised = unpacker.unpack(part, unpacked) or sha256
                _move_into_place(unpacked, folder / key)
                DatasetState(folder).record(key, sha256, materialised)
        except (StorageError, ChecksumMismatch, UnpackError, DownloadError) as exc:
            if not isinstance(exc, DownloadError) or _empty(part):
                remove_partial(part)  # nothing worth resuming: leave no temporary behind
            raise
        finally:
            remove_path(unpacked)
        remove_partial(part)
        log.info("%s: %s ready (%s)", definition.id, key, folder / key)


def _fetch_verified(
    job: _Job, key: str, resource: Resource, urls: list[str], part: Path, unpacked: Path
) -> tuple[str, str | None]:
    """Download ``part`` (resuming it) from the first URL that gives the right bytes.

    Returns the sha256 of the download and, for streamed decompression, of its output. On
    failure the partial file stays only if it holds bytes a later run can resume from.
    """
    from dmconf.fetch.download import Download
    from dmconf.progress import Bar, progress_enabled
    from dmconf.unpack import unpacker_for

    unpacker = unpacker_for(resource.unpack)
    stream = unpacker.open_stream(unpacked) if unpacker.streams else None
    bar = Bar(f"{job.definition.id}/{key}", progress_enabled(job.settings))
    download = Download(part, stream, bar, job.cancel, limit=resource.size)
    try:
        if download.size and download.hexdigest() == resource.sha256:
            log.info("%s: %s was fully downloaded by an earlier run", job.definition.id, key)
        else:
            failures: list[Exception] = []
            for number, url in enumerate(urls, 1):
                try:
                    _fetch_from(job, key, resource, url, download)
                    break
                except (DownloadError, ChecksumMismatch) as exc:
                    if number < len(urls):  # the last failure is the error itself: say it once
                        log.warning("%s; trying the next URL", exc)
                    failures.append(exc)
                    if exc.fields.get("oversize"):
                        download.restart()  # wrong bytes are never kept
            else:
                raise _final_error(job.definition, key, job.folder / key, failures)
        job.summary.add(download.received)
        materialised = stream.finish() if stream is not None else None
        return download.hexdigest(), materialised
    finally:
        download.close()


def _fetch_from(job: _Job, key: str, resource: Resource, url: str, download: Download) -> None:
    """Fetch ``url`` into ``download`` (with retries) and verify it.

    A resumed download that does not match is fetched once more from byte 0: the partial may
    come from another mirror, or from a server that changed the file without a validator.
    """
    from dmconf.fetch import fetcher_for
    from dmconf.fetch.retry import with_retries

    log.info("%s: downloading %s", job.definition.id, url)
    fetcher = fetcher_for(url)(job.settings)
    for last_chance in (False, True):
        with_retries(lambda: fetcher.fetch(url, download), job.settings, lambda: download.size)
        resumed = download.resumed
        try:
            _verify(job, key, resource, url, download)
            return
        except ChecksumMismatch:
            download.restart()  # wrong bytes are never kept
            if last_chance or not resumed:
                raise
            log.warning("%s: the resumed download of %s does not match; starting over", url, key)


def _verify(job: _Job, key: str, resource: Resource, url: str, download: Download) -> None:
    actual = download.hexdigest()
    if resource.sha256 is None:
        log.warning(
            "%s: resource %r has no sha256; pin the downloaded one in the definition: "
            "sha256: %s (size: %d)", job.definition.id, key, actual, download.size,
        )
    elif actual != resource.sha256:
        raise ChecksumMismatch(
            dataset=job.definition.id, resource=key, url=url, path=str(job.folder / key),
            expected=resource.sha256, actual=actual, size=download.size,
        )


def _usable_urls(job: _Job, key: str, resource: Resource) -> list[str]:
    """The URLs to try, rewritten by the settings' mirrors; offline, only ``file://`` ones."""
    urls = [_rewrite(url, job.settings.mirrors) for url in resource.urls]
    if not job.settings.offline:
        return urls
    local = [url for url in urls if url.lower().startswith("file://")]
    if local:
        return local
    dataset, target = job.definition.id, job.folder / key
    copy = f"copy {urls[0]} to {target}, " if resource.unpack == "none" else ""
    raise OfflineError(
        f"{dataset}: resource {key!r} ({target}) is not prepared and DMCONF_OFFLINE forbids the "
        f"network; run `dmconf prepare {dataset}` where the network is reachable with the same "
        f"DMCONF_DATA, {copy}or put {urls[0]} on a shared disk and map its URL to that file:// "
        "path in the settings' mirrors",
        dataset=dataset, resource=key, url=urls[0], path=str(target),
    )


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


def _move_into_place(unpacked: Path, target: Path) -> None:
    """Rename the verified result to its final name, replacing a stale copy."""
    from dmconf.fetch.download import remove_path

    remove_path(target)  # a stale copy, verified against an older checksum
    try:
        os.replace(unpacked, target)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and target.is_dir():
            return  # where locks do not work, another process put its verified copy first
        raise


def _empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True


@contextmanager
def _storage(dataset: str, path: Path) -> Iterator[None]:
    """Turn the data folder's OSErrors (disk full, permission denied) into a StorageError."""
    try:
        yield
    except DmconfError:
        raise
    except OSError as exc:
        raise StorageError(
            path=str(exc.filename or path), reason=exc.strerror or str(exc), dataset=dataset,
            errno=exc.errno,
        ) from exc
