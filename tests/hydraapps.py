"""Running a user's Hydra app as a subprocess, as the user would, and reading what it did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from httpserver import FileServer

__all__ = ["gets", "results", "run", "write_app"]


def run(
    folder: Path,
    *args: str,
    script: str = "app.py",
    ok: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``script`` in ``folder`` with this interpreter; the DMCONF_* variables come from the
    ``env`` fixture, and ``env`` adds or replaces some."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_")}
    environ.update(env or {})
    proc = subprocess.run(
        [sys.executable, script, *args],
        cwd=folder,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if ok and proc.returncode != 0:
        pytest.fail(f"{script} {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def results(proc: subprocess.CompletedProcess) -> list[dict]:
    """The ``RESULT {json}`` lines an app printed."""
    return [json.loads(line[7:]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")]


def gets(server: FileServer, path: str) -> int:
    """How many GET requests the loopback server answered for ``path``."""
    return sum(1 for r in server.requests_for(path) if r.method == "GET")


def write_app(folder: Path, files: dict[str, str]) -> Path:
    """Write an app's files (``app.py``, ``conf/config.yaml``...) under ``folder``."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder
