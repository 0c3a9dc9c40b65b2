"""The warm path: an already prepared dataset answered without reading settings or definitions.

After a prepare, :func:`remember` notes what the answer depended on (a :class:`Warm` note) and
what it was: the dataset's folder, content digest and resource names, the paths of its typed
object, and (for the command line) the JSON that ``dmconf prepare`` printed. The next call
recomputes the note's *fingerprint*, with ``stat`` calls only:

- the ``DMCONF_*`` variables (and ``HOME``, ``XDG_*``, which place the default folders) and
  the settings file;
- the definition file and, in every catalogue root, the files that would define the same id
  (a duplicate appearing, a definition removed or moved);
- the installed distributions: every ``sys.path`` folder (installing, upgrading or removing a
  distribution adds or removes its ``.dist-info`` there), which covers catalogue plugins, Python
  definitions and data types from plugins;
- dmconf's own modules, for a note read by another process (an editable install being
  edited; a running process keeps the code it imported).

When it matches, the dataset is still checked as :func:`dmconf.prepare` checks it: the state
file (the completion marker) names the content digest, every resource is in place and is not a
symbolic link, every path of the typed object exists. Anything else, and the normal path runs
(and notes anew). Answers that depend on more than this (read-only stores, terms, derived
datasets, Croissant) are never noted: see :func:`declined`. Notes are kept in memory for the
Python API and, for the command line, in ``$DMCONF_CACHE/prepared/`` (the user's cache folder,
never the shared data folder), read without following links.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import sys
import time
from pathlib import Path

from dmconf.settings_sources import cache_folder, settings_file

TYPE_CHECKING = False  # typing itself is not imported: a waiting process would pay for it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pydantic import BaseModel

    from dmconf.catalog import Catalog
    from dmconf.preparation import Answer

__all__ = ["Warm", "claim_or_wait", "claimed", "declined", "noted", "recall", "recall_json",
           "release_claims", "remember"]

VERSION = 1
STATE_FILE = ".dmconf-state.json"  # dmconf.state.STATE_FILE, without importing the models
SUFFIXES = (".yaml", ".yml")  # dmconf.catalog.SUFFIXES
PACKAGE = Path(__file__).resolve().parent
# A file changed this recently may change again within the file system's time resolution
# without its size or time changing (git's "racy" files): answers that depend on one are not noted.
RECENT_NS = 2_000_000_000
_MEMORY: dict[str, tuple[Warm, BaseModel]] = {}
_CLAIMS: list[int] = []  # file descriptors of the claims this process holds
WAIT = b"wait"  # a claim's holder waits for locks as long as they are held
CLAIM_POLL = 0.02  # seconds between attempts of a waiting claim (no import, no CPU to speak of)


class Warm:
    """What one prepared answer depended on, and what it was (a plain class: ``dataclasses``
    imports ``inspect``, which a process waiting on a claim would pay for)."""

    def __init__(
        self, dataset: str, roots: list[str], source: str, folder: str, digest: str,
        resources: list[str], paths: list[str], fingerprint: list[Any], output: str = "",
        code: list[Any] | None = None,
    ) -> None:
        self.dataset = dataset
        self.roots = roots  # the catalogue roots, in order
        self.source = source  # the definition file
        self.folder = folder
        self.digest = digest  # the definition's content digest, as the state file holds it
        self.resources = resources
        self.paths = paths  # every path of the typed object
        self.fingerprint = fingerprint
        self.output = output  # the JSON `dmconf prepare` printed
        self.code = code  # dmconf's modules, for a note read by another process

    def valid(self) -> bool:
        """Nothing it depends on changed, and the dataset is still prepared."""
        return (
            _fingerprint(self.dataset, self.roots, self.source) == self.fingerprint
            and _prepared(Path(self.folder), self.digest, self.resources)
            and all(os.path.lexists(p) for p in self.paths)
        )


def remember(
    dataset: str, catalog: Catalog, answer: Answer, *, started: int, output: str | None = None,
) -> None:
    """Note a prepared answer (in memory; with ``output``, also in the cache folder), unless
    it depends on something the fingerprint does not cover (:func:`declined`).

    ``started`` is the ``time.time_ns()`` before anything was read: a file changed after it,
    or within RECENT_NS before it, could change again unseen, so the answer is not noted.
    """
    note = _note(dataset, catalog, answer, started)
    if note is None:
        return
    note.output = output or ""
    _MEMORY[_key(dataset)] = (note, answer.typed)
    if output is not None:
        _write(_file(dataset), json.dumps({"version": VERSION, **note.__dict__}))


def noted(dataset: str, catalog: Catalog, answer: Answer, *, started: int) -> bool:
    """Whether :func:`remember` will note this answer (known before anything is downloaded)."""
    return _note(dataset, catalog, answer, started) is not None


def _note(dataset: str, catalog: Catalog, answer: Answer, started: int) -> Warm | None:
    from dmconf.preparation import typed_paths

    definition, typed = answer.definition, answer.typed
    if declined(answer):
        return None
    entry = catalog.entry(dataset)
    if entry.path.suffix not in SUFFIXES or not _only_dmconf_types(typed):
        return None  # Python definitions and plugins' types change with code not stat'ed
    if len(catalog.places(definition.dataset_id)) > 1:
        return None  # defined in several places: the full path says so on each run
    roots = [str(root.path) for root in catalog.roots]
    times: list[int] = []
    fingerprint = _fingerprint(dataset, roots, str(entry.path), times)
    code = _sources(times)  # a running process's code does not change: checked across runs
    if max(times, default=0) > started - RECENT_NS:
        return None
    return Warm(
        dataset=dataset, roots=roots, source=str(entry.path), folder=str(answer.folder),
        digest=definition.content_digest(), resources=list(definition.resources),
        paths=[str(path) for _, path in typed_paths(typed)], fingerprint=fingerprint, code=code,
    )


def declined(answer: Answer) -> bool:
    """Whether an answer depends on more than the fingerprint covers, so it is never noted
    (each of these runs the full path every time, as it did before the warm path):

    - read-only stores (``data:`` a list, issue 15): which store answers depends on what the
      others hold, written by other users at any time;
    - ``terms:`` (issue 17): acceptance is read from the user's agreements and the settings at
      every prepare, so accepting or revoking is always seen;
    - derived datasets and datasets built from others (issue 19): the answer depends on the
      inputs' definitions and outputs;
    - ``croissant:`` definitions (issue 16): completed from metadata cached outside the
      catalogue.
    """
    definition = answer.definition
    return bool(
        answer.elsewhere or answer.settings.read_only or answer.others or definition.terms
        or definition.derive is not None or definition.croissant is not None
    )


def recall(dataset: str) -> BaseModel | None:
    """The typed object of a dataset prepared earlier in this process, if nothing changed."""
    found = _MEMORY.get(_key(dataset))
    if found is None or not found[0].valid():
        return None
    return found[1].model_copy(deep=True)  # callers may change theirs


def recall_json(dataset: str) -> str | None:
    """What ``dmconf prepare DATASET`` printed last time, if nothing changed since."""
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        with open(_file(dataset), "rb", opener=_nofollow) as file:
            content = json.loads(file.read(1 << 20))
        if content.pop("version", None) == VERSION:
            note = Warm(**content)
            if (note.dataset == dataset and note.output and note.valid()
                    and note.code == _sources([])):
                return note.output
    return None


def claim_or_wait(dataset: str, say: Callable[[str], None] | None = None) -> str | None:
    """Before ``dmconf prepare DATASET`` takes the full path: claim it, or wait for the claim.

    The claim is an ``flock`` on the note's ``.lock`` file, taken without blocking by the first
    process of this user that misses the note; it is held until that process has prepared and
    noted (:func:`release_claims`). A process that finds it held waits, without importing
    settings, models or the catalogue (8 jobs starting at once pay for one), then answers from
    the note as any warm call would, after every check of :meth:`Warm.valid`. Returns that
    answer, or None: take the full path (as before, when the note declines, the holder failed,
    the holder's settings give ``lock_timeout`` (it is kept: the full path waits as long), or
    the cache folder is on a network file system, where ``flock`` may not exclude).
    """
    import fcntl

    path = _file(dataset).with_suffix(".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if _on_network(path.parent):
            return None
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pass
    except OSError:
        os.close(fd)
        return None
    else:
        os.ftruncate(fd, 0)  # the holder writes its lock_timeout once its settings are read
        _CLAIMS.append(fd)
        return None
    try:
        waiting = False
        while True:
            if os.pread(fd, 64, 0) not in (b"", WAIT):  # the holder's jobs do not wait forever
                return None
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting and say is not None:
                    say(f"waiting for another process to finish preparing {dataset} "
                        f"(lock {path})")
                waiting = True
                time.sleep(CLAIM_POLL)
        return recall_json(dataset)
    except OSError:
        return None
    finally:
        os.close(fd)  # releases a shared lock taken


def claimed(lock_timeout: float | None) -> None:
    """The claims held: the settings' ``lock_timeout``, read by processes waiting on them."""
    for fd in _CLAIMS:
        with contextlib.suppress(OSError):
            os.pwrite(fd, WAIT if lock_timeout is None else repr(lock_timeout).encode(), 0)


def release_claims() -> None:
    """Let the processes waiting on this one's claims go on (after its note is written)."""
    while _CLAIMS:
        with contextlib.suppress(OSError):
            os.close(_CLAIMS.pop())


def _on_network(path: Path) -> bool:
    from dmconf.lock import NETWORK, filesystem_type

    fstype = filesystem_type(path)
    return fstype in NETWORK or fstype.startswith("fuse.")


def _nofollow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))


def _key(dataset: str) -> str:
    """The id and the environment that decides where its answer comes from: the ``DMCONF_*``
    variables, and those that place the default settings and data folders."""
    env = sorted((k, v) for k, v in os.environ.items()
                 if k.startswith(("DMCONF_", "XDG_")) or k in ("HOME", "USERPROFILE"))
    return json.dumps([dataset, sys.executable, env])


def _file(dataset: str) -> Path:
    name = hashlib.sha256(_key(dataset).encode()).hexdigest()[:32]
    return cache_folder() / "prepared" / f"{name}.json"


def _write(path: Path, text: str) -> None:
    """Write atomically; a cache that cannot be written only costs speed."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "x", encoding="utf-8", opener=_nofollow) as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _stat(path: str, times: list[int]) -> list[int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    times.append(info.st_mtime_ns)
    return [info.st_mtime_ns, info.st_size, info.st_ino]


def _fingerprint(
    dataset: str, roots: list[str], source: str, times: list[int] | None = None
) -> list[Any]:
    """Stat calls that change when anything the answer depends on changes (``times`` gets
    the modification times seen)."""
    times = [] if times is None else times
    *folders, name = re.split("[@:+]", dataset, maxsplit=1)[0].split(".")  # a ref's plain id
    candidates = [os.path.join(root, *folders, name + suffix)
                  for root in roots for suffix in SUFFIXES]
    installed = [[entry, _stat(entry, times)] for entry in sys.path if entry]
    return [
        VERSION, _key(dataset), _stat(str(settings_file()), times), _stat(source, times),
        [_stat(path, times) for path in candidates], installed,
    ]


def _sources(times: list[int]) -> list[list[Any]]:
    """dmconf's own modules: their names, sizes and times (an editable install being edited)."""
    found: list[list[Any]] = []
    folders = [str(PACKAGE)]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    info = entry.stat()
                    times.append(info.st_mtime_ns)
                    found.append([entry.path, info.st_mtime_ns, info.st_size])
                elif entry.is_dir() and not entry.name.startswith(("_", ".")):
                    folders.append(entry.path)
    return sorted(found)


def _prepared(folder: Path, digest: str, resources: list[str]) -> bool:
    """What :meth:`dmconf.state.DatasetState.is_prepared` checks, without the models: the
    state file names the digest, every resource is there and none is a symbolic link."""
    try:
        fd = os.open(folder / STATE_FILE, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with open(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return False
            content = json.loads(file.read(16 << 20))
        if not isinstance(content, dict) or content.get("digest") != digest:
            return False
        return all(stat.S_ISDIR(m) or stat.S_ISREG(m)
                   for m in (os.lstat(folder / key).st_mode for key in resources))
    except (OSError, ValueError):
        return False


def _only_dmconf_types(typed: BaseModel) -> bool:
    """Whether every model in the typed object is one of dmconf's own types."""
    from pydantic import BaseModel

    def walk(value: Any) -> bool:
        if isinstance(value, BaseModel):
            if not type(value).__module__.startswith("dmconf."):
                return False
            return all(walk(getattr(value, n, None))
                       for n in [*type(value).model_fields, *(value.model_extra or {})])
        if isinstance(value, list | tuple):
            return all(walk(v) for v in value)
        if isinstance(value, dict):
            return all(walk(v) for v in value.values())
        return True

    return walk(typed)
