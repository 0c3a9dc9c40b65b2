"""Inter-process locks, so that concurrent jobs download each resource once and ``rm`` never
pulls a dataset from under a ``prepare``.

Locks only save bandwidth: every result is published by an atomic rename of a verified file
into place, partials are private to their process (``.<key>.<pid>@<host>.part``), and readers
trust only the state file. So a lock that does not exclude (``flock`` across two clients of a
network file system) costs a duplicate download, never a wrong result, and a job that waited
``lock_timeout`` seconds goes on without the lock.

The lock kind is a setting (:class:`Locking`), each one a filelock class:

- ``flock``: :class:`filelock.UnixFileLock` (and ``fcntl.flock`` for the id lock); the kernel
  releases it when its process dies. Excludes on local disks; on NFS, Lustre (``localflock``),
  GPFS or FUSE mounts it may exclude nothing across hosts.
- ``soft``: :class:`filelock.SoftFileLock`, an ``O_CREAT | O_EXCL`` marker naming pid and host,
  broken when its same-host holder is gone. Excludes wherever exclusive creation is coherent
  (NFSv3+); a holder that died on another host is outwaited by ``lock_timeout``.
- ``lease``: :class:`filelock.SoftFileLease`, a marker refreshed by a heartbeat thread and taken
  over once ``lock_lease`` seconds stale: a holder that died on another host is recovered.
- ``auto`` (default): ``lease`` on a network or FUSE file system, ``flock`` elsewhere
  (:func:`filesystem_type`, from ``/proc/self/mountinfo``).

:func:`id_locked` is shared or exclusive: any number of ``prepare`` of one id hold it shared,
``rm`` holds it exclusive. With ``flock`` it is hand-written on ``fcntl.flock`` (a dozen lines)
because filelock's :class:`~filelock.ReadWriteLock` keeps its state in SQLite, unreliable on
network file systems; with ``soft`` and ``lease`` it is filelock's
:class:`~filelock.SoftReadWriteLock` (heartbeat, stale markers evicted from any host). Lock files
are opened with ``O_NOFOLLOW``: a symlink planted at a lock's name is refused, never followed.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmconf.errors import SettingsError, StorageError

if TYPE_CHECKING:
    from dmconf.settings import Settings

log = logging.getLogger("dmconf")

__all__ = ["KINDS", "Locking", "filesystem_type", "id_locked", "locked"]

KINDS = ("auto", "flock", "soft", "lease")
# File systems whose flock may not exclude across hosts (or fails): auto chooses a lease there.
NETWORK = frozenset({
    "nfs", "nfs4", "lustre", "gpfs", "cifs", "smb3", "smbfs", "beegfs", "ceph", "glusterfs",
    "9p", "panfs", "wekafs", "afs", "ocfs2", "gfs2", "orangefs", "pvfs2", "fuseblk", "fuse",
})
POLL = 0.05  # seconds between attempts of the hand-written flock wait


@dataclass(frozen=True)
class Locking:
    """How one job locks: the kind, how long it waits before going on alone, the lease."""

    kind: str = "auto"
    timeout: float | None = None  # seconds; None waits as long as the holder works
    lease: float = 60.0  # seconds without a heartbeat before a lease is taken over

    @classmethod
    def of(cls, settings: Settings) -> Locking:
        return cls(settings.lock, settings.lock_timeout, settings.lock_lease)

    def kind_at(self, path: Path) -> str:
        """The lock kind used for a lock file at ``path`` (``auto`` resolved)."""
        if self.kind != "auto":
            return self.kind
        fstype = filesystem_type(path)
        return "lease" if fstype in NETWORK or fstype.startswith("fuse.") else "flock"


def filesystem_type(path: Path) -> str:
    """The type of the file system holding ``path`` (``ext4``, ``nfs4``, ``fuse.sshfs``...),
    from ``/proc/self/mountinfo``; ``""`` where that cannot be read (not Linux)."""
    existing = Path(os.path.abspath(path))
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return _mount_type(os.path.realpath(existing))


@functools.lru_cache(maxsize=64)
def _mount_type(real: str) -> str:
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mounts:
            lines = mounts.read().splitlines()
    except OSError:
        return ""
    best, fstype = "", ""
    for line in lines:
        fields, _, rest = line.partition(" - ")
        parts = fields.split()
        if len(parts) < 5 or not rest:
            continue
        point = parts[4].encode().decode("unicode_escape")  # \040 for a space
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, fstype = point, rest.split()[0]
    return fstype


def _exclusive_lock(kind: str, path: Path, locking: Locking) -> Any:
    from filelock import SoftFileLease, SoftFileLock, UnixFileLock

    if kind == "lease":
        return SoftFileLease(path, lease_duration=locking.lease,
                             heartbeat_interval=max(locking.lease / 4, 0.05))
    if kind == "soft":
        return SoftFileLock(path)
    return UnixFileLock(path)


@contextmanager
def locked(path: Path, what: str, locking: Locking | None = None) -> Iterator[None]:
    """Hold the lock file ``path``; say so on the log when another process holds it.

    After ``locking.timeout`` seconds of waiting, go on without it (with a warning): the work
    it guards publishes atomically, so the cost is a duplicate download, never a wrong result.
    """
    from filelock import LeaseSettingsMismatch, Timeout

    locking = locking or Locking()
    kind = locking.kind_at(path)
    lock = _exclusive_lock(kind, path, locking)
    held = True
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            log.info("waiting for another process to finish %s (lock %s)", what, path)
            try:
                lock.acquire(timeout=-1 if locking.timeout is None else locking.timeout)
            except Timeout:
                held = False
                _gave_up(what, path, kind, locking)
    except OSError as exc:
        raise _refused(path, exc) from None
    except LeaseSettingsMismatch as exc:
        raise SettingsError(f"{exc}; set one lock_lease in the settings of every machine "
                            "sharing this data folder") from None
    try:
        yield
    finally:
        if held:
            lock.release()


@contextmanager
def id_locked(path: Path, *, exclusive: bool, what: str,
              locking: Locking | None = None) -> Iterator[None]:
    """Hold the lock of a dataset id, shared (``prepare``) or exclusive (``rm``, adoption).

    Only the shared side gives up after ``locking.timeout`` (a ``prepare`` goes on: it
    publishes atomically); ``rm`` waits, since deleting under a reader is what it guards.
    """
    locking = locking or Locking()
    timeout = None if exclusive else locking.timeout
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = locking.kind_at(path)
    if kind != "flock":
        with _soft_id_locked(path, exclusive, what, locking, timeout):
            yield
        return
    import fcntl

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
            if timeout is None:
                fcntl.flock(fd, mode)
            elif not _flock_within(fd, mode, timeout):
                _gave_up(what, path, kind, locking)
        yield
    finally:
        os.close(fd)  # releases the lock


def _flock_within(fd: int, mode: int, timeout: float) -> bool:
    import fcntl

    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL)


@contextmanager
def _soft_id_locked(path: Path, exclusive: bool, what: str, locking: Locking,
                    timeout: float | None) -> Iterator[None]:
    from filelock import SoftReadWriteLock, Timeout

    lock = SoftReadWriteLock(path, heartbeat_interval=max(locking.lease / 4, 0.05),
                             stale_threshold=locking.lease, poll_interval=POLL)
    acquire = lock.acquire_write if exclusive else lock.acquire_read
    held = True
    try:
        acquire(timeout=0)
    except Timeout:
        log.info("waiting for another process to finish %s (lock %s)", what, path)
        try:
            acquire(timeout=-1 if timeout is None else timeout)
        except Timeout:
            held = False
            _gave_up(what, path, locking.kind_at(path), locking)
    try:
        yield
    finally:
        if held:
            lock.release()


def _gave_up(what: str, path: Path, kind: str, locking: Locking) -> None:
    log.warning(
        "waited %gs (lock_timeout) for another process %s (%s lock %s); going on alone: "
        "the result is still verified and published atomically, at worst downloaded twice",
        locking.timeout, what, kind, path)


def _refused(path: Path, exc: OSError) -> Exception:
    if exc.errno == errno.ELOOP:
        return StorageError(
            path=str(path), errno=exc.errno,
            reason="it is a symbolic link (someone sharing the data folder may have put it "
            "there)",
        )
    return exc
