"""Helpers for remote tests: a dataset whose prepared folder has folders, an executable, a link
and two identical files; switching the data folder as if on another machine; a remote's files."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import yaml
from httpserver import FileServer
from resources import sha256

TREE_ID = "test.tree"

# name -> (content, mode); None content: a folder; str: a link target
TREE: dict[str, tuple[bytes | str | None, int]] = {
    "tree": (None, 0o755),
    "tree/images": (None, 0o755),
    "tree/images/a.bin": (b"A" * 70_000, 0o644),
    "tree/images/b.bin": (b"A" * 70_000, 0o644),  # the same bytes: one blob
    "tree/images/c.bin": (bytes(range(256)) * 300, 0o644),
    "tree/empty": (None, 0o755),
    "tree/run.sh": (b"#!/bin/sh\necho run\n", 0o755),
    "tree/latest": ("images/c.bin", 0o777),
}


def tree_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, (content, mode) in TREE.items():
            info = tarfile.TarInfo(name)
            info.mode = mode
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def define_tree(env: Any, server: FileServer, dataset_id: str = TREE_ID, **extra: Any) -> dict:
    """Serve the tree archive and a gzip-free single file; define ``dataset_id`` over both."""
    archive, single = tree_archive(), b"single file\n" * 1000
    server.files[f"{dataset_id}/tree.tar.gz"] = archive
    server.files[f"{dataset_id}/single.txt"] = single
    definition = {
        "name": "tree", **extra,
        "resources": {
            "archive": {"url": server.url(f"{dataset_id}/tree.tar.gz"), "sha256": sha256(archive),
                        "size": len(archive), "unpack": "untar"},
            "single": {"url": server.url(f"{dataset_id}/single.txt"), "sha256": sha256(single),
                       "size": len(single)},
        },
        "type": "folder", "data": {"path": "archive"},
    }
    env.define(dataset_id, yaml.safe_dump(definition, sort_keys=False))
    return definition


def other_machine(monkeypatch: Any, folder: Path) -> Path:
    """Point DMCONF_DATA at an empty data folder, as on a machine that never prepared."""
    monkeypatch.setenv("DMCONF_DATA", str(folder))
    return folder


def blobs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "blobs").rglob("*") if p.is_file())


def temporaries(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.tmp-*"))
