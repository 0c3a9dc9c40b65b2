"""Class 5: a kill at any system call of a prepare leaves nothing that the next prepare does
not clean up, and no stray file remains afterwards.

``strace -f -e inject=SYSCALL:signal=KILL:when=N`` kills ``dmconf prepare`` at the N-th call of
each system call that changes the data folder (open/create, write, rename, unlink, mkdir,
rmdir, ftruncate, link, symlink), for every N that happens once the data folder is touched.
Then a plain ``prepare`` must succeed and the data folder must hold exactly what a prepare that
was never interrupted leaves.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml
from resources import cli, sha256, write_settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (.ci/run "
                       "installs it)"),
]

SYSCALLS = ["openat", "write", "rename", "renameat", "renameat2", "unlink", "unlinkat", "mkdir",
            "mkdirat", "rmdir", "ftruncate", "link", "linkat", "symlink", "symlinkat"]


def _archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("corpus/a.txt", b"a" * 3000), ("corpus/b.txt", b"b" * 3000)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("corpus/latest")
        link.type, link.linkname = tarfile.SYMTYPE, "a.txt"
        tar.addfile(link)
    return buffer.getvalue()


@pytest.fixture
def kill_env(env, server):
    write_settings(env, parallel=1, progress=False)
    archive, packed = _archive(), gzip.compress(os.urandom(20_000))
    server.files["k/a.tar.gz"], server.files["k/p.gz"] = archive, packed
    env.define("test.kill", yaml.safe_dump({
        "resources": {
            "corpus": {"url": server.url("k/a.tar.gz"), "sha256": sha256(archive),
                       "unpack": "untar"},
            "packed": {"url": server.url("k/p.gz"), "sha256": sha256(packed),
                       "unpack": "gunzip"}},
        "type": "generic",
        "data": {"text": {"type": "file", "path": "corpus/corpus/a.txt"},
                 "packed": {"type": "file", "path": "packed"}}}))
    return env


def _listing(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _prepare() -> str:
    proc = cli("prepare", "test.kill")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def _calls(trace: Path, data: Path) -> dict[str, tuple[int, int]]:
    """Per system call: how many times it ran in all, and at which count the data folder was
    first touched (the sweep starts there: earlier calls are Python's start-up)."""
    counts: dict[str, int] = {}
    first_touch: int | None = None
    for line in trace.read_text().splitlines():
        words = line.split(None, 1)
        if len(words) < 2 or "(" not in words[1]:
            continue
        name = words[1].split("(", 1)[0]
        counts[name] = counts.get(name, 0) + 1
        if first_touch is None and str(data) in line:
            first_touch = counts.get("openat", 0)
    start = {name: 1 for name in counts}
    start["openat"] = max(1, (first_touch or 1) - 1)
    start["write"] = 1
    return {name: (start[name], total) for name, total in counts.items()}


def test_a_kill_at_any_system_call_is_cleaned_up_by_the_next_prepare(kill_env, tmp_path):
    # Reference: what one uninterrupted prepare leaves, and which calls it makes.
    trace = tmp_path / "trace"
    subprocess.run(["strace", "-f", "-qq", "-o", str(trace), "-e", "trace=" + ",".join(SYSCALLS),
                    _dmconf(), "prepare", "test.kill"], check=True, capture_output=True,
                   timeout=120)
    expected_out = json.loads(_prepare())
    expected = _listing(kill_env.data)
    calls = _calls(trace, kill_env.data)
    shutil.rmtree(kill_env.data)
    killed = 0
    for name, (start, total) in sorted(calls.items()):
        for when in _points(start, total):
            proc = subprocess.run(
                ["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={name}",
                 "-e", f"inject={name}:signal=KILL:when={when}", _dmconf(), "prepare",
                 "test.kill"], capture_output=True, text=True, timeout=120)
            killed += proc.returncode != 0
            assert json.loads(_prepare()) == expected_out, (name, when)
            assert _listing(kill_env.data) == expected, (name, when)
            shutil.rmtree(kill_env.data)
    assert killed > 20, calls  # the sweep really interrupted prepares


def _points(start: int, total: int, most: int = 12) -> list[int]:
    """Every call when there are few; else evenly spread ones, always the last three (where the
    state is written and temporaries removed)."""
    every = list(range(start, total + 1))
    if len(every) <= most:
        return every
    step = len(every) / (most - 3)
    return sorted({every[int(i * step)] for i in range(most - 3)} | set(every[-3:]))


def _dmconf() -> str:
    import sys

    return str(Path(sys.executable).with_name("dmconf"))
