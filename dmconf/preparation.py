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
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from dmconf.catalog import Catalog
from dmconf.checksum import tree_sha256
from dmconf.definition import DatasetDefinition, Resource
from dmconf.errors import (
    AccessDenied,
    ChecksumMismatch,
    DefinitionError,
    DmconfError,
    DownloadError,
    OfflineError,
    StorageError,
    UnpackError,
)
from dmconf.lock import Locking
from dmconf.progress import Summary
from dmconf.settings import Settings, load_settings
from dmconf.state import DatasetState
from dmconf.store.layout import LOCKS

if TYPE_CHECKING:
    from dmconf.data.registry import Resolver
    from dmconf.fetch.download import Download
    from dmconf.unpack import Unpacker

__all__ = ["Answer", "build_object", "check_paths", "is_prepared", "prepare", "prepared",
           "resolve_definition", "typed_paths"]

log = logging.getLogger("dmconf")


def prepare(
    dataset: str | DatasetDefinition,
    *,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    rebuild: bool = False,
) -> BaseModel:
    """Download what is missing of a dataset, verify it, and return its typed object.

    A derived dataset is built from its inputs instead (:mod:`dmconf.derive`); ``rebuild``
    runs its step again even when its output exists. An id named without settings or
    catalogue is answered from memory when it was prepared before in this process and nothing
    it depends on changed (:mod:`dmconf.warm`).
    """
    remembered = isinstance(dataset, str) and settings is None and catalog is None
    started = time.time_ns()
    if remembered and isinstance(dataset, str) and not rebuild:  # the environment decides
        from dmconf.warm import recall

        warm = recall(dataset)
        if warm is not None:
            return warm
    settings = settings or load_settings()
    if isinstance(dataset, str):
        catalog = catalog or Catalog.from_settings(settings)
    answer = prepared(dataset, settings, catalog, rebuild=rebuild)
    if remembered and isinstance(dataset, str) and catalog is not None:
        from dmconf.warm import remember

        remember(dataset, catalog, answer, started=started)
    return answer.typed


@dataclass
class Answer:
    """What one prepare gave, and what the warm path needs to know to note it."""

    typed: BaseModel
    definition: DatasetDefinition
    settings: Settings
    folder: Path
    elsewhere: bool  # answered from a read-only store
    others: bool  # built from other datasets (``_dataset`` nodes)


def prepared(
    dataset: str | DatasetDefinition, settings: Settings, catalog: Catalog | None, *,
    rebuild: bool = False, known: Callable[[Answer], None] | None = None,
) -> Answer:
    """:func:`prepare` without the warm path, saying where its answer came from; ``known``
    gets the answer once it is known, before anything is downloaded or built."""
    definition = resolve_definition(dataset, settings=settings, catalog=catalog)
    from dmconf.agreements import require_accepted
    from dmconf.store.stores import group_shared, make_folders, prepared_elsewhere

    require_accepted(definition, settings)  # the publisher's terms first: nothing is fetched
    elsewhere = prepared_elsewhere(settings, definition)  # a lab's read-only store
    others = _Others(settings, catalog)
    if elsewhere is not None:
        typed = build_object(definition, elsewhere, others)
        check_paths(definition, elsewhere, typed)
        return Answer(typed, definition, settings, elsewhere, True, others.used)
    folder = settings.dataset_folder(definition)
    # A wrong type or data fails before any download (datasets it refers to are prepared).
    typed = build_object(definition, folder, others)
    answer = Answer(typed, definition, settings, folder, False, others.used)
    if known is not None:
        known(answer)
    if definition.derive is not None:
        from dmconf.derive.build import make

        make(definition, settings, catalog, rebuild=rebuild)
        check_paths(definition, folder, typed)
        return answer
    if rebuild:
        raise DefinitionError(
            "is downloaded, not derived: only derived datasets are rebuilt (`dmconf verify` "
            f"checks a download; `dmconf rm {definition.id}` then prepare fetches it again)",
            dataset=definition.id, path=definition._source)
    if not DatasetState(folder).is_prepared(definition):
        _adopt_legacy(settings, definition)
    if not DatasetState(folder).is_prepared(definition) and not _from_remotes(definition, settings):
        job = _Job(definition, folder, settings)
        state = DatasetState(folder)
        for key, resource in definition.resources.items():
            if not state.has(key, resource):
                _usable_urls(job, key, resource)  # offline: fail before touching the disk
        with _storage(definition.id, folder), group_shared(settings):
            make_folders(folder, settings)
            make_folders(settings.data / LOCKS, settings)
            with _id_locked(settings, definition, exclusive=False):
                state = DatasetState(folder)  # an `rm` may have run while this one waited
                missing = {k: r for k, r in definition.resources.items() if not state.has(k, r)}
                _run_all(missing, settings.parallel, lambda k, r: _materialise(job, k, r),
                         job.cancel)
                # A type whose data another tool downloads (ir_datasets) does it here, once.
                download = getattr(typed, "dmconf_download", None)
                if callable(download):
                    download()
                DatasetState(folder, job.locking).mark_prepared(definition)
                check_paths(definition, folder, typed)
        log.info("%s", job.summary.line(folder))
    else:
        check_paths(definition, folder, typed)
    return answer


def _id_locked(
    settings: Settings, definition: DatasetDefinition, *, exclusive: bool
) -> AbstractContextManager[None]:
    from dmconf.lock import id_locked
    from dmconf.store.layout import id_lock

    what = f"{'adopting' if exclusive else 'preparing or removing'} {definition.id}"
    return id_locked(id_lock(settings, definition.dataset_id), exclusive=exclusive, what=what,
                     locking=Locking.of(settings))


def _adopt_legacy(settings: Settings, definition: DatasetDefinition) -> None:
    """Move a folder of dmconf's first layout into place (a rename, no download)."""
    from dmconf.store.layout import adopt_legacy, legacy_folder

    if legacy_folder(settings, definition.dataset_id) is None:
        return
    folder = settings.dataset_folder(definition)
    with _storage(definition.id, folder), _id_locked(settings, definition, exclusive=True):
        adopt_legacy(settings, definition)


def check_paths(definition: DatasetDefinition, folder: Path, typed: BaseModel) -> None:
    """Raise naming the first ``path`` of the typed object that does not exist.

    A definition whose ``data`` expects another layout than the archive has (a top folder
    named differently) fails here, with what the resource does contain, rather than handing
    out a path that does not exist.
    """
    for where, path in typed_paths(typed):
        if os.path.lexists(path):
            continue
        relative = Path(os.path.relpath(path, folder))
        top = folder / relative.parts[0]
        holds = ""
        if top.is_dir() and not top.is_symlink():
            names = sorted(e.name + ("/" if e.is_dir() else "") for e in os.scandir(top))
            shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
            holds = f"; {relative.parts[0]} holds: {shown or 'nothing'}"
        raise DefinitionError(
            f"{where}.path is {relative.as_posix()}, which does not exist after preparing "
            f"({path}){holds}. Fix the path in the definition",
            dataset=definition.id, path=definition._source, field=f"{where}.path",
        )


def typed_paths(typed: BaseModel) -> Iterator[tuple[str, Path]]:
    """Every ``path`` of a typed object, with the attribute path that leads to it."""
    return _paths(typed, "data")


def _paths(value: Any, where: str) -> Iterator[tuple[str, Path]]:
    """Every ``path`` of a typed object, with the attribute path that leads to it."""
    if isinstance(value, BaseModel):
        path = getattr(value, "path", None)
        if isinstance(path, Path):
            yield where, path
        names = [*type(value).model_fields, *(value.model_extra or {})]
        for name in names:
            if name != "path":
                yield from _paths(getattr(value, name, None), f"{where}.{name}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _paths(item, f"{where}.{index}")
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _paths(item, f"{where}.{name}")


def is_prepared(dataset: str | DatasetDefinition, *, settings: Settings | None = None) -> bool:
    """Whether a dataset is prepared in the data folder (no network, no hashing)."""
    settings = settings or load_settings()
    definition = resolve_definition(dataset, settings=settings)
    from dmconf.store.stores import prepared_elsewhere

    return prepared_elsewhere(settings, definition) is not None or DatasetState(
        settings.dataset_folder(definition)).is_prepared(definition)


def resolve_definition(
    dataset: str | DatasetDefinition | Mapping[str, Any],
    *,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
) -> DatasetDefinition:
    """A definition from an id (looked up in the catalogue), a mapping, or a definition.

    A derived definition's key is computed against the same catalogue (its inputs' ids are
    looked up there).
    """
    if isinstance(dataset, DatasetDefinition):
        definition = dataset
    elif isinstance(dataset, Mapping):
        definition = DatasetDefinition.from_mapping(dataset)
    else:
        catalog = catalog or Catalog.from_settings(settings)
        definition = catalog.find(dataset)
    if definition.croissant is not None:  # resources and data from Croissant metadata
        from dmconf.croissant.resolve import resolve_croissant

        definition = resolve_croissant(definition, settings or load_settings())
    if definition.derive is not None:
        from dmconf.derive.key import bind

        bind(definition, catalog, settings)
    return definition


def _from_remotes(definition: DatasetDefinition, settings: Settings) -> bool:
    """The settings' remotes, tried before the original URLs (a content-addressed mirror)."""
    if not settings.remotes:
        return False
    from dmconf.remote.transfer import prepare_from_remotes
    from dmconf.store.stores import group_shared

    with group_shared(settings):
        return prepare_from_remotes(definition, settings)


@dataclass
class _Others:
    """Other datasets a definition refers to (``_dataset`` nodes), prepared on demand."""

    settings: Settings
    catalog: Catalog | None
    used: bool = False  # the answer depends on other definitions: never noted

    def data(self, dataset_id: str, part: str) -> BaseModel:
        self.used = True
        obj: Any = prepare(dataset_id, settings=self.settings, catalog=self.catalog)
        for name in filter(None, part.split(".")):
            obj = getattr(obj, name)
        return obj

    def folder(self, dataset_id: str) -> Path:
        self.data(dataset_id, "")
        definition = resolve_definition(dataset_id, settings=self.settings, catalog=self.catalog)
        return self.settings.dataset_folder(definition)


def build_object(
    definition: DatasetDefinition, folder: Path, resolve: Resolver | None = None
) -> BaseModel:
    """The typed object of a definition whose files are (or will be) in ``folder``.

    ``resolve`` gives what it refers to in other datasets.
    """
    from dmconf.data.registry import build, resolve_type

    cls = resolve_type(definition.type or "generic", f"{definition.source}: type")
    return build(
        definition.data, cls, folder, f"{definition.id}: data", resolve, id=definition.id
    )


@dataclass
class _Job:
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


def _materialise(job: _Job, key: str, resource: Resource) -> None:
    """Fetch, verify and unpack one resource into ``folder/key``, under the resource's lock."""
    from dmconf.fetch.download import reclaim, remove_partial, remove_path, temp_path
    from dmconf.lock import locked
    from dmconf.store.reuse import reuse_sibling

    definition, folder = job.definition, job.folder
    lock = locked(folder / f".{key}.lock", f"downloading {definition.id}/{key}", job.locking)
    with _storage(definition.id, folder), lock:
        if DatasetState(folder).has(key, resource):
            return  # another process prepared it while this one waited
        urls = _usable_urls(job, key, resource)
        unpacker = _unpacker(job, resource)
        part, unpacked = temp_path(folder, key, "part"), temp_path(folder, key, "unpack")
        try:
            with _storage(definition.id, folder):
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


def _named(exc: UnpackError, job: _Job, key: str, url: str, temporaries: tuple[Path, ...]
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
    job: _Job, key: str, resource: Resource, urls: list[str], part: Path, unpacked: Path
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
    download = Download(part, stream, bar, job.cancel, limit=limit)
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


def _unpacker(job: _Job, resource: Resource) -> Unpacker:
    from dmconf.unpack import unpacker_for
    from dmconf.unpack.limits import Limits

    return unpacker_for(resource.unpack, Limits.of(job.settings, resource), resource.lines)


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


def _access_denied(job: _Job, key: str, url: str, exc: DownloadError) -> AccessDenied:
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


def _verify(job: _Job, key: str, resource: Resource, url: str, download: Download) -> None:
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
    job: _Job, key: str, resource: Resource, url: str, download: Download
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


def _usable_urls(job: _Job, key: str, resource: Resource) -> list[str]:
    """The URLs to try, rewritten by the settings' mirrors; offline, only ``file://`` ones.

    A file the user put in the dataset's manual folder comes first; a ``manual`` resource has
    nothing else, and is never requested from the network.
    """
    from dmconf.manual import dropped_file

    dropped = dropped_file(job.settings, job.definition, key, resource)
    urls = [_rewrite(url, job.settings.mirrors) for url in resource.urls]
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


def _rewrite(url: str, mirrors: dict[str, str]) -> str:
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
    from dmconf.store.swap import replace_in_place

    state = DatasetState(target.parent)
    if state.present(key):
        if state.has(key, resource):
            return False
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
