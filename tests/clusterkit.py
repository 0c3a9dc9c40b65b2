"""Helpers for the cluster tests: FUSE views of one folder (two "clients" of a network file
system), read-only bind mounts (a lab's store), real Unix accounts, and child processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CACHELESS = "entry_timeout=0,attr_timeout=0,negative_timeout=0"


@contextlib.contextmanager
def fuse_views(source: Path, *names: str) -> Iterator[list[Path]]:
    """Several bindfs (FUSE pass-through) mounts of ``source``: each is a client whose
    ``flock`` the others do not see, as with two NFS clients. Skips where FUSE is missing."""
    if shutil.which("bindfs") is None or not os.path.exists("/dev/fuse"):
        pytest.skip("bindfs or /dev/fuse is missing (.ci/run installs bindfs; a container "
                    "needs --device /dev/fuse)")
    views = []
    try:
        for name in names:
            view = source.parent / name
            view.mkdir()
            # FUSE caches names for a second by default, where NFS revalidates a folder's
            # entries once it changed (close-to-open): no cache, as on NFS
            done = subprocess.run(["bindfs", "--no-allow-other", "-o", CACHELESS, str(source),
                                   str(view)],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                pytest.skip(f"cannot mount FUSE here: {done.stderr.strip()}")
            views.append(view)
        yield views
    finally:
        for view in views:
            subprocess.run(["fusermount", "-u", str(view)], check=False)


@contextlib.contextmanager
def read_only_view(source: Path, view: Path) -> Iterator[Path]:
    """``view``: a read-only bind mount of ``source`` (even root cannot write it)."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    view.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["mount", "--bind", str(source), str(view)], check=True,
                       capture_output=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True,
                       capture_output=True)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot bind-mount read-only here: {exc.stderr.decode().strip()}")
    except FileNotFoundError as exc:
        pytest.skip(f"cannot bind-mount read-only here: {exc}")
    try:
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=False)


def python(code: str, *args: str, env: dict[str, str] | None = None,
           **kwargs: object) -> subprocess.Popen:
    """Run ``code`` in a child interpreter (stderr piped, text)."""
    kwargs.setdefault("stderr", subprocess.PIPE)
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.Popen([sys.executable, "-c", code, *args],
                            env={**os.environ, **(env or {})}, text=True, **kwargs)  # type: ignore[call-overload]


def world_dir() -> Path:
    """A temporary folder other Unix users can reach (pytest's tmp_path is root's, 0700)."""
    path = Path(tempfile.mkdtemp(prefix="dmconf-cluster-", dir="/tmp"))
    path.chmod(0o755)
    return path


def interpreter_for_others() -> list[str]:
    """A command running this environment's Python as another user.

    The test interpreter may live where other users cannot go (pyenv under /root): then the
    system's Python of the same minor version runs, with this environment's site-packages.
    """
    import sysconfig

    import dmconf

    packages = sysconfig.get_paths()["purelib"]
    for needed in (Path(packages), Path(dmconf.__file__).parent):
        if not _reachable_by_all(needed):
            pytest.skip(f"{needed} is in a folder other users cannot enter (a 0700 parent such "
                        "as /root or a `mktemp -d` folder): run the suite from a checkout "
                        "others can read for the tests with two Unix users")
    candidates = [sys.executable, f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"]
    for exe in candidates:
        if _reachable_by_all(Path(exe).resolve()):
            setup = f"import site; site.addsitedir({packages!r})"
            if exe == sys.executable:
                return [exe]
            return [exe, "-c", f"{setup}; from dmconf.cli import main; main()"]
    pytest.skip("no Python interpreter that other users can run")


def _reachable_by_all(path: Path) -> bool:
    if not path.exists():
        return False
    for parent in path.parents:
        if not parent.stat().st_mode & 0o001:
            return False
    return bool(path.stat().st_mode & 0o001)
