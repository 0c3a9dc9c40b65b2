"""The catalogue's persistent index: what each YAML root lists and what its definitions say.

One SQLite file per catalogue root, ``$DMCONF_CACHE/catalog/<digest of the root's path>.sqlite``,
holds:

- the listing of every folder of the root (its definition files, bad names, sub-folders), keyed
  by the folder's ``stat`` (modification and change times in ns, inode, device): ``list``,
  ``info`` and Hydra stat the folders only, and read a folder again when its key changed;
- the metadata that ``search`` reads (name, description, tags, tasks, licence, splits, download
  size, or why the file cannot be read), keyed by the file's ``stat`` (size, times in ns, inode,
  device): ``search`` stats every file and parses only those whose key changed. A folder
  whose files' names and ``stat`` all match a digest stamped when they were last read is
  current as a whole; the ``stat`` calls are made by :mod:`dmconf.catalog_stat` (on two
  cores for a large root).

A folder or file changed less than :data:`RECENT_NS` before it was read may change again without
its key changing (the times' resolution is coarse): it is read again next time, until it is old
enough to be trusted (git's "racy" files). A folder holding a symbolic link is always read again
(its target may change kind without the folder changing).

The file is never written in place: a process that finds something changed copies the index into
memory, updates it there, writes it to a temporary file beside the index and renames it over the
index. Readers open it as immutable (no locks, which shared file systems may not honour) and
always see a whole index, old or new; two writers at once each rename a whole index. An index that
cannot be read (garbage, another version) is rebuilt; a cache folder that cannot be written leaves
the index in memory for the process (slower, never wrong). ``DMCONF_CATALOG_INDEX=off`` keeps it
in memory always: every folder is listed and every searched definition is read, as before the
index existed.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import itertools
import json
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from dmconf import __version__
from dmconf.catalog_stat import recent, stat_keys
from dmconf.record import Record
from dmconf.settings_sources import ENV_CACHE

__all__ = ["ENV_INDEX", "RootIndex", "index_folder", "search_text"]

ENV_INDEX = "DMCONF_CATALOG_INDEX"
VERSION = f"6 dmconf {__version__}"  # a new dmconf may list or describe differently
RECENT_NS = 2_000_000_000
# A listing's ids and file names are stored as lines (a definition's id and name never hold
# one: they match ID_PATTERN), the rest as JSON; a stamp is a digest of the names and stat.
SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE dirs(rel TEXT PRIMARY KEY, key TEXT, racy INTEGER, ids TEXT, names TEXT,
                  rest TEXT);
CREATE TABLE files(rel TEXT PRIMARY KEY, key TEXT, racy INTEGER, problem TEXT, meta TEXT,
                   license TEXT, text TEXT, python INTEGER);
CREATE TABLE labels(rel TEXT, kind TEXT, value TEXT);
CREATE TABLE stamps(rel TEXT PRIMARY KEY, stamp TEXT);
CREATE INDEX labels_by_value ON labels(kind, value, rel);
CREATE INDEX labels_by_rel ON labels(rel);
CREATE INDEX files_in_python ON files(rel) WHERE problem IS NOT NULL OR python = 1;
"""
TYPE_CHECKING = False  # `typing` is not imported by `list` and `search`
if TYPE_CHECKING:
    from typing import Any

    Described = tuple[dict[str, Any] | None, str | None]  # (metadata, or why it is unreadable)
Report = Callable[[str], None]


def index_folder() -> Path:
    """Where the index files live: ``$DMCONF_CACHE/catalog`` (default: the user cache folder)."""
    explicit = os.environ.get(ENV_CACHE)
    if explicit:
        return Path(explicit).expanduser() / "catalog"
    import platformdirs

    return Path(platformdirs.user_cache_dir("dmconf", appauthor=False)) / "catalog"


def search_text(dataset_id: str, meta: dict[str, Any]) -> str:
    """The text whose substrings ``search`` matches: id, name, description, tags and tasks."""
    return " ".join([
        dataset_id, str(meta.get("name") or ""), str(meta.get("description") or ""),
        *labels(meta, "tags"), *labels(meta, "tasks"),
    ]).lower()


def labels(meta: dict[str, Any], kind: str) -> list[str]:
    """A tags or tasks field, lower case, whatever a broken file holds there."""
    value = meta.get(kind)
    return sorted({str(t).lower() for t in value}) if isinstance(value, list) else []


def _key(info: os.stat_result) -> str:
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}:{info.st_dev}"


def _racy(info: os.stat_result, now: int) -> bool:
    return max(info.st_mtime_ns, info.st_ctime_ns) > now - RECENT_NS


class RootIndex(Record):
    """The index of one catalogue root (``base`` as the catalogue names it)."""

    _shown = ("base", "origin", "_changed", "count", "unique")
    _compared = ("base", "origin", "_db", "_changed", "_dirs", "_files", "_fresh", "_listed",
                 "_where", "_rels", "count", "unique")

    def __init__(self, base: str, origin: str) -> None:
        self.base, self.origin = base, origin
        self._db: sqlite3.Connection | None = None
        self._changed = False
        self._dirs: dict[str, tuple[str, int, str, str, str]] = {}
        self._files: dict[str, tuple[str, int]] | None = None
        self._fresh: dict[str, Described] = {}
        # Each folder listed: its path below the root, its ids, its files' names as lines,
        # and (split when needed: ``list`` does not need them) as a list.
        self._listed: list[tuple[str, list[str], str, list[list[str]]]] = []
        self._where: dict[str, int] = {}  # folder -> its place
        self._rels: dict[str, str] | None = None  # id -> its first file
        self.count = 0  # files listed
        self.unique = False  # no id comes twice among them (told by the catalogue)

    @property
    def file(self) -> Path:
        digest = hashlib.sha256(os.path.abspath(self.base).encode()).hexdigest()[:24]
        return index_folder() / f"{digest}.sqlite"

    # --- reading and writing the file ------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """The index: the file as it is (read only), or a new one in memory."""
        if self._db is None:
            self._db = self._opened()
            if self._db is None:
                self._db, self._changed = _empty(self.base), True
        return self._db

    def _opened(self) -> sqlite3.Connection | None:
        if _off():
            return None
        path = self.file
        try:  # immutable: the file is only ever replaced, never changed, so no locks are taken
            db = sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True, check_same_thread=False)
        except (sqlite3.Error, ValueError, OSError):
            return None
        try:
            found = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if found.get("version") == VERSION and found.get("base") == self.base:
                return db
        except sqlite3.Error:  # not an index (garbage, a half-copied file): rebuilt
            pass
        db.close()
        return None

    def _writable(self) -> sqlite3.Connection:
        """A copy in memory to change (made once per process)."""
        db = self._connection()
        if not self._changed:
            copy = sqlite3.connect(":memory:", check_same_thread=False)
            db.commit()
            db.backup(copy)
            db.close()
            self._db, self._changed = copy, True
        return self._db  # type: ignore[return-value]

    def save(self) -> None:
        """Replace the index file with the copy changed in memory; a cache folder that cannot
        be written only leaves the next process the same work."""
        if not self._changed or _off():
            return
        path = self.file
        tmp = path.with_name(f".{path.name}.tmp")  # replaced by a unique name once made
        try:
            import tempfile  # only here: most commands find nothing changed

            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(handle)
            tmp = Path(name)
            source = self._writable()
            source.commit()  # a backup waits for the source's open transaction forever
            target = sqlite3.connect(tmp)
            try:
                source.backup(target)
            finally:
                target.close()
            os.replace(tmp, path)
        except (OSError, sqlite3.Error):
            pass
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._changed = False  # the copy in memory stays this process's index

    # --- listing ---------------------------------------------------------------------------

    def listing(self, report: Report) -> list[str]:
        """The id of every definition file, in the order of a sorted walk (their paths:
        :meth:`rels`); a file whose place makes no id and a folder that cannot be listed are
        reported in that order too."""
        try:
            rows = self._connection().execute("SELECT rel, key, racy, ids, names, rest FROM dirs")
            self._dirs = {row[0]: row[1:] for row in rows}
        except sqlite3.Error:
            self._dirs = {}
        ids: list[str] = []
        self._listed, self._where, self._rels = [], {}, None
        seen: set[str] = set()
        now = time.time_ns()
        todo = [""]
        while todo:
            rel = todo.pop()
            seen.add(rel)
            folder = os.path.join(self.base, rel) if rel else self.base
            listing = self._folder(rel, folder, now)
            ids += listing["ids"]
            self._where[rel] = len(self._listed)
            self._listed.append((rel, listing["ids"], listing["names"], []))
            for name in listing["bad"]:
                report(f"{Path(folder, name)}: its place in {self.base} does not make a "
                       "dataset id (letters, digits, '_' and '-' between dots); rename it")
            if listing["error"]:
                report(f"{folder} ({self.origin}): cannot be listed: {listing['error']}")
            todo += reversed(listing["dirs"])
        self.count = len(ids)
        gone = [rel for rel in self._dirs if rel not in seen]
        if gone:
            self._writable().executemany("DELETE FROM dirs WHERE rel = ?", [(r,) for r in gone])
            self._writable().executemany("DELETE FROM stamps WHERE rel = ?", [(r,) for r in gone])
            for rel in gone:
                self._forget(rel, _decoded(self._dirs[rel][2:]), {})
        return ids

    def _names(self, n: int) -> list[str]:
        """The names of the files of the n-th folder listed."""
        _, ids, text, split = self._listed[n]
        if not split:
            split.append(text.split("\n") if ids else [])
        return split[0]

    def rels(self) -> list[str]:
        """The path below the root of each file :meth:`listing` lists, in its order."""
        rels: list[str] = []
        for n, (folder, _, _, _) in enumerate(self._listed):
            below = folder + os.sep if folder else ""
            rels += [below + name for name in self._names(n)]
        return rels

    def rel_of(self, dataset_id: str) -> str:
        """The file used for a listed id: the first that a sorted walk meets."""
        if self._rels is None:
            ids = itertools.chain.from_iterable(ids for _, ids, _, _ in self._listed)
            self._rels = dict(reversed(list(zip(ids, self.rels(), strict=True))))
        return self._rels[dataset_id]

    def used(self, dataset_id: str, rel: str) -> bool:
        """Whether ``rel`` is the file listed and used for ``dataset_id`` (its id)."""
        if not self.unique:
            return self.rel_of(dataset_id) == rel
        folder, name = os.path.split(rel)
        n = self._where.get(folder)
        if n is None:
            return False
        names = self._names(n)  # sorted: a walk lists names in order
        at = bisect.bisect_left(names, name)
        return at < len(names) and names[at] == name

    @staticmethod
    def id_of(rel: str) -> str:
        """The id that a definition file's place below the root makes (as :meth:`listing`
        names it; whether the file is listed, and used for that id, is the caller's to check)."""
        return os.path.splitext(rel)[0].replace(os.sep, ".")

    def _forget(self, rel: str, before: dict[str, Any] | None, now: dict[str, Any]) -> None:
        """Drop the metadata of the files a folder listed before and lists no more."""
        removed = set(before["names"].split("\n") if before else ()) - set(
            now.get("names", "").split("\n"))
        removed.discard("")
        if removed:
            below = rel + os.sep if rel else ""
            db = self._writable()
            db.executemany("DELETE FROM files WHERE rel = ?", [(below + r,) for r in removed])
            db.executemany("DELETE FROM labels WHERE rel = ?", [(below + r,) for r in removed])

    def _folder(self, rel: str, folder: str, now: int) -> dict[str, Any]:
        try:
            info = os.stat(folder)
            key, racy = _key(info), _racy(info, now)
        except OSError:
            key, racy = "", True
        stored = self._dirs.get(rel)
        if stored is not None and stored[0] == key and key and not stored[1]:
            listing = _decoded(stored[2:])
            if listing is not None:
                return listing
        listing, volatile = _scan(folder, rel)
        row = (key, int(racy or volatile), *_encoded(listing))
        if stored is None or tuple(stored) != row:
            self._writable().execute(
                "INSERT OR REPLACE INTO dirs VALUES (?, ?, ?, ?, ?, ?)", (rel, *row))
            if stored is not None:
                self._forget(rel, _decoded(stored[2:]), listing)
        return listing

    # --- metadata --------------------------------------------------------------------------

    def refresh(self, rels: list[str], ids: list[str],
                read: Callable[[Path], dict[str, Any]]) -> None:
        """Make the metadata of these files current: stat each, read those that changed."""
        if rels:
            self._refresh(rels, ids, read)

    def refresh_listed(self, read: Callable[[Path], dict[str, Any]]) -> None:
        """Make the metadata of every listed file current (``search``): a folder whose files
        all have the ``stat`` they had when it was last stamped (and none had changed less
        than RECENT_NS before) is current as a whole, without looking at each file's stored
        key; the files of the others are compared one by one."""
        rels, stamps = self._unstamped()
        self.refresh(rels, [self.id_of(rel) for rel in rels], read)
        if stamps:
            self._writable().executemany("INSERT OR REPLACE INTO stamps VALUES (?, ?)", stamps)

    def _unstamped(self) -> tuple[list[str], list[tuple[str, str]]]:
        """The files of the folders whose stamp differs, and the new stamps of those folders
        to record once their files are read (none for a folder changed too recently)."""
        try:
            stored = dict(self._connection().execute("SELECT rel, stamp FROM stamps"))
        except sqlite3.Error:
            stored = {}
        found = stat_keys([(os.path.join(self.base, folder), self._names(n))
                           for n, (folder, _, _, _) in enumerate(self._listed)])
        left: list[str] = []
        stamps: list[tuple[str, str]] = []
        now = time.time_ns()
        for n, ((folder, _, text, _), keys) in enumerate(zip(self._listed, found, strict=True)):
            if keys is not None:
                digest = hashlib.sha256(text.encode("utf-8", "surrogateescape"))
                digest.update(b"\0" + keys)
                stamp = digest.hexdigest()
                if stored.get(folder) == stamp:
                    continue  # current as a whole: described() reads its files' rows when asked
                if not recent(keys, now, RECENT_NS):
                    stamps.append((folder, stamp))
            below = folder + os.sep if folder else ""  # a file cannot be stat'ed, or changed
            left += [below + name for name in self._names(n)]
        return left, stamps

    def _refresh(self, rels: list[str], ids: list[str],
                 read: Callable[[Path], dict[str, Any]]) -> None:
        db = self._connection()
        if self._files is None:
            try:
                self._files = {
                    rel: (key, racy) for rel, key, racy in
                    db.execute("SELECT rel, key, racy FROM files")
                }
            except sqlite3.Error:
                self._files = {}
        stored = self._files
        now = time.time_ns()
        base = os.path.join(self.base, "")  # ends with a separator
        stale = []
        for rel, dataset_id in zip(rels, ids, strict=True):
            if rel in self._fresh:
                continue
            try:
                info = os.stat(base + rel)
                key, racy = _key(info), _racy(info, now)
            except OSError:
                key, racy = "", True
            known = stored.get(rel)
            if known is None or known[0] != key or not key or known[1]:
                stale.append((rel, dataset_id, key, racy))
            else:
                self._fresh[rel] = (None, None)  # current: read from the index when asked
        if stale:
            self._reread(stale, read)

    def _reread(self, stale: list[tuple[str, str, str, bool]],
                read: Callable[[Path], dict[str, Any]]) -> None:
        from dmconf.yamlfile import UnreadableYaml

        db = self._writable()
        rows: list[tuple[Any, ...]] = []
        label_rows: list[tuple[str, str, str]] = []
        for rel, dataset_id, key, racy in stale:
            meta: dict[str, Any] | None = None
            problem: str | None = None
            try:
                meta = read(Path(self.base, rel))
            except UnreadableYaml as exc:
                problem = str(exc)
            self._fresh[rel] = (meta, problem)
            assert self._files is not None
            self._files[rel] = (key, int(racy))
            if meta is None:
                rows.append((rel, key, int(racy), problem, None, None, None, 0))
                continue
            text = search_text(dataset_id, meta)
            encoded = _json(meta)
            exact = encoded is not None and _storable(text) and all(
                _storable(v) for k in ("tags", "tasks") for v in labels(meta, k))
            license_ = str(meta.get("license") or "").lower()
            if not exact or not _storable(license_):  # matched in Python, from the file
                rows.append((rel, key, int(racy), None, None, None, None, 1))
                continue
            rows.append((rel, key, int(racy), None, encoded, license_, text, 0))
            label_rows += [(rel, kind, v) for kind in ("tags", "tasks") for v in labels(meta, kind)]
        db.executemany("DELETE FROM labels WHERE rel = ?", [(r[0],) for r in rows])
        db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO labels VALUES (?, ?, ?)", label_rows)

    def described(self, rel: str) -> Described:
        """The metadata of a refreshed file, or why it cannot be read (None, None: stored in a
        form that only the file itself gives back exactly)."""
        found = self._fresh.get(rel)
        if found is not None and (found[0] is not None or found[1] is not None):
            return found
        row = self._connection().execute(
            "SELECT problem, meta FROM files WHERE rel = ?", (rel,)).fetchone()
        if row is None or (row[0] is None and row[1] is None):
            return None, None
        described = (json.loads(row[1]) if row[1] is not None else None, row[0])
        self._fresh[rel] = described
        return described

    def matching(self, words: list[str], tags: set[str], tasks: set[str],
                 licenses: set[str]) -> tuple[set[str], set[str]]:
        """Refreshed files whose metadata matches (as :meth:`dmconf.catalog.Catalog.search`
        does), and files to check in Python (unreadable, or not stored exactly)."""
        where, args = ["problem IS NULL", "python = 0"], []
        if licenses:
            where.append(f"license IN ({', '.join('?' * len(licenses))})")
            args += sorted(licenses)
        for kind, wanted in (("tags", tags), ("tasks", tasks)):
            for value in sorted(wanted):
                where.append("rel IN (SELECT rel FROM labels WHERE kind = ? AND value = ?)")
                args += [kind, value]
        for word in words:
            where.append("instr(text, ?) > 0")
            args.append(word)
        db = self._connection()
        matched = {r for (r,) in db.execute(f"SELECT rel FROM files WHERE {' AND '.join(where)}",
                                            args)}
        other = {r for (r,) in db.execute(
            "SELECT rel FROM files WHERE problem IS NOT NULL OR python = 1")}
        return matched, other


def _off() -> bool:
    return os.environ.get(ENV_INDEX, "").strip().lower() in ("0", "off", "no", "false")


def _empty(base: str) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.executescript(SCHEMA)
    db.executemany("INSERT INTO meta VALUES (?, ?)", [("version", VERSION), ("base", base)])
    return db


def _scan(folder: str, rel: str) -> tuple[dict[str, Any], bool]:
    """One folder as a sorted walk sees it: the ids and paths of its definition files and the
    names of misplaced ones, in name order, the sub-folders to walk, or why it cannot be
    listed; and whether it holds a symbolic link."""
    from dmconf.catalog import SUFFIXES
    from dmconf.ids import ID_PATTERN

    listing: dict[str, Any] = {"ids": [], "names": [], "bad": [], "dirs": [], "error": None}
    files, dirs, volatile = [], [], False
    try:
        with os.scandir(folder) as found:
            for entry in found:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                link = entry.is_symlink()
                volatile = volatile or link
                if is_dir:
                    if not link:  # a linked folder is not walked into, as os.walk does
                        dirs.append(entry.name)
                else:
                    files.append(entry.name)
    except OSError as exc:
        listing["error"] = exc.strerror or str(exc)
        listing["names"] = ""
        return listing, True
    prefix = rel.replace(os.sep, ".") + "." if rel else ""
    below = rel + os.sep if rel else ""
    for name in sorted(files):
        stem, suffix = os.path.splitext(name)
        if suffix in SUFFIXES and not stem.startswith((".", "_")):
            if ID_PATTERN.match(prefix + stem):
                listing["ids"].append(prefix + stem)
                listing["names"].append(name)
            else:
                listing["bad"].append(name)
    listing["dirs"] = [below + d for d in sorted(dirs) if not d.startswith((".", "_"))]
    listing["names"] = "\n".join(listing["names"])  # as stored
    return listing, volatile


def _encoded(listing: dict[str, Any]) -> tuple[str, str, str]:
    """A folder's listing as stored: its ids and file names as lines, the rest as JSON."""
    rest = {k: listing[k] for k in ("bad", "dirs", "error")}
    return "\n".join(listing["ids"]), listing["names"], json.dumps(rest)


def _decoded(stored: tuple[Any, ...]) -> dict[str, Any] | None:
    """A folder's stored listing (ids, names, the rest), or None when it is not one."""
    try:
        ids, names, text = stored
        listing = json.loads(text)
    except (TypeError, ValueError):
        return None
    kinds: dict[str, Any] = {"bad": list, "dirs": list, "error": (str, type(None))}
    if not isinstance(listing, dict) or not isinstance(ids, str) or not isinstance(names, str) \
            or not all(isinstance(listing.get(k), t) for k, t in kinds.items()) \
            or ids.count("\n") != names.count("\n") or bool(ids) != bool(names):
        return None
    listing["ids"], listing["names"] = ids.split("\n") if ids else [], names
    return listing


def _json(meta: dict[str, Any]) -> str | None:
    """The metadata as JSON when it reads back equal (YAML dates, say, do not)."""
    try:
        text = json.dumps(meta)
    except (TypeError, ValueError):
        return None
    return text if json.loads(text) == meta and _storable(text) else None


def _storable(text: str) -> bool:
    """Whether SQLite keeps and compares the text as Python does (no lone surrogates, NUL)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
