"""Writing archive members into a fresh folder so that nothing lands outside it.

Shared by the tar and zip unpackers. Nothing here uses ``os.path.realpath`` (a symlink chain
longer than PATH_MAX makes its non-strict form give up and answer lexically), nor ``tarfile``'s
``data`` filter (which relies on it before Python 3.11.13 / 3.12.11 / 3.13.4). Instead:

- a member's name is checked (:mod:`dmconf.unpack.members`), then its parent folders are made
  one component at a time with ``lstat``: a path that passes through a symlink, or through a
  file, is refused (link-through-link can therefore never write anywhere);
- files are created with ``O_CREAT | O_EXCL | O_NOFOLLOW``; a name already taken by an earlier
  member (tar allows it: the last one wins) is unlinked first, never written through;
- a link's target is resolved component by component (:func:`resolve`), following links already
  extracted, by hand, with a hop limit; it must stay inside the folder;
- before the folder is renamed into place, :meth:`Extraction.finish` resolves every symlink of
  the whole tree again, because a link may only point outside once a *later* link exists.

Sizes and member counts are checked against :class:`~dmconf.unpack.limits.Limits` as bytes are
written. Modes follow the umask: an archive's 0600 or 0777 never decides who reads a dataset.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from dmconf.errors import UnpackError
from dmconf.unpack.limits import DEFAULT, Limits
from dmconf.unpack.members import check_name, folder_umask, refuse

__all__ = ["Extraction", "resolve"]

MAX_HOPS = 40  # symlinks followed while resolving one path, as the kernel's ELOOP limit
CHUNK = 1 << 20
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


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
    """A folder being filled with the members of one archive."""

    def __init__(self, archive: Path, target: Path, consumed: int,
                 limits: Limits = DEFAULT) -> None:
        self.archive = archive
        self.root = str(target)
        self.consumed = consumed  # the archive's size, for the ratio
        self.limits = limits
        self.produced = 0
        self.members = 0
        target.mkdir()
        self.umask = folder_umask(target)

    # -- members ------------------------------------------------------------------------
    def directory(self, name: str) -> None:
        parts = self._start(name, folder=True)
        if parts:
            self._parent(name, [*parts, ""])

    def file(self, name: str, source: IO[bytes], executable: bool) -> None:
        parts = self._start(name)
        folder = self._parent(name, parts)
        path = os.path.join(folder, parts[-1])
        self._clear(name, path)
        mode = (0o777 if executable else 0o666) & ~self.umask
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, mode)
        with open(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                self.produced += len(chunk)
                self._check()
                out.write(chunk)

    def symlink(self, name: str, target: str) -> None:
        parts = self._start(name)
        if "\0" in target or target.startswith(("/", "\\")) or target[1:2] == ":":
            raise refuse(self.archive, name, f"it links to the absolute path {target!r}")
        folder = self._parent(name, parts)
        try:
            resolve(self.root, [*parts[:-1], *target.split("/")])
        except Escape as exc:
            raise refuse(self.archive, name, f"it links to {target!r}, outside its folder: "
                         f"{exc}") from None
        path = os.path.join(folder, parts[-1])
        self._clear(name, path)
        os.symlink(target, path)

    def hardlink(self, name: str, target: str) -> None:
        """A tar hard link: ``target`` names an earlier member (from the archive's root)."""
        parts = self._start(name)
        if target.startswith(("/", "\\")) or ".." in target.replace("\\", "/").split("/"):
            raise refuse(self.archive, name, f"it links to {target!r}, outside its folder")
        source = os.path.join(self.root, *target.split("/"))
        try:
            if resolve(self.root, target.split("/")) != [p for p in target.split("/") if p]:
                raise Escape("it goes through a symbolic link")
            info = os.lstat(source)
        except (Escape, OSError) as exc:
            raise refuse(self.archive, name, f"it links to {target!r}, which is not a file "
                         f"extracted before it ({exc})") from None
        if not stat.S_ISREG(info.st_mode):
            raise refuse(self.archive, name, f"it links to {target!r}, which is not a file")
        folder = self._parent(name, parts)
        path = os.path.join(folder, parts[-1])
        self._clear(name, path)
        os.link(source, path, follow_symlinks=False)

    # -- the whole tree -----------------------------------------------------------------
    def finish(self) -> None:
        """Check every symlink of the tree once all exist; refuse the archive if one escapes."""
        for path in self._links():
            relative = os.path.relpath(path, self.root).split(os.sep)
            try:
                resolve(self.root, relative)
            except Escape as exc:
                member = "/".join(relative)
                raise refuse(self.archive, member, f"once every member is extracted, it "
                             f"points outside its folder ({exc})") from None

    def _links(self) -> Iterator[str]:
        for folder, dirs, files in os.walk(self.root):  # os.walk does not follow links
            for name in [*dirs, *files]:
                path = os.path.join(folder, name)
                if os.path.islink(path):
                    yield path

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

    def _check(self) -> None:
        self.limits.check(self.archive.name, self.produced, self.consumed, self.members)

    def _parent(self, name: str, parts: list[str]) -> str:
        """Make the folders above the member's last component; refuse links and files."""
        folder = self.root
        for part in parts[:-1]:
            folder = os.path.join(folder, part)
            try:
                info = os.lstat(folder)
            except FileNotFoundError:
                os.mkdir(folder, 0o777 & ~self.umask)
                continue
            if stat.S_ISLNK(info.st_mode):
                raise refuse(self.archive, name, f"its path goes through the link "
                             f"{os.path.relpath(folder, self.root)!r} of an earlier member")
            if not stat.S_ISDIR(info.st_mode):
                raise refuse(self.archive, name, f"its path goes through the file "
                             f"{os.path.relpath(folder, self.root)!r} of an earlier member")
        return folder

    def _clear(self, name: str, path: str) -> None:
        """Make room for a member whose name an earlier one took (the last one wins)."""
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            raise UnpackError(
                f"{self.archive.name}: member {name!r} is a file and a folder in the archive; "
                "the archive is damaged", path=str(self.archive), member=name)
        os.unlink(path)
