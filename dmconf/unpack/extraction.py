"""Writing archive members into a fresh folder so that nothing lands outside it.

Shared by the tar and zip unpackers. Nothing here uses ``os.path.realpath`` (a symlink chain
longer than PATH_MAX makes its non-strict form give up and answer lexically), nor ``tarfile``'s
``data`` filter (which relies on it before Python 3.11.13 / 3.12.11 / 3.13.4). Instead:

- a member's name is checked (:mod:`dmconf.unpack.members`); every folder is reached from the
  root one component at a time, each opened ``O_DIRECTORY | O_NOFOLLOW`` relative to its
  parent's descriptor (made with ``mkdir(dir_fd=...)`` if missing): a path that passes through
  a symlink or a file is refused, and no path is ever looked up from the root again, so another
  user who swaps a folder for a link between two members cannot redirect a write (the
  descriptors, cached per folder, :data:`MAX_OPEN` at most, keep pointing at the folders made);
- files are created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` in their folder's descriptor; a name
  already taken by an earlier member (tar allows it: the last one wins) is unlinked first,
  never written through;
- a link's target is resolved component by component (:func:`resolve`), following links already
  extracted, by hand, with a hop limit; it must stay inside the folder;
- before the folder is renamed into place, :meth:`Extraction.finish` resolves every symlink the
  archive made again, because a link may only point outside once a *later* link exists.

Sizes and member counts are checked against :class:`~dmconf.unpack.limits.Limits` as bytes are
written. Modes follow the umask: an archive's 0600 or 0777 never decides who reads a dataset.
What is written is hashed on the way: :meth:`Extraction.digest` equals
:func:`dmconf.checksum.tree_sha256` of the folder without reading it back.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO

from dmconf.errors import UnpackError
from dmconf.unpack.limits import DEFAULT, Limits
from dmconf.unpack.members import check_name, folder_umask, refuse

__all__ = ["Extraction", "resolve"]

MAX_HOPS = 40  # symlinks followed while resolving one path, as the kernel's ELOOP limit
MAX_OPEN = 128  # folder descriptors kept open at once (then all are closed and reopened)
CHUNK = 1 << 20
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | NOFOLLOW | CLOEXEC
CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC
DIR = ("D", "")  # the digest's entry of a folder


class Escape(Exception):
    """A path resolves outside the extraction root (or loops)."""


def resolve(root: str, parts: list[str]) -> list[str]:
    """Resolve ``parts`` (below ``root``) following symlinks by hand; return the real parts.

    Raises :class:`Escape` when the path goes above ``root``, loops, or follows an absolute
    link. A component that does not exist ends the walk: what follows is taken as written.
    """
    done: list[str] = []
    todo = list(reversed(parts))
    hops = 0
    while todo:
        part = todo.pop()
        if part in ("", "."):
            continue
        if part == "..":
            if not done:
                raise Escape("it goes above the folder")
            done.pop()
            continue
        try:
            info = os.lstat(os.path.join(root, *done, part))
        except (FileNotFoundError, NotADirectoryError):
            done.append(part)
            continue
        if not stat.S_ISLNK(info.st_mode):
            done.append(part)
            continue
        hops += 1
        if hops > MAX_HOPS:
            raise Escape("its links loop or chain too deep")
        target = os.readlink(os.path.join(root, *done, part))
        if target.startswith("/"):
            raise Escape(f"it reaches the absolute link {target!r}")
        todo.extend(reversed(target.split("/")))
    return done


class Extraction:
    """A folder being filled with the members of one archive; :meth:`close` it."""

    def __init__(self, archive: Path, target: Path, consumed: int,
                 limits: Limits = DEFAULT) -> None:
        self.archive = archive
        self.name = archive.name  # read for every member: a plain attribute, not Path's
        self.root = str(target)
        self.consumed = consumed  # the archive's size, for the ratio
        self.limits = limits
        self.produced = 0
        self.members = 0
        target.mkdir()
        self.umask = folder_umask(target)
        self._root_fd = os.open(self.root, FOLDER)
        self._fds: dict[str, int] = {}  # folder (relative, '/'-joined) -> open descriptor
        self._entries: dict[str, tuple[str, str]] = {}  # what the digest covers
        self._links: list[list[str]] = []  # every symlink made, checked again by finish()

    # -- members ------------------------------------------------------------------------
    def directory(self, name: str) -> None:
        parts = self._start(name, folder=True)
        if parts:
            self._folder(name, parts)

    def file(self, name: str, source: IO[bytes], executable: bool,
             taken: Callable[[], object] | None = None, size: int | None = None) -> None:
        """Write a regular member; ``taken`` runs before an earlier member's name is reused.
        ``size``, when the archive says it, saves asking ``source`` for more once it is read
        (``source`` must then raise if it has fewer bytes, as ``tarfile``'s members do)."""
        parts = self._start(name)
        folder = self._folder(name, parts[:-1])
        mode = (0o777 if executable else 0o666) & ~self.umask
        fd = self._make(name, folder, parts[-1], taken,
                        lambda: os.open(parts[-1], CREATE, mode, dir_fd=folder))
        digest = hashlib.sha256()
        left = -1 if size is None else size
        try:
            while left and (chunk := source.read(CHUNK if left < 0 else min(left, CHUNK))):
                left -= len(chunk) if left > 0 else 0
                self.produced += len(chunk)
                self._check()
                digest.update(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        self._entries["/".join(parts)] = ("F", digest.hexdigest())

    def symlink(self, name: str, target: str) -> None:
        parts = self._start(name)
        if "\0" in target or target.startswith(("/", "\\")) or target[1:2] == ":":
            raise refuse(self.archive, name, f"it links to the absolute path {target!r}")
        folder = self._folder(name, parts[:-1])
        try:
            resolve(self.root, [*parts[:-1], *target.split("/")])
        except Escape as exc:
            raise refuse(self.archive, name, f"it links to {target!r}, outside its folder: "
                         f"{exc}") from None
        self._make(name, folder, parts[-1], None,
                   lambda: os.symlink(target, parts[-1], dir_fd=folder))
        self._entries["/".join(parts)] = ("L", target)
        self._links.append(parts)

    def hardlink(self, name: str, target: str) -> None:
        """A tar hard link: ``target`` names an earlier member (from the archive's root)."""
        parts = self._start(name)
        if target.startswith(("/", "\\")) or ".." in target.replace("\\", "/").split("/"):
            raise refuse(self.archive, name, f"it links to {target!r}, outside its folder")
        written = [p for p in target.split("/") if p not in ("", ".")]
        source = os.path.join(self.root, *written)
        try:
            if resolve(self.root, target.split("/")) != written:
                raise Escape("it goes through a symbolic link")
            info = os.lstat(source)
        except (Escape, OSError) as exc:
            raise refuse(self.archive, name, f"it links to {target!r}, which is not a file "
                         f"extracted before it ({exc})") from None
        entry = self._entries.get("/".join(written))
        if not stat.S_ISREG(info.st_mode) or entry is None or entry[0] != "F":
            raise refuse(self.archive, name, f"it links to {target!r}, which is not a file")
        folder = self._folder(name, parts[:-1])
        self._make(name, folder, parts[-1], None, lambda: os.link(
            source, parts[-1], dst_dir_fd=folder, follow_symlinks=False))
        self._entries["/".join(parts)] = entry

    # -- the whole tree -----------------------------------------------------------------
    def finish(self) -> None:
        """Check every symlink made once all exist; refuse the archive if one escapes."""
        for relative in self._links:
            try:
                resolve(self.root, relative)
            except Escape as exc:
                member = "/".join(relative)
                raise refuse(self.archive, member, f"once every member is extracted, it "
                             f"points outside its folder ({exc})") from None

    def digest(self) -> str:
        """:func:`dmconf.checksum.tree_sha256` of what was written, from what was written."""
        children: dict[str, list[str]] = {}
        for relative in self._entries:
            parent, _, leaf = relative.rpartition("/")
            children.setdefault(parent, []).append(leaf)
        digest = hashlib.sha256()
        folders = [""]
        while folders:  # os.walk's order: a folder's sorted entries, then its folders'
            folder = folders.pop()
            below = []
            for leaf in sorted(children.get(folder, ())):
                relative = f"{folder}/{leaf}" if folder else leaf
                kind, value = self._entries[relative]
                if kind == "D":
                    digest.update(f"D {relative}\n".encode("utf-8", "surrogateescape"))
                    below.append(relative)
                else:
                    digest.update(f"{kind} {relative}\0{value}\n".encode(
                        "utf-8", "surrogateescape"))
            folders.extend(reversed(below))
        return digest.hexdigest()

    def close(self) -> None:
        """Close the folders' descriptors (the folder itself stays)."""
        for fd in [*self._fds.values(), self._root_fd]:
            os.close(fd)
        self._fds.clear()
        self._root_fd = -1

    def __enter__(self) -> Extraction:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- helpers ------------------------------------------------------------------------
    def _start(self, name: str, folder: bool = False) -> list[str]:
        """Check a member's name; return its components (none for ``./``, the root itself,
        which only a folder member may be)."""
        check_name(self.archive, name)
        self.members += 1
        self._check()
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if not parts and not folder:
            raise refuse(self.archive, name, "it has no name")
        return parts

    def drain(self, stream: IO[bytes]) -> None:
        """Read ``stream`` to its end after the archive's last member, so that a truncated or
        corrupt compressed stream fails. What it inflates there is never written but counts
        against the size and ratio limits all the same: a bomb appended after the end of a
        tar archive would otherwise cost unbounded CPU time."""
        after = 0
        while chunk := stream.read(1 << 20):
            after += len(chunk)
            self.limits.check(self.name, self.produced + after, self.consumed, self.members)

    def _check(self) -> None:
        self.limits.check(self.name, self.produced, self.consumed, self.members)

    def _folder(self, name: str, parts: list[str]) -> int:
        """The descriptor of the folder ``parts``, made if missing; refuse links and files."""
        if not parts:
            return self._root_fd
        key = "/".join(parts)
        fd = self._fds.get(key)
        if fd is not None:
            return fd
        if len(self._fds) + len(parts) > MAX_OPEN:
            for open_fd in self._fds.values():
                os.close(open_fd)
            self._fds.clear()
        depth = len(parts) - 1  # the deepest folder already open
        while depth and "/".join(parts[:depth]) not in self._fds:
            depth -= 1
        fd = self._fds["/".join(parts[:depth])] if depth else self._root_fd
        for index in range(depth, len(parts)):
            fd = self._open_folder(name, fd, parts[: index + 1])
        return fd

    def _open_folder(self, name: str, parent: int, parts: list[str]) -> int:
        part, key = parts[-1], "/".join(parts)
        try:
            fd = os.open(part, FOLDER, dir_fd=parent)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):  # made meanwhile: opened below
                os.mkdir(part, 0o777 & ~self.umask, dir_fd=parent)
            fd = self._reopen(name, parent, parts)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                raise
            fd = self._reopen(name, parent, parts)
        self._fds[key] = fd
        self._entries.setdefault(key, DIR)
        return fd

    def _reopen(self, name: str, parent: int, parts: list[str]) -> int:
        """Open a folder that exists by now, or say what is in the way."""
        try:
            return os.open(parts[-1], FOLDER, dir_fd=parent)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                raise
        info = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
        what = "link" if stat.S_ISLNK(info.st_mode) else "file"
        raise refuse(self.archive, name, f"its path goes through the {what} "
                     f"{'/'.join(parts)!r} of an earlier member")

    def _make(self, name: str, folder: int, leaf: str, taken: Callable[[], object] | None,
              make: Callable[[], int | None]) -> int:
        """Run ``make`` (which creates ``leaf`` in ``folder`` exclusively); if an earlier member
        took the name, remove that one first (never a folder) and make it again."""
        try:
            return make() or 0
        except FileExistsError:
            pass
        info = os.stat(leaf, dir_fd=folder, follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            raise UnpackError(
                f"{self.archive.name}: member {name!r} is a file and a folder in the archive; "
                "the archive is damaged", path=str(self.archive), member=name)
        if taken is not None:
            taken()
        os.unlink(leaf, dir_fd=folder)
        return make() or 0
