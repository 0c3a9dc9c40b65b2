"""Real processes: SIGKILL mid-download and mid-extraction, then resume; eight processes
preparing one dataset at once. Waits poll the file system (no timing assertions)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import MNIST_ID
from httpserver import Fault
from resources import cli, leftovers, serve_dataset, write_settings

import dmconf

pytestmark = pytest.mark.slow


def wait_for(condition: Callable[[], object], proc: subprocess.Popen | None = None,
             what: str = "condition") -> object:
    """Poll until ``condition()`` is truthy; fail (not hang) if it never is."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            _, err = proc.communicate()  # its pipes closed: no unclosed file left for later tests
            pytest.fail(f"the process ended before {what}: {err}")
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()  # reaped: a zombie would still count as a live owner of its partial file
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


def finish(proc: subprocess.Popen) -> tuple[str, str]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out, err


def test_kill_9_mid_download_resumes_from_the_bytes_on_disk(env, server):
    write_settings(env)
    data = os.urandom(5 << 20)
    name = serve_dataset(env, server, "test.big", data)
    gate = threading.Event()
    server.faults[name] = Fault(stall_after=2 << 20, gate=gate, stall=120, times=1)
    folder = env.folder("test.big")
    proc = cli("prepare", "test.big")
    try:
        part = wait_for(lambda: next((p for p in folder.glob(".payload.*.part")
                                      if p.stat().st_size == 2 << 20), None), proc,
                        "2 MiB on disk")
        assert f".payload.{proc.pid}@" in part.name
        kill(proc)
    finally:
        gate.set()
    assert not dmconf.is_prepared("test.big")
    finish(cli("prepare", "test.big"))  # the dead process's lock does not block
    assert (folder / "payload").read_bytes() == data
    _, second = server.requests_for(name)
    assert second.headers["Range"] == f"bytes={2 << 20}-" and "If-Range" in second.headers
    assert second.sent == len(data) - (2 << 20)
    assert leftovers(folder) == []


def _many_members_tar(count: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for index in range(count):
            body = b"member %d\n" % index
            info = tarfile.TarInfo(f"files/m{index:04d}.txt")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


# In the child: block forever once extraction reaches member 150, after saying so in a file.
BLOCKER = """
import logging, sys, time
from pathlib import Path
class Block(logging.Handler):
    def emit(self, record):
        if "extracting files/m0150.txt" in record.getMessage():
            Path(sys.argv[1]).write_text("reached")
            time.sleep(600)
logger = logging.getLogger("dmconf")
logger.setLevel(logging.DEBUG)
logger.addHandler(Block())
import dmconf
dmconf.prepare("test.tar")
"""


def test_kill_9_mid_extraction_is_never_taken_for_done(env, server, tmp_path):
    write_settings(env)
    name = serve_dataset(env, server, "test.tar", _many_members_tar(300), unpack="untar",
                         type_="folder")
    folder, marker = env.folder("test.tar"), tmp_path / "reached"
    proc = subprocess.Popen([sys.executable, "-c", BLOCKER, str(marker)],
                            stderr=subprocess.PIPE, text=True)
    wait_for(marker.exists, proc, "extraction to reach member 150")
    unpacking = folder / f".payload.{proc.pid}@{_host()}.unpack"
    assert len(list((unpacking / "files").iterdir())) == 150
    kill(proc)
    assert not (folder / "payload").exists() and not dmconf.is_prepared("test.tar")
    root = Path(dmconf.prepare("test.tar").path)
    assert sorted(p.name for p in (root / "files").iterdir())[-1] == "m0299.txt"
    assert (root / "files" / "m0150.txt").read_text() == "member 150\n"
    assert len(server.requests_for(name)) == 1  # the verified download was reused
    assert leftovers(folder) == [] and not unpacking.exists()


def _host() -> str:
    from dmconf.fetch.download import HOST

    return HOST


def test_eight_processes_download_each_resource_once(mnist_env, server, mnist, tmp_path):
    gate = threading.Event()
    held = "mnist/train_images.gz"
    server.faults[held] = Fault(stall_after=1 << 20, gate=gate, stall=120)
    procs, errs, outputs = [], [], []
    with contextlib.ExitStack() as files:
        try:
            for index in range(8):
                errs.append(tmp_path / f"err{index}")
                stderr = files.enter_context(errs[-1].open("w"))
                # Each its own cache folder, as jobs of different users: no shared claim of
                # the warm path (test_warm.py), so the resource locks decide.
                cache = tmp_path / f"cache{index}"
                if Path(os.environ["DMCONF_CACHE"]).is_dir():  # the session's irds listing
                    shutil.copytree(os.environ["DMCONF_CACHE"], cache)
                procs.append(cli("prepare", MNIST_ID, stderr=stderr,
                                 env={"DMCONF_CACHE": str(cache)}))
            waiting = "waiting for another process to finish downloading test.mnist/train_images"
            wait_for(lambda: sum(waiting in e.read_text() for e in errs) == 7, None,
                     "seven processes to wait for the eighth")
        finally:
            gate.set()
        for proc, err in zip(procs, errs, strict=True):
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0, err.read_text()
            outputs.append(out)
    assert len(set(outputs)) == 1 and json.loads(outputs[0])["id"] == MNIST_ID
    for key in mnist.gz:
        gets = [r for r in server.requests_for(f"mnist/{key}.gz") if r.method == "GET"]
        assert len(gets) == 1, key
    ds = dmconf.prepare(MNIST_ID)
    assert (ds.train.images.data() == mnist.arrays["train_images"]).all()
    assert leftovers(mnist_env.folder(MNIST_ID)) == []


# In the child: a file system whose locks do nothing (some NFS, Lustre).
NO_LOCKS = """
import filelock
class NoLock:
    def __init__(self, *args, **kwargs): pass
    def acquire(self, *args, **kwargs): pass
    def release(self, *args, **kwargs): pass
    def __enter__(self): return self
    def __exit__(self, *args): pass
filelock.UnixFileLock = NoLock  # the lock kind "flock" uses it
import dmconf
dmconf.prepare("test.tar")
"""


def test_without_working_locks_processes_waste_bandwidth_not_correctness(env, server):
    write_settings(env)
    archive = _many_members_tar(50)
    name = serve_dataset(env, server, "test.tar", archive, unpack="untar", type_="folder")
    gate = threading.Event()
    server.faults[name] = Fault(stall_after=len(archive) // 2, gate=gate, stall=120)
    procs = []
    try:
        for _ in range(4):
            procs.append(subprocess.Popen([sys.executable, "-c", NO_LOCKS],
                                          stderr=subprocess.PIPE, text=True))
        wait_for(lambda: len(server.requests_for(name)) == 4, None, "four downloads at once")
    finally:
        gate.set()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    root = Path(dmconf.prepare("test.tar").path)
    assert len(list((root / "files").iterdir())) == 50
    assert (root / "files" / "m0049.txt").read_text() == "member 49\n"
    assert all(r.sent == len(archive) for r in server.requests_for(name))
    assert leftovers(env.folder("test.tar")) == []
