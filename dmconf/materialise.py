"""One resource of a prepare made real in the dataset folder.

:func:`materialise` works under the resource's own lock: adopt what a killed run left, take a
sibling version's copy or a manual file, else download (rewriting URLs with the settings'
``mirrors:``, resuming, retrying, then trying the next URL; hashing and, for single-file
decompression, decompressing as bytes arrive), verify, unpack into a temporary name and move
into place. :func:`run_all` runs a dataset's resources in parallel; :func:`storage` turns the
data folder's ``OSError``s into one :class:`~dmconf.errors.StorageError`.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dmconf.checksum import tree_sha256
from dmconf.definition import DatasetDefinition, Resource
from dmconf.errors import (
    AccessDenied,
    ChecksumMismatch,
    DmconfError,
    DownloadError,
    OfflineError,
    StorageError,
    UnpackError,
)
from dmconf.lock import Locking
from dmconf.progress import Summary
from dmconf.settings import Settings
from dmconf.state import DatasetState

if TYPE_CHECKING:
    from dmconf.fetch.download import Download
    from dmconf.unpack import Unpacker

__all__ = ["Job", "materialise", "rewrite", "run_all", "storage", "usable_urls"]

log = logging.getLogger("dmconf")


@dataclass
class Job:
    """What every resource of one prepare shares."""

    definition: DatasetDefinition
    folder: Path
    settings: Settings
    summary: Summary = field(init=False)
    cancel: threading.Event = field(default_factory=threading.Event)
    locking: Locking = field(init=False)

    def __post_init__(self) -> None:
        self.summary = Summary(self.definition.id)
        self.locking = Locking.of(self.settings)


def run_all(
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


def _unwrap(folder: Path) -> bool:
    """Make ``folder`` the one folder it holds, if it holds nothing else; whether it did."""
    children = list(folder.iterdir()) if folder.is_dir() else []
    if len(children) != 1 or children[0].is_symlink() or not children[0].is_dir():
        return False
    inner = folder.with_name(folder.name + ".inner")
    os.replace(children[0], inner)
    folder.rmdir()
    os.replace(inner, folder)
    return True


def materialise(job: Job, key: str, resource: Resource) -> None:
    """Fetch, verify and unpack one resource into ``folder/key``, under the resource's lock."""
    from dmconf.fetch.download import reclaim, remove_partial, remove_path, temp_path
    from dmconf.lock import locked
    from dmconf.store.reuse import reuse_sibling

    definition, folder = job.definition, job.folder
    lock = locked(folder / f".{key}.lock", f"downloading {definition.id}/{key}", job.locking)
    with storage(definition.id, folder), lock:
        if DatasetState(folder).has(key, resource):
            return  # another process prepared it while this one waited
        urls = usable_urls(job, key, resource)
        unpacker = _unpacker(job, resource)
        part, unpacked = temp_path(folder, key, "part"), temp_path(folder, key, "unpack")
        try:
            with storage(definition.id, folder):
                reclaim(folder, key)
                reused = reuse_sibling(job.settings, definition, resource, unpacked)
                if reused is not None:
                    sha256, materialised = reused["sha256"], reused.get("materialised")
                else:
                    url = urls[0]
                    try:
                        sha256, materialised, url = _fetch_verified(
                            job, key, resource, urls, part, unpacked)
                        size = part.stat().st_size
                        if not unpacker.streams:
                            materialised = unpacker.unpack(part, unpacked) or sha256
                        if resource.unwrap and _unwrap(unpacked):
                            materialised = tree_sha256(unpacked)
                    except UnpackError as exc:
                        raise _named(exc, job, key, url, (part, unpacked)) from None
                    if resource.sha256 is None and resource.md5 is not None:
                        log.info("%s: %s matches its published md5; its sha256 %s is recorded "
                                 "for verify", definition.id, key, sha256)
                    elif resource.sha256 is None:  # once complete and unpacked
                        log.warning(
                            "%s: resource %r has no sha256; pin the downloaded one in the "
                            "definition: sha256: %s (size: %d)", definition.id, key, sha256, size)
                moved = _move_into_place(unpacked, folder / key, key, resource)
                remove_partial(part)  # before recording: a kill between leaves no stray file
                if moved:
                    DatasetState(folder, job.locking).record(
                        key, sha256, materialised, resource.unpacking)
        except (StorageError, ChecksumMismatch, UnpackError, DownloadError) as exc:
            if not isinstance(exc, DownloadError) or _empty(part):
                remove_partial(part)  # nothing worth resuming: leave no temporary behind
            raise
        finally:
            remove_path(unpacked)
        remove_partial(part)
        log.info("%s: %s ready (%s)", definition.id, key, folder / key)


def _named(exc: UnpackError, job: Job, key: str, url: str, temporaries: tuple[Path, ...]
           ) -> UnpackError:
    """The unpack error, naming the dataset, the resource and the URL instead of the hidden
    temporary file it was raised about."""
    message = exc.message
    for temporary in temporaries:
        message = message.removeprefix(f"{temporary.name}: ")
    fields = {k: v for k, v in exc.fields.items() if k not in ("dataset", "resource", "url")}
    return UnpackError(f"{job.definition.id}: resource {key!r} from {url}: {message}",
                       **fields, dataset=job.definition.id, resource=key, url=url)


def _fetch_verified(
    job: Job, key: str, resource: Resource, urls: list[str], part: Path, unpacked: Path
) -> tuple[str, str | None, str]:
    """Download ``part`` (resuming it) from the first URL that gives the right bytes.

    Returns the sha256 of the download, for streamed decompression that of its output, and
    the URL used. On failure the partial file stays only if it holds bytes a later run can
    resume from.
    """
    from dmconf.fetch.download import Download
    from dmconf.progress import Bar, progress_enabled

    unpacker = _unpacker(job, resource)
    stream = unpacker.open_stream(unpacked) if unpacker.streams else None
    bar = Bar(f"{job.definition.id}/{key}", progress_enabled(job.settings))
    limit = (resource.size, "the definition expects (its size field)") if resource.size else (
        job.settings.download_max_size, "a download without size may have (the settings' "
        "download_max_size)")
    download = Download(part, stream, bar, job.cancel, limit=limit,
                        md5=resource.md5 is not None)
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
        return download.hexdigest(), materialised, download.meta.get("url") or urls[0]
    finally:
        download.close()


def _unpacker(job: Job, resource: Resource) -> Unpacker:
    from dmconf.unpack import unpacker_for
    from dmconf.unpack.limits import Limits

    return unpacker_for(resource.unpack, Limits.of(job.settings, resource), resource.lines)


def _fetch_from(job: Job, key: str, resource: Resource, url: str, download: Download) -> None:
    """Fetch ``url`` into ``download`` (with retries) and verify it.

    A resumed download that does not match is fetched once more from byte 0: the partial may
    come from another mirror, or from a server that changed the file without a validator.
    """
    from dmconf.fetch import fetcher_for
    from dmconf.fetch.retry import with_retries

    log.info("%s: downloading %s", job.definition.id, url)
    fetcher = fetcher_for(url)(job.settings)
    for last_chance in (False, True):
        try:
            with_retries(lambda: fetcher.fetch(url, download), job.settings,
                         lambda: download.size)
        except DownloadError as exc:
            if exc.fields.get("status") in (401, 403):
                raise _access_denied(job, key, url, exc) from None
            raise
        resumed = download.resumed
        try:
            _verify(job, key, resource, url, download)
            return
        except ChecksumMismatch:
            download.restart()  # wrong bytes are never kept
            if last_chance or not resumed:
                raise
            log.warning("%s: the resumed download of %s does not match; starting over", url, key)


def _access_denied(job: Job, key: str, url: str, exc: DownloadError) -> AccessDenied:
    """A 401 or 403 as one line: the dataset, who answered, the rule tried, how to add one."""
    from dmconf.credentials import how_to_add, origin_of

    answered = exc.fields.get("answered") or url
    _, host, port = origin_of(answered)
    shown = host if port in (None, 80, 443) else f"{host}:{port}"
    return AccessDenied(
        dataset=job.definition.id, resource=key, url=url, host=shown,
        status=exc.fields["status"], credential=exc.fields.get("credential"),
        advice=exc.fields.get("advice") or how_to_add(answered),
    )


def _verify(job: Job, key: str, resource: Resource, url: str, download: Download) -> None:
    actual = download.hexdigest()
    if resource.md5 is not None and download.md5.hexdigest() != resource.md5:
        raise ChecksumMismatch(
            dataset=job.definition.id, resource=key, url=url, path=str(job.folder / key),
            expected=resource.md5, actual=download.md5.hexdigest(), size=download.size,
            algorithm="md5",
        )
    if resource.sha256 is None:
        _check_unpinned(job, key, resource, url, download)
    elif actual != resource.sha256:
        raise ChecksumMismatch(
            dataset=job.definition.id, resource=key, url=url, path=str(job.folder / key),
            expected=resource.sha256, actual=actual, size=download.size,
        )


def _check_unpinned(
    job: Job, key: str, resource: Resource, url: str, download: Download
) -> None:
    """Without a sha256, what can still be checked: the size, and that the server did not
    answer a web page for a file that is not one (a login or error page, served as 200)."""
    dataset = job.definition.id
    if resource.size is not None and download.size != resource.size:
        download.restart()
        raise DownloadError(
            f"{dataset}: resource {key!r} from {url}: {download.size} bytes arrived, the "
            f"definition's size is {resource.size}; the download was dropped. Check the URL",
            dataset=dataset, resource=key, url=url,
        )
    media = (download.content_type or "").split(";")[0].strip().lower()
    page = url.lower().rstrip("/").rsplit("/", 1)[-1].endswith((".html", ".htm", ".xhtml"))
    if media in ("text/html", "application/xhtml+xml") and not page:
        download.restart()
        raise DownloadError(
            f"{dataset}: resource {key!r}: {url} answered a web page ({media}), not the file "
            "(a login, error or download page); the download was dropped. Check the URL in a "
            "browser, and pin the file's sha256 in the definition",
            dataset=dataset, resource=key, url=url,
        )


def usable_urls(job: Job, key: str, resource: Resource) -> list[str]:
    """The URLs to try, rewritten by the settings' mirrors; offline, only ``file://`` ones.

    A file the user put in the dataset's manual folder comes first; a ``manual`` resource has
    nothing else, and is never requested from the network.
    """
    from dmconf.manual import dropped_file

    dropped = dropped_file(job.settings, job.definition, key, resource)
    urls = [rewrite(url, job.settings.mirrors) for url in resource.urls]
    if dropped is not None:
        urls.insert(0, dropped.as_uri())
    if not job.settings.offline or resource.manual:
        return urls
    local = [url for url in urls if url.lower().startswith("file://")]
    if local:
        return local
    dataset, target = job.definition.id, job.folder / key
    copy = f"copy {urls[0]} to {target}, " if resource.as_downloaded else ""
    raise OfflineError(
        f"{dataset}: resource {key!r} ({target}) is not prepared and DMCONF_OFFLINE forbids the "
        f"network; on the login node (or any machine with network) run `DMCONF_DATA="
        f"{job.settings.data} dmconf prepare {dataset}`, {copy}or put {urls[0]} on a shared disk "
        "and map its URL to that file:// path in the settings' mirrors",
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


def rewrite(url: str, mirrors: dict[str, str]) -> str:
    """Apply the settings' URL prefix rewrites (longest prefix wins)."""
    for prefix in sorted(mirrors, key=len, reverse=True):
        if url.startswith(prefix):
            return mirrors[prefix] + url[len(prefix) :]
    return url


def _move_into_place(unpacked: Path, target: Path, key: str, resource: Resource) -> bool:
    """Rename the verified result to its final name, replacing a stale copy.

    Returns False when another process already put a verified copy there (where locks do not
    work): that one stays, so a path it handed out never disappears. Any other copy there (a
    stale one, or one another process put in place and has not recorded yet) is swapped for
    this one in one step, so the final name never goes missing nor holds a half-deleted folder.
    """
    state = DatasetState(target.parent)
    if state.present(key):
        if state.has(key, resource):
            return False
        from dmconf.store.swap import replace_in_place  # ctypes: only when a copy is there

        replace_in_place(unpacked, target)
        return True
    try:
        os.replace(unpacked, target)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and target.is_dir():
            return False  # where locks do not work, another process put its copy first
        raise
    return True


def _empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True


@contextmanager
def storage(dataset: str, path: Path) -> Iterator[None]:
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
