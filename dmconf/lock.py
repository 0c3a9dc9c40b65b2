"""Inter-process locks, so that concurrent jobs download each resource once and ``rm`` never
pulls a dataset from under a ``prepare``.

Locks are ``flock``-based: the kernel releases them when their process dies, so a lock left by a
killed job never blocks later ones. :func:`locked` (filelock) is exclusive: one resource, one
downloader. :func:`id_locked` is shared or exclusive: any number of ``prepare`` of one id hold
it shared, ``rm`` holds it exclusive. Hand-written on ``fcntl.flock`` (a dozen lines) because
filelock's read-write lock keeps its state in SQLite, which is unreliable on the network file
systems a shared data folder lives on. Lock files are opened with ``O_NOFOLLOW``: in a
group-writable folder, a symlink planted at a lock's name is refused, never followed.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from dmconf.errors import StorageError

log = logging.getLogger("dmconf")

__all__ = ["id_locked", "locked"]


@contextmanager
def locked(path: Path, what: str) -> Iterator[None]:
    """Hold the lock file ``path``; say so on the log when another process holds it."""
    lock = FileLock(path)
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            log.info("waiting for another process to finish %s (lock %s)", what, path)
            lock.acquire()
    except OSError as exc:
        raise _refused(path, exc) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def id_locked(path: Path, *, exclusive: bool, what: str) -> Iterator[None]:
    """Hold the lock of a dataset id, shared (``prepare``) or exclusive (``rm``, adoption)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        raise _refused(path, exc) from None
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another process to finish %s (lock %s)", what, path)
            fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # releases the lock


def _refused(path: Path, exc: OSError) -> Exception:
    if exc.errno == errno.ELOOP:
        return StorageError(
            path=str(path), errno=exc.errno,
            reason="it is a symbolic link (someone sharing the data folder may have put it "
            "there)",
        )
    return exc
