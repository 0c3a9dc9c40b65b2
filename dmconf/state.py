"""The prepared state of a dataset's folder: which resources are verified, and whether all are.

State lives in ``<folder>/.dmconf-state.json``, written atomically under a short lock (several
processes may each finish different resources of one dataset). For each resource it records the
sha256 of the download (checked against the definition) and of what was materialised from it
(the decompressed file, or a tree digest of the unpacked folder), which ``dmconf verify`` checks
later. A dataset is prepared when the state names the definition's content digest and every
resource's final path exists: a few ``stat`` calls, no hashing, no network.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dmconf.definition import DatasetDefinition, Resource

__all__ = ["STATE_FILE", "DatasetState"]

STATE_FILE = ".dmconf-state.json"
STATE_LOCK = ".dmconf-state-lock"  # never ".<key>.lock", the form of resource locks


class DatasetState:
    """The state file of one dataset folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / STATE_FILE
        self.digest: str | None = None
        self.resources: dict[str, dict[str, str]] = {}
        self._load()

    def _load(self) -> None:
        try:
            content: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # missing or torn: as if nothing were prepared
        if isinstance(content, dict):
            self.digest = content.get("digest")
            for key, value in dict(content.get("resources") or {}).items():
                # the first format held the download's sha256 alone
                self.resources[key] = {"sha256": value} if isinstance(value, str) else value

    def is_prepared(self, definition: DatasetDefinition) -> bool:
        return self.digest == definition.content_digest() and all(
            (self.folder / key).exists() for key in definition.resources
        )

    def has(self, key: str, resource: Resource) -> bool:
        """Whether a resource is in place and was verified against its current checksum."""
        recorded = self.resources.get(key, {}).get("sha256")
        return (
            recorded is not None
            and (resource.sha256 is None or recorded == resource.sha256)
            and (self.folder / key).exists()
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
        from filelock import FileLock

        with FileLock(self.folder / STATE_LOCK):
            self.digest, self.resources = None, {}
            self._load()
            change()
            tmp = self.path.with_name(f"{STATE_FILE}.{os.getpid()}.tmp")
            tmp.write_text(
                json.dumps({"digest": self.digest, "resources": self.resources}, indent=1),
                encoding="utf-8",
            )
            os.replace(tmp, self.path)
