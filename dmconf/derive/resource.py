"""Resources built by code: the ``build:`` field of a resource, run by the step ``plugin-code``.

A resource of a dataset defined by an installed plugin's Python module (a ported datamaestro
plugin) may be made by that plugin's code instead of downloaded: a document store built from
the downloaded corpus, files copied out of an archive, the query ids of a qrels file. Such a
resource is prepared like any other, in :func:`dmconf.preparation.prepared`:

- its inputs (``build.inputs``: other resources of the dataset; ``build.datasets``: other
  datasets) are prepared first, as usual;
- under the resource's own lock (the one a download takes: one build when many processes ask),
  the code writes ``<key>`` in a scratch folder ``.<key>.<pid>@<host>.unpack``; once it
  returns, its output is moved into place and the state file records its key and digest, so
  ``verify`` checks it like any materialised output. When the code raises or is interrupted,
  its half-written output is removed; the scratch folder stays only if the code kept something
  else there (a progress file), for the next run of the same build to resume (it is made that
  run's, without output); a later run removes any other;
- its key (:func:`build_key`) is the sha256 of the ``build`` block (code, plugin distribution
  and version, parameters) and of what its inputs' records say they hold: an input that
  changes builds it again.

**What runs.** Only code attached to the definition by the plugin's module that defines the
dataset (``DatasetDefinition._builders``, filled when that module builds the definition): the
same code dmconf imports to list the plugin's datasets. ``build:`` itself only describes that
code; a definition read from YAML (or a settings file's catalogue) has no code attached, and
preparing it is refused naming the dataset and the field. No import path is ever read from a
definition.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmconf.errors import DefinitionError, DmconfError, StepFailed

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition, Resource
    from dmconf.materialise import Job
    from dmconf.settings import Settings
    from dmconf.state import DatasetState

__all__ = ["FORMAT", "build_key", "build_order", "build_resource", "builder_of", "fetched"]

log = logging.getLogger("dmconf")

FORMAT = 1
#: dmconf's note of the build a scratch folder is for (a resumed run checks it)
MARK = ".dmconf-build"
#: Python modules whose pip name differs from the module's (what the error tells to install)
PIP_NAMES = {"impact_index": "impact-index", "ir_datasets": "ir-datasets", "yaml": "pyyaml",
             "sklearn": "scikit-learn", "PIL": "pillow"}

#: ``builder(destination, folder, prepare)``: write the resource at ``destination`` (which does
#: not exist), reading its inputs in the dataset's ``folder``; ``prepare(id)`` gives the
#: prepared data of another dataset
Builder = Callable[[Path, Path, Callable[[str], Any]], None]
#: the build running in this thread: its job, resource key and scratch folder (for fetched())
_CURRENT: contextvars.ContextVar[tuple[Job, str, Path] | None] = contextvars.ContextVar(
    "dmconf_build", default=None)


def build_key(key: str, resource: Resource, state: DatasetState) -> str:
    """The key of a built resource: its name, its ``build`` block and its inputs' recorded
    digests."""
    from dmconf.derive.key import canonical_json

    assert resource.build is not None
    inputs = {key: state.resources.get(key, {}).get("materialised")
              for key in resource.build.inputs}
    document = {"format": FORMAT, "resource": key, "build": resource.build.model_dump(),
                "inputs": inputs}
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def build_order(resources: dict[str, Resource]) -> list[str]:
    """The built resources among ``resources``, each after the built ones it reads (the
    definition refuses cycles)."""
    order: list[str] = []

    def visit(key: str) -> None:
        resource = resources.get(key)
        if key in order or resource is None or resource.build is None:
            return
        for other in resource.build.inputs:
            visit(other)
        order.append(key)

    for key in resources:
        visit(key)
    return order


def builder_of(definition: DatasetDefinition, key: str, settings: Settings | None = None
               ) -> Builder:
    """The code that builds resource ``key``: only what the defining plugin attached.

    A definition read from a mapping (a Hydra node, ``dmconf.load``) carries no code: it gets
    the code of the catalogue's definition of the same id when that one comes from a plugin's
    module and describes the resource with exactly the same ``build`` block (the code that
    runs is then the one preparing that id would run anyway).
    """
    found = definition._builders.get(key)
    if found is None and definition._source is None:
        found = _catalogued(definition, key, settings)
    if found is None:
        build = definition.resources[key].build
        code = build.code if build is not None else "?"
        raise DefinitionError(
            f"resource {key!r} is built by plugin code ({code}), which dmconf runs only for a "
            f"definition an installed plugin's Python module makes; this one comes from "
            f"{definition.source}, so nothing is run. Install the plugin that defines "
            f"{definition.id} (and remove this definition), or give the resource a url",
            dataset=definition.id, path=definition._source, field=f"resources.{key}.build",
        )
    return found


def _catalogued(definition: DatasetDefinition, key: str, settings: Settings | None
                ) -> Builder | None:
    from dmconf.catalog import Catalog

    try:
        known = Catalog.from_settings(settings).find(definition.id)
    except DmconfError:
        return None
    same = key in known.resources and known.resources[key].build == definition.resources[
        key].build
    return known._builders.get(key) if same else None


def build_resource(job: Job, key: str, resource: Resource) -> None:
    """Build one resource into ``folder/key`` under the resource's lock (see the module)."""
    from dmconf.checksum import file_sha256, tree_sha256
    from dmconf.fetch.download import remove_path, temp_path
    from dmconf.lock import locked
    from dmconf.materialise import _move_into_place, storage
    from dmconf.preparation import prepare
    from dmconf.state import DatasetState

    definition, folder = job.definition, job.folder
    builder = builder_of(definition, key, job.settings)
    assert resource.build is not None

    def data(dataset_id: str) -> Any:
        return prepare(dataset_id, settings=job.settings)

    for dataset_id in resource.build.datasets:  # before any lock of this dataset's
        data(dataset_id)
    lock = locked(folder / f".{key}.lock", f"building {definition.id}/{key}", job.locking)
    with storage(definition.id, folder), lock:
        state = DatasetState(folder)
        if state.has(key, resource):
            return  # another process built it while this one waited
        _check_inputs(definition, key, resource, state)
        wanted = build_key(key, resource, state)
        scratch = temp_path(folder, key, "unpack")
        _resume(folder, key, scratch, wanted)  # what a failed run of this build kept
        if not scratch.is_dir():
            os.mkdir(scratch)  # the code's own: what it writes beside its output stays in it
            (scratch / MARK).write_text(wanted)
        target = scratch / key
        try:
            log.info("%s: building %s (%s)", definition.id, key, _code(resource))
            token = _CURRENT.set((job, key, scratch))
            try:
                _run(definition, key, resource, lambda: builder(target, folder, data))
            finally:
                _CURRENT.reset(token)
            if not os.path.lexists(target) or target.is_symlink():
                raise StepFailed(
                    f"{definition.id}: resource {key!r}: the plugin code ({_code(resource)}) "
                    f"returned without writing it; nothing was kept",
                    dataset=definition.id, resource=key)
            digest = tree_sha256(target) if target.is_dir() else file_sha256(target)
            if _move_into_place(target, folder / key, key, resource):
                DatasetState(folder, job.locking).record(key, wanted, digest, "build")
            remove_path(scratch)
        finally:
            remove_path(target)  # never a half-written output
            if scratch.is_dir() and {e.name for e in os.scandir(scratch)} <= {MARK}:
                remove_path(scratch)  # kept only with what the code keeps to resume
    log.info("%s: %s built (%s)", definition.id, key, folder / key)


@contextmanager
def fetched(url: str, *, size: int | None = None, sha256: str | None = None,
            md5: str | None = None) -> Iterator[Path]:
    """A URL the running build's code asks for, downloaded by dmconf like any resource (the
    settings' ``mirrors:``, offline mode, retries, resuming, ``size`` or the settings'
    ``download_max_size``, the checksums verified, the manual folder) into the build's scratch
    folder, and removed once the ``with`` block ends. Outside a build it is refused."""
    from dmconf.definition import Resource as ResourceModel
    from dmconf.fetch.download import remove_path
    from dmconf.materialise import Job, materialise

    current = _CURRENT.get()
    if current is None:
        raise StepFailed(f"{url}: code asks dmconf to download it outside a resource's build; "
                         "only the code building a resource may (`dmconf prepare` runs it)")
    job, key, scratch = current
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lstrip(".")[:100] or "download"
    if name in (key, MARK) or not name.isprintable():
        name = f"download-{name}"
    resource = ResourceModel(url=url, size=size, sha256=sha256, md5=md5)
    fetching = Job(job.definition, scratch, job.settings, cancel=job.cancel)
    fetching.summary, fetching.locking = job.summary, job.locking
    before = {e.name for e in os.scandir(scratch)}
    try:
        materialise(fetching, name, resource)
        yield scratch / name
    finally:  # the download, its lock and state file: what materialise added to the scratch
        for entry in os.scandir(scratch):
            if entry.name not in before and entry.name != key:
                remove_path(Path(entry.path))


def _resume(folder: Path, key: str, scratch: Path, wanted: str) -> None:
    """Clean the scratch folders that gone runs left (killed, or failed in this process);
    make the newest of the same build (same key) ours, without its half-written output, so
    that code keeping its progress beside its output (as ``wayback_documents`` does) resumes."""
    from dmconf.fetch.download import LEFTOVER, gone, remove_path

    found = []
    for entry in os.scandir(folder):
        match = LEFTOVER.fullmatch(entry.name[len(key) + 2:]) if entry.name.startswith(
            f".{key}.") else None
        path = Path(entry.path)
        if match is None or match[3] != "unpack" or not gone(int(match[1]), match[2], path):
            continue
        try:
            same = entry.is_dir(follow_symlinks=False) and (path / MARK).read_text() == wanted
        except (OSError, UnicodeDecodeError):
            same = False
        if same:
            found.append((entry.stat(follow_symlinks=False).st_mtime, path))
        else:
            remove_path(path)
    found.sort(reverse=True)
    for number, (_, path) in enumerate(found):
        if number == 0:
            if path != scratch:
                os.replace(path, scratch)
            remove_path(scratch / key)
        else:
            remove_path(path)


def _check_inputs(definition: DatasetDefinition, key: str, resource: Resource,
                  state: DatasetState) -> None:
    assert resource.build is not None
    missing = [name for name in resource.build.inputs
               if name not in state.resources or not state.present(name)]
    if missing:
        raise StepFailed(
            f"{definition.id}: resource {key!r} is built from {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not prepared; prepare the dataset again "
            "(it fetches them first)", dataset=definition.id, resource=key)


def _code(resource: Resource) -> str:
    assert resource.build is not None
    build = resource.build
    return f"{build.code} of {build.plugin} {build.version}"


def _run(definition: DatasetDefinition, key: str, resource: Resource,
         call: Callable[[], None]) -> None:
    """Run the plugin's code; say which dataset, resource and code failed, and how to go on."""
    try:
        call()
    except DmconfError:
        raise
    except ImportError as exc:
        module = (getattr(exc, "name", None) or "").split(".")[0]
        if not module:
            raise _failed(definition, key, resource, exc) from exc
        package = PIP_NAMES.get(module, module.replace("_", "-"))
        raise StepFailed(
            f"{definition.id}: resource {key!r} is built by {_code(resource)}, which needs the "
            f"Python module {module!r}: install it (`pip install {package}`), then prepare "
            "again; nothing was kept", dataset=definition.id, resource=key, module=module,
        ) from exc
    except Exception as exc:
        raise _failed(definition, key, resource, exc) from exc


def _failed(definition: DatasetDefinition, key: str, resource: Resource, exc: Exception
            ) -> StepFailed:
    return StepFailed(
        f"{definition.id}: building resource {key!r} failed in {_code(resource)} "
        f"({type(exc).__name__}: {exc}); nothing was kept, and preparing again builds it "
        "again (`dmconf --debug prepare` shows the traceback)",
        dataset=definition.id, resource=key, step=resource.build.code if resource.build else "",
    )

