"""The prepared state of a dataset's folder: which resources are verified, and whether all are.

State lives in ``<folder>/.dmconf-state.json``, written atomically. A dataset is prepared when
the state names the definition's content digest and every resource's final path exists: a few
``stat`` calls, no hashing, no network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dmconf.definition import DatasetDefinition, Resource

__all__ = ["DatasetState"]

STATE_FILE = ".dmconf-state.json"


class DatasetState:
    """The state file of one dataset folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / STATE_FILE
        self.digest: str | None = None
        self.resources: dict[str, str] = {}
        try:
            content: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # missing or torn: as if nothing were prepared
        if isinstance(content, dict):
            self.digest = content.get("digest")
            self.resources = dict(content.get("resources") or {})

    def is_prepared(self, definition: DatasetDefinition) -> bool:
        return self.digest == definition.content_digest() and all(
            (self.folder / key).exists() for key in definition.resources
        )

    def has(self, key: str, resource: Resource) -> bool:
        """Whether a resource is in place and was verified against its current checksum."""
        recorded = self.resources.get(key)
        return (
            recorded is not None
            and (resource.sha256 is None or recorded == resource.sha256)
            and (self.folder / key).exists()
        )

    def record(self, key: str, sha256: str) -> None:
        self.resources[key] = sha256
        self._save()

    def mark_prepared(self, definition: DatasetDefinition) -> None:
        self.digest = definition.content_digest()
        self._save()

    def forget(self) -> None:
        self.digest = None
        self.resources = {}
        self._save()

    def _save(self) -> None:
        tmp = self.path.with_name(f"{STATE_FILE}.{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps({"digest": self.digest, "resources": self.resources}, indent=1),
            encoding="utf-8",
        )
        os.replace(tmp, self.path)
