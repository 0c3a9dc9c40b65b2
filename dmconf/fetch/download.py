"""One resource's bytes on their way to disk: the partial file, its sha256, the streaming
decompressor and the progress bar, and the naming that lets a later run resume.

Partial files are named per process, ``.<key>.<pid>@<host>.part`` (with ``.part.json`` holding
the URL and validator for ``If-Range``), so no two processes ever write one file, even where
locks do not work (some NFS, Lustre). A later run *adopts* the partial of a process that is gone
(:func:`reclaim`): same host and its pid no longer runs, or another host and untouched for a day.
Adoption is a rename, atomic on every file system, so two adopters cannot share one partial.
Locks only save bandwidth; the sha256 of the whole download decides what is kept.

Two threads share a plain download: the fetcher's thread receives, into a ring of 1 MiB buffers
reused over and over (:meth:`Download.write_from`: no allocation per chunk), and a
:class:`~dmconf.unpack.pipe.Pipe` hashes (sha256, md5 when checked) and writes the partial file
on another, a few MiB behind (socket reads, hashlib and file writes release the GIL, so each can
use a core). A download decompressed while it arrives keeps that work on the receiving thread,
with chunks of its own (the decompressor keeps them): the decompressor's two threads already use
the second core (a fourth thread measured ~8% slower). Other splits of the plain download's
work over the two threads were measured no faster (``benchmarks/bench_plain.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmconf.errors import DownloadError
from dmconf.progress import Bar
from dmconf.store.ownfiles import open_own, read_own, write_own
from dmconf.unpack.pipe import Pipe

if TYPE_CHECKING:
    from dmconf.fetch.base import Body

__all__ = ["Download", "gone", "reclaim", "remove_path", "temp_path"]

log = logging.getLogger("dmconf")

HOST = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "localhost"
LEFTOVER = re.compile(r"(\d+)@(.+?)\.(part|part\.json|unpack|unpack\.lines)")
STALE_ELSEWHERE = 24 * 3600  # seconds untouched before another host's leftovers are taken
QUEUED = 8  # chunks (1 MiB each) received but not yet hashed and written, at most
CHUNK = 1 << 20  # bytes read at once: the fetchers' CHUNK_SIZE (dmconf.fetch.base)


def temp_path(folder: Path, key: str, kind: str) -> Path:
    """This process's temporary ``kind`` (``part``, ``unpack``) for resource ``key``."""
    return folder / f".{key}.{os.getpid()}@{HOST}.{kind}"


def meta_path(part: Path) -> Path:
    """The metadata file (URL and validator) kept beside a partial download."""
    return part.with_name(part.name + ".json")


def remove_partial(part: Path) -> None:
    """Remove a partial download and its metadata."""
    remove_path(part)
    remove_path(meta_path(part))


def remove_path(path: Path) -> None:
    """Remove a file, link or folder if it exists."""
    try:
        path.unlink()  # a file or a link (never what it points to)
    except FileNotFoundError:
        pass
    except (IsADirectoryError, PermissionError):  # Linux says EISDIR for a folder, macOS EPERM
        if not path.is_dir() or path.is_symlink():
            raise
        shutil.rmtree(path, ignore_errors=True)


def gone(pid: int, host: str, path: Path) -> bool:
    """Whether the process that owns a leftover no longer uses it."""
    if host != HOST:
        try:
            return time.time() - path.lstat().st_mtime > STALE_ELSEWHERE
        except FileNotFoundError:
            return False
    if pid == os.getpid():
        return True  # ours, from an earlier attempt; the resource lock keeps our threads apart
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def reclaim(folder: Path, key: str) -> Path:
    """Clean the leftovers of gone processes for ``key``; return this process's partial path.

    The largest partial left by a gone process becomes ours (renamed), so the download resumes
    from it; other leftovers (smaller partials, half-extracted folders) are removed.
    """
    mine = temp_path(folder, key, "part")
    prefix = f".{key}."
    partials: list[Path] = []
    for entry in os.scandir(folder):
        match = LEFTOVER.fullmatch(entry.name[len(prefix):]) if entry.name.startswith(
            prefix) else None
        path = Path(entry.path)
        if match is None or not gone(int(match[1]), match[2], path):
            continue
        if entry.is_symlink():  # never ours: removing the link itself follows nothing
            remove_path(path)
            continue
        if match[3] == "part":
            partials.append(path)
        elif match[3].startswith("unpack") or not path.with_suffix("").exists():  # orphan .json
            with contextlib.suppress(PermissionError):  # another user's, in a sticky folder
                remove_path(path)
    # A gone user's partial we cannot write (not group-writable) is of no use: removed where
    # the folder lets us, else ignored; never an error.
    for path in [p for p in partials if p != mine and not os.access(p, os.R_OK | os.W_OK)]:
        partials.remove(path)
        with contextlib.suppress(PermissionError):
            remove_partial(path)
    partials.sort(key=_size, reverse=True)
    for index, path in enumerate(partials):
        # FileNotFoundError: another process adopted it first; PermissionError: a sticky
        # folder keeps another user's file where it is (ignored, never an error)
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if index == 0 and path != mine:
                os.replace(path, mine)
                os.replace(meta_path(path), meta_path(mine))
            elif index > 0:
                remove_partial(path)
    return mine


class Download:
    """The sink a fetcher writes into (see :class:`dmconf.fetch.base.Sink`).

    Every byte goes to the partial file, the sha256, the decompressor (if any) and the bar.
    Bytes already in the partial file are replayed through the same path first. The file and
    the digests are updated on a thread of their own (a pipe): :meth:`hexdigest`, :attr:`md5`,
    :meth:`restart` and :meth:`close` first wait for every byte written, and raise what writing
    raised (a full disk); so does the next :meth:`write`.
    """

    def __init__(self, path: Path, stream: Any, bar: Bar,
                 cancel: threading.Event | None = None,
                 limit: tuple[int, str] | None = None, md5: bool = True) -> None:
        self.path = path
        self.want_md5 = md5  # md5 costs twice sha256's time: fed only when it is checked
        # (bytes, why): the definition's size (more bytes than that are wrong bytes), or the
        # cap on a download without size
        self.limit: int | None = limit[0] if limit is not None else None
        self.limit_why = limit[1] if limit is not None else ""
        self.meta_path = meta_path(path)
        self.stream = stream
        self.bar = bar
        self.cancel = cancel
        self.hash = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)  # for publishers who give only md5
        self.size = 0  # bytes held (and queued for the file)
        self.received = 0  # bytes that came over the network in this run
        self.resumed = False  # whether some answer continued bytes held from before
        self.content_type: str | None = None  # the server's Content-Type, if it said
        self.meta: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            meta = json.loads(read_own(self.meta_path) or b"{}")
            self.meta = meta if isinstance(meta, dict) else {}
        self.file = open_own(path, "ab")
        self._pipe: Pipe[bytes | memoryview] | None = None
        # The buffers a plain download reads into, made as needed (a small file needs one):
        # one is written again QUEUED + 2 chunks later, when the pipe is done with it
        # (Pipe.write: ``size`` queued, one consumed).
        self._ring: list[bytearray] = []
        self._turn = 0
        if stream is None:
            self._pipe = Pipe(self._store, "dmconf-download", QUEUED)
        try:
            with open_own(path, "rb") as held:
                while chunk := held.read(1 << 20):
                    self._digest(chunk)
                    self._count(chunk)
            if self.limit is not None and self.size > self.limit:
                self.restart()
        except BaseException:
            self.close()
            raise

    def resume_point(self, url: str) -> tuple[int, str | None]:
        validator = self.meta.get("validator") if self.meta.get("url") == url else None
        return self.size, validator

    def begin(self, url: str, offset: int, validator: str | None, total: int | None) -> None:
        if offset == 0 and self.size:
            self.restart()
        elif offset:
            self.resumed = True
            log.info("%s: resuming at byte %d", url, offset)
        if self.meta != {"url": url, "validator": validator}:
            self.meta = {"url": url, "validator": validator}
            write_own(self.meta_path, json.dumps(self.meta).encode())
        self.bar.set_total(total)

    def write_from(self, body: Body) -> int:
        """Append the next chunk of ``body``; the bytes appended, 0 at its end."""
        if self._pipe is None:  # a decompressor keeps the chunks it is given: bytes of its own
            data = body.read(CHUNK)
            if data:
                self.write(data)
            return len(data)
        turn, self._turn = self._turn % (QUEUED + 2), self._turn + 1
        if turn == len(self._ring):
            self._ring.append(bytearray(CHUNK))
        view = memoryview(self._ring[turn])
        count = 0
        while count < CHUNK and (more := body.readinto(view[count:])):
            count += more
        if count:
            self.write(view[:count])
        return count

    def write(self, data: bytes | memoryview) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise KeyboardInterrupt
        if self.limit is not None and self.size + len(data) > self.limit:
            url = self.meta.get("url")
            raise DownloadError(
                f"{url}: the server sent more than the {self.limit} bytes {self.limit_why}; "
                "the bytes were dropped", url=url, oversize=True,
            )
        if self._pipe is None:
            self._store(data)
        else:
            self._pipe.write(data)
        self.received += len(data)
        self._count(data)

    def restart(self) -> None:
        """Drop the bytes held: the next answer starts at byte 0."""
        if self._pipe is not None:
            self._pipe.discard()
        self.file.truncate(0)
        self.hash = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self.resumed = False
        if self.stream is not None:
            self.stream.reset()
        self.bar.reset()

    def hexdigest(self) -> str:
        self._settle()
        return self.hash.hexdigest()

    @property
    def md5(self) -> Any:
        """The md5 of the bytes held (fed only when ``md5`` was asked for)."""
        self._settle()
        return self._md5

    def close(self) -> None:
        try:
            if self._pipe is not None:
                self._pipe.stop()  # the bytes received are written: a later run resumes after them
            self.file.close()  # may fail to flush (disk full): the rest is closed anyway
        finally:
            if self.stream is not None:
                self.stream.close()
            self.bar.close()

    def _settle(self) -> None:
        """Wait for the pipe to hash and write every byte received; raise what it raised."""
        if self._pipe is not None:
            self._pipe.drain()

    def _store(self, data: bytes | memoryview) -> None:  # the pipe's thread (plain downloads)
        self.file.write(data)
        self._digest(data)

    def _digest(self, data: bytes | memoryview) -> None:
        self.hash.update(data)
        if self.want_md5:
            self._md5.update(data)

    def _count(self, data: bytes | memoryview) -> None:
        self.size += len(data)
        if self.stream is not None:
            self.stream.write(data)
        self.bar.advance(len(data))
