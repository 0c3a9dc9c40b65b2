"""The ``stat`` of many files at once, as the catalogue index compares them (``search``).

Each ``stat`` call costs ~3-4 us on the machines measured (most of it in the kernel's path
lookup), so that the 100,000 calls of a ``search`` of 100,000 definitions are most of its time.
:func:`stat_keys` makes them in one C-level pipeline per folder (``map`` of ``os.stat``
relative to the folder's descriptor, into an ``array``: no Python code per file), and on Linux,
from FORK_FILES files, has a forked child make about half of them while this process makes the
rest. Threads would not help: the GIL is taken back after every call (slower, measured). The
child only makes ``os`` calls and arithmetic, then leaves with ``os._exit``; it is forked only
when no other Python thread runs (a lock another thread held would stay held in the child),
and only in dmconf's own command (:data:`COMMAND`, set by ``dmconf search``): a
library call never forks the program it runs in (a notebook, a training job with native
threads or gigabytes mapped). Anything going wrong with it (no fork, a signal, a short
answer) and this process stats its share itself: slower, never different.
"""

from __future__ import annotations

import array
import contextlib
import functools
import itertools
import operator
import os
import sys
from collections.abc import Iterator

__all__ = ["FORK_FILES", "command", "recent", "stat_keys"]

# What the keys hold of each file's stat, in this order: signed 64-bit integers.
_FIELDS = operator.attrgetter("st_size", "st_mtime_ns", "st_ctime_ns", "st_ino", "st_dev")
WIDTH = 5  # fields per file
FORK_FILES = 20_000  # stat calls worth a second process (fork) on Linux
COMMAND = False  # True inside dmconf's own command (:func:`command`): only it may fork


def stat_keys(folders: list[tuple[str, list[str]]]) -> list[bytes | None]:
    """For each folder and the names of files in it, their stat keys (see :func:`_keys`).

    Each ``stat`` call costs ~3-4 us here, mostly in the kernel; 100,000 are most of a
    ``search``. Above FORK_FILES, a forked child stats about half of them while this process
    stats the rest (threads would not help: the GIL is taken back after each call), and sends
    its keys back through a pipe; anything going wrong there and this process stats them."""
    items = [(n, folder, names) for n, (folder, names) in enumerate(folders)]
    total = sum(len(names) for _, names in folders)
    share: list[tuple[int, str, list[str]]] = []
    if total >= FORK_FILES and _may_fork():  # split at the half, inside a folder if need be
        mine, count = [], 0
        for n, folder, names in items:
            cut = max(0, min(len(names), total // 2 - count))
            if cut:
                mine.append((n, folder, names[:cut]))
            if cut < len(names):
                share.append((n, folder, names[cut:]))
            count += cut
        items = mine
    child = _forked(share) if share else None
    parts: dict[int, list[bytes | None]] = {}
    try:
        for n, folder, names in items:
            parts.setdefault(n, []).append(_keys(folder, names))
    finally:
        theirs = _joined(child) if child is not None else None
    if share:
        if theirs is None or len(theirs) != len(share) or any(
                keys is not None and len(keys) != 8 * WIDTH * len(names)
                for keys, (_, _, names) in zip(theirs, share, strict=False)):
            theirs = [_keys(folder, names) for _, folder, names in share]
        for (n, _, _), keys in zip(share, theirs, strict=True):
            parts.setdefault(n, []).append(keys)
    found: list[bytes | None] = []
    for n in range(len(folders)):
        pieces = parts.get(n, [b""])
        whole = [p for p in pieces if p is not None]
        found.append(b"".join(whole) if len(whole) == len(pieces) else None)
    return found


def _keys(folder: str, names: list[str]) -> bytes | None:
    """The size, modification and change times in ns, inode and device of each file, as
    signed 64-bit integers; None when a file cannot be stat'ed (or a number does not fit).
    One ``stat`` per file, relative to the folder's descriptor, in one C-level pipeline."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    try:
        stat = functools.partial(os.stat, dir_fd=fd)
        return array.array("q", itertools.chain.from_iterable(
            map(_FIELDS, map(stat, names)))).tobytes()
    except (OSError, OverflowError, NotImplementedError):
        return None
    finally:
        os.close(fd)


def recent(keys: bytes, now: int, window: int) -> bool:
    """Whether a file of these keys changed less than ``window`` ns before ``now``."""
    values = array.array("q", keys)
    newest = max(max(values[1::WIDTH], default=0), max(values[2::WIDTH], default=0))
    return newest > now - window


@contextlib.contextmanager
def command() -> Iterator[None]:
    """The stat calls made inside are dmconf's own command's (``dmconf search``):
    they may use a forked child. Outside, in a program calling dmconf, they never do."""
    global COMMAND
    COMMAND = True
    try:
        yield
    finally:
        COMMAND = False


def _may_fork() -> bool:
    """A child may be forked: dmconf's own command, on Linux, and no other thread that could
    hold a lock the child needs."""
    threading = sys.modules.get("threading")
    return (COMMAND and sys.platform == "linux"
            and (threading is None or threading.active_count() == 1))


def _forked(share: list[tuple[int, str, list[str]]]) -> tuple[int, int] | None:
    """A child stat'ing ``share``: (its pid, the pipe's end to read), or None."""
    try:
        read, write = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: os calls and arithmetic only, then out without any clean-up
        code = 1
        try:
            os.close(read)
            out = bytearray()
            for _, folder, names in share:
                keys = _keys(folder, names)
                out += (-1 if keys is None else len(keys)).to_bytes(8, "little", signed=True)
                out += keys or b""
            view = memoryview(out)
            while view:
                view = view[os.write(write, view):]
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _joined(child: tuple[int, int]) -> list[bytes | None] | None:
    """The keys a child sent, once it exited well (None otherwise, or when its exit cannot be
    known: SIGCHLD ignored by the program)."""
    pid, read = child
    chunks = []
    status = -1
    try:
        while chunk := os.read(read, 1 << 20):
            chunks.append(chunk)
    except OSError:
        chunks = []
    finally:
        os.close(read)
        with contextlib.suppress(ChildProcessError):
            status = os.waitpid(pid, 0)[1]
    if status != 0:
        return None
    data, at = b"".join(chunks), 0
    found: list[bytes | None] = []
    while at < len(data):
        size = int.from_bytes(data[at:at + 8], "little", signed=True)
        at += 8
        if size < 0:
            found.append(None)
            continue
        if at + size > len(data):
            return None
        found.append(data[at:at + size])
        at += size
    return found
