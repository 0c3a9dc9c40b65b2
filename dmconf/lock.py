"""Inter-process locks (filelock), so that concurrent jobs download each resource once.

Locks are ``flock``-based: the kernel releases them when their process dies, so a lock left by a
killed job never blocks later ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

log = logging.getLogger("dmconf")

__all__ = ["locked"]


@contextmanager
def locked(path: Path, what: str) -> Iterator[None]:
    """Hold the lock file ``path``; say so on the log when another process holds it."""
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("waiting for another process to finish %s (lock %s)", what, path)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
