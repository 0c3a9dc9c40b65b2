"""Helpers for download tests: one-resource datasets served by the loopback server, and
running the dmconf CLI as a real subprocess."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from httpserver import FileServer

# Quick retries. The read timeout stays long: tests stall a transfer behind a gate while other
# processes start, which on a loaded machine (4 test workers on 2 cores) takes more than 5 s;
# a timeout firing there adds a resumed GET the test did not ask for. Tests of timeouts set
# their own (read_timeout: 0.3 or 1).
FAST = {"retries": 2, "backoff": 0.01, "backoff_max": 0.05, "read_timeout": 120.0}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def serve_dataset(
    env: Any, server: FileServer, dataset_id: str, data: bytes, *, unpack: str = "none",
    name: str | None = None, type_: str = "file", **resource: Any,
) -> str:
    """Serve ``data`` and define ``dataset_id`` with one resource ``payload``; return its path."""
    name = name or f"{dataset_id}/payload.bin"
    server.files[name] = data
    entry = {"url": server.url(name), "sha256": sha256(data), "unpack": unpack, **resource}
    definition = {
        "name": dataset_id, "resources": {"payload": entry}, "type": type_,
        "data": {"path": "payload"},
    }
    env.define(dataset_id, yaml.safe_dump(definition, sort_keys=False))
    return name


def write_settings(env: Any, **values: Any) -> None:
    env.settings.write_text(yaml.safe_dump({**FAST, **values}))


def leftovers(folder: Path) -> list[str]:
    """dmconf's temporary files and folders in a dataset folder (locks and state excluded)."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".part", ".part.json",
                                                                        ".unpack", ".lines")))


def cli(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """Run the installed ``dmconf`` entry point as a user would."""
    exe = Path(sys.executable).with_name("dmconf")
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([str(exe), *args], env={**os.environ, **(env or {})}, text=True,
                            **kwargs)
