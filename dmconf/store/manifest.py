"""The manifest of a prepared dataset: what its folder holds, byte for byte.

A manifest lists every file, folder and link under the dataset's resources with its path
relative to the dataset's folder, its size, sha256 and mode (executable or not), plus the
definition's content digest, the licence and, per resource, the digests the state file records.
Its own digest (sha256 of its canonical JSON, the copy of the definition left out) names the
prepared bytes: the same on every machine, whatever the data folder's path. It is written beside
the state as ``.dmconf-manifest.json`` the first time it is needed (hashing the folder once) and
reused while the state says the same definition is prepared.

A manifest read from a remote is hostile input: :meth:`Manifest.parse` refuses absolute paths,
``..``, names reserved for dmconf (a leading dot), paths outside the manifest's resources, links
that leave their resource and duplicates.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import secrets
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dmconf.checksum import file_sha256, tree_sha256
from dmconf.definition import KEY_PATTERN, SHA256_PATTERN, DatasetDefinition
from dmconf.errors import DefinitionError, NotPrepared, describe_validation
from dmconf.state import DatasetState

__all__ = ["MANIFEST_FILE", "Entry", "Manifest", "Record", "build_manifest", "manifest_of",
           "write_manifest"]

MANIFEST_FILE = ".dmconf-manifest.json"


class Entry(BaseModel):
    """One file, folder or link of a prepared dataset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="relative to the dataset's folder, '/'-separated")
    kind: Literal["file", "dir", "link"] = "file"
    size: int | None = Field(default=None, ge=0, description="bytes, for files")
    sha256: str | None = Field(default=None, description="for files: the blob's name")
    mode: Literal["644", "755"] = Field(
        default="644", description="executable (755) or not (644), as git records it"
    )  # the other bits follow each machine's umask (a group-shared folder writes 664)
    target: str | None = Field(default=None, description="for links: where the link points")

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        parts = value.split("/")
        if not value or "\0" in value or value.startswith("/") or "\\" in value:
            raise ValueError("expected a relative '/'-separated path")
        if any(part in ("", ".", "..") for part in parts) or not KEY_PATTERN.match(parts[0]):
            raise ValueError("expected a path below a resource, without '.', '..' or '//'")
        return value

    @model_validator(mode="after")
    def _check_kind(self) -> Entry:
        if self.kind == "file":
            if self.size is None or self.sha256 is None or not SHA256_PATTERN.match(self.sha256):
                raise ValueError(f"{self.path}: a file needs its size and sha256")
        elif self.kind == "link":
            target = self.target or ""
            inside = posixpath.normpath(posixpath.join(posixpath.dirname(self.path), target))
            top = self.path.split("/")[0]
            if not target or target.startswith("/") or "\0" in target or not (
                inside == top or inside.startswith(top + "/")
            ):
                raise ValueError(f"{self.path}: a link must point inside its resource")
        return self

    @property
    def executable(self) -> bool:
        return self.mode == "755"


class Record(BaseModel):
    """What a resource was made from, and the digest of what it became (file or tree)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str = Field(pattern=SHA256_PATTERN.pattern, description="of the download")
    materialised: str = Field(pattern=SHA256_PATTERN.pattern,
                              description="of the file, or tree digest of the folder")
    unpack: str = Field(description="how the download became it")


class Manifest(BaseModel):
    """Every entry of a prepared dataset, and what identifies its content."""

    model_config = ConfigDict(extra="forbid")

    format: Literal[1] = 1
    id: str
    definition: str = Field(description="the definition's content digest")
    license: str | None = None
    resources: dict[str, Record] = Field(
        description="per resource: sha256 of the download, digest of what was materialised"
    )
    files: list[Entry]
    source: dict[str, Any] | None = Field(
        default=None, description="the definition itself, for a machine without it (not digested)"
    )

    @model_validator(mode="after")
    def _check_entries(self) -> Manifest:
        seen: set[str] = set()
        for entry in self.files:
            if entry.path in seen:
                raise ValueError(f"{entry.path} is listed twice")
            if entry.path.split("/")[0] not in self.resources:
                raise ValueError(f"{entry.path} is under no resource of the manifest")
            seen.add(entry.path)
        return self

    def digest(self) -> str:
        """sha256 of the canonical JSON of everything but the copy of the definition."""
        content = self.model_dump(mode="json", exclude={"source"})
        encoded = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(encoded).hexdigest()

    def to_json(self) -> bytes:
        return self.model_dump_json(indent=1, exclude_none=True).encode()

    @property
    def size(self) -> int:
        return sum(e.size or 0 for e in self.files)

    @classmethod
    def parse(cls, data: bytes, where: str) -> Manifest:
        """Validate a manifest read from ``where`` (a file or a remote), refusing hostile ones."""
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            raise DefinitionError(
                f"not a valid dmconf manifest: {describe_validation(exc.errors())}", path=where
            ) from None


def build_manifest(definition: DatasetDefinition, folder: Path, state: DatasetState) -> Manifest:
    """Hash every entry of a prepared dataset's resources (links are recorded, not followed)."""
    entries: list[Entry] = []
    for key in sorted(definition.resources):
        top = folder / key
        entries.append(_entry(top, key))
        if top.is_symlink() or not top.is_dir():
            continue
        for root, dirs, files in os.walk(top):
            dirs.sort()
            base = Path(root)
            for name in sorted([*dirs, *files]):
                path = base / name
                entries.append(_entry(path, path.relative_to(folder).as_posix()))
    return Manifest(
        id=definition.id, definition=definition.content_digest(), license=definition.license,
        resources={k: _record(definition, folder, state, k) for k in sorted(definition.resources)},
        files=entries, source=definition.model_dump(mode="json"),
    )


def _record(definition: DatasetDefinition, folder: Path, state: DatasetState, key: str) -> Record:
    """A resource's record, the same whichever dmconf version wrote the state file."""
    recorded = state.resources[key]
    materialised = recorded.get("materialised")
    if materialised is None:  # a state file older than the materialised digest: hash it now
        path = folder / key
        materialised = tree_sha256(path) if path.is_dir() else file_sha256(path)
    return Record(sha256=recorded["sha256"], materialised=materialised,
                  unpack=definition.resources[key].unpack)


def _entry(path: Path, rel: str) -> Entry:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return Entry(path=rel, kind="link", mode="644", target=os.readlink(path))
    if stat.S_ISDIR(info.st_mode):
        return Entry(path=rel, kind="dir", mode="755")
    if not stat.S_ISREG(info.st_mode):
        raise NotPrepared(f"{rel} is neither a file, a folder nor a link; a prepared dataset "
                          "holds nothing else", path=str(path))
    mode: Literal["644", "755"] = "755" if info.st_mode & 0o111 else "644"
    return Entry(path=rel, size=info.st_size, sha256=file_sha256(path), mode=mode)


def manifest_of(definition: DatasetDefinition, folder: Path) -> Manifest:
    """The manifest of a prepared dataset, from ``.dmconf-manifest.json`` or hashed once.

    Raises :class:`NotPrepared` when the folder does not hold this definition's data, and
    :class:`DefinitionError` for a derived dataset (its output is made, not downloaded: it has
    no manifest yet, so ``push``, ``pull`` and lock files leave it out).
    """
    if definition.derive is not None:
        raise DefinitionError(
            "is derived: push, pull and lock files handle downloaded datasets only; push its "
            f"inputs instead, and `dmconf prepare {definition.id}` makes it where they arrive",
            dataset=definition.id)
    state = DatasetState(folder)
    if not state.is_prepared(definition):
        raise NotPrepared(
            f"{definition.id} is not prepared in {folder}; run `dmconf prepare {definition.id}` "
            "first", dataset=definition.id, path=str(folder),
        )
    cached = _read_cached(folder / MANIFEST_FILE)
    if (cached is not None and cached.definition == state.digest
            and set(cached.resources) == set(definition.resources)
            and all(state.resources.get(k, {}).get("sha256") == r.sha256
                    for k, r in cached.resources.items())):
        return cached
    manifest = build_manifest(definition, folder, state)
    write_manifest(manifest, folder)
    return manifest


def write_manifest(manifest: Manifest, folder: Path) -> None:
    """Write ``.dmconf-manifest.json`` through a fresh temporary name (never a followed link)."""
    tmp = folder / f"{MANIFEST_FILE}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        with os.fdopen(os.open(tmp, flags, 0o644), "wb") as out:
            out.write(manifest.to_json())
        os.replace(tmp, folder / MANIFEST_FILE)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _read_cached(path: Path) -> Manifest | None:
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None  # missing, torn or from another version: hash again
