"""The prepared state of a dataset's folder: which resources are verified, and whether all are.

State lives in ``<folder>/.dmconf-state.json``, written atomically under a short lock (several
processes may each finish different resources of one dataset). For each resource it records the
sha256 of the download (checked against the definition) and of what was materialised from it
(the decompressed file, or a tree digest of the unpacked folder), which ``dmconf verify`` checks
later. A dataset is prepared when the state names the definition's content digest and every
resource's final path exists: a few ``stat`` calls, no hashing, no network.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmconf.definition import DatasetDefinition, Resource
from dmconf.fetch.download import HOST
from dmconf.store.ownfiles import foreign, open_own, read_own

if TYPE_CHECKING:
    from dmconf.lock import Locking

log = logging.getLogger("dmconf")

__all__ = ["STATE_FILE", "DatasetState"]

STATE_FILE = ".dmconf-state.json"
STATE_LOCK = ".dmconf-state-lock"  # never ".<key>.lock", the form of resource locks


class DatasetState:
    """The state file of one dataset folder."""

    def __init__(self, folder: Path, locking: Locking | None = None) -> None:
        self.folder = folder
        self.locking = locking  # the kind of the short lock around writes (None: auto)
        self.path = folder / STATE_FILE
        self.digest: str | None = None
        self.resources: dict[str, dict[str, str]] = {}
        self._load()

    def _load(self) -> None:
        try:
            content: Any = json.loads(read_own(self.path) or b"null")
        except (ValueError, UnicodeDecodeError):
            log.warning("%s is not a valid state file; treating the dataset as not prepared",
                        self.path)
            return  # torn or damaged: as if nothing were prepared (it is rewritten)
        except NotADirectoryError:
            return
        if not isinstance(content, dict):
            return
        digest = content.get("digest")
        self.digest = digest if isinstance(digest, str) else None
        resources = content.get("resources")
        for key, value in (resources if isinstance(resources, dict) else {}).items():
            # the first format held the download's sha256 alone
            entry = {"sha256": value} if isinstance(value, str) else value
            if isinstance(key, str) and isinstance(entry, dict) and all(
                    isinstance(v, str) for v in entry.values()):
                self.resources[key] = entry

    def is_prepared(self, definition: DatasetDefinition) -> bool:
        return self.digest == definition.content_digest() and all(
            self.present(key) for key in definition.resources
        )

    def present(self, key: str) -> bool:
        """Whether a resource's final name exists; a symbolic link there is refused, since
        dmconf never makes one (it would hand out whatever the link points to)."""
        try:
            info = os.lstat(self.folder / key)
        except (FileNotFoundError, NotADirectoryError):
            return False
        if stat.S_ISLNK(info.st_mode):
            raise foreign(self.folder / key, "a symbolic link")
        return True

    def has(self, key: str, resource: Resource) -> bool:
        """Whether a resource is in place and was verified against its current checksum (a
        built one: built from what its inputs now hold, :mod:`dmconf.derive.resource`)."""
        recorded = self.resources.get(key, {}).get("sha256")
        if resource.build is not None:
            from dmconf.derive.resource import build_key

            return recorded == build_key(key, resource, self) and self.present(key)
        return (
            recorded is not None
            and (resource.sha256 is None or recorded == resource.sha256)
            and self.present(key)
        )

    def record(self, key: str, sha256: str, materialised: str | None = None,
               unpack: str = "none") -> None:
        """Note that ``key`` is in place: its download's sha256, its unpacking and the digest
        of what was materialised (what ``verify`` and reuse by another version rely on)."""
        entry = {"sha256": sha256, "materialised": materialised or sha256, "unpack": unpack}
        self._update(lambda: self.resources.__setitem__(key, entry))

    def mark_prepared(self, definition: DatasetDefinition) -> None:
        self._update(lambda: setattr(self, "digest", definition.content_digest()))

    def _update(self, change: Callable[[], None]) -> None:
        """Re-read, change and write the state under its lock, so no writer loses another's."""
        from dmconf.lock import locked

        with locked(self.folder / STATE_LOCK, "updating the state file", self.locking):
            self.digest, self.resources = None, {}
            self._load()
            change()
            self._remove_stale_temporaries()
            tmp = self.path.with_name(f"{STATE_FILE}.{os.getpid()}@{HOST}.tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()  # a killed run's, or planted: unlinking follows no link
            content = {"digest": self.digest, "resources": self.resources}
            try:
                with open_own(tmp, "xb") as out:
                    out.write(json.dumps(content, indent=1).encode())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                raise

    def _remove_stale_temporaries(self) -> None:
        """Remove the temporaries of state writers that were killed before their rename."""
        from dmconf.fetch.download import gone, remove_path

        prefix = f"{STATE_FILE}."
        for entry in os.scandir(self.folder):
            name = entry.name
            if not (name.startswith(prefix) and name.endswith(".tmp")):
                continue
            pid, _, host = name[len(prefix):-len(".tmp")].partition("@")
            if not pid.isdigit() or not host or gone(int(pid), host, Path(entry.path)):
                remove_path(Path(entry.path))
