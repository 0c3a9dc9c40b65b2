"""A shared data folder on a cluster: lock kinds across two clients of one folder (two FUSE
mounts), a dead lease holder on another host (``unshare --uts``), a waiting job that gives up
and prepares alone, a lab's read-only store used offline with zero sockets, a node without
network, and two real Unix users sharing a group store."""

from __future__ import annotations

import contextlib
import grp
import json
import logging
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from clusterkit import fuse_views, interpreter_for_others, python, read_only_view, world_dir
from httpserver import Fault
from resources import FAST, cli, leftovers, serve_dataset, write_settings
from test_processes import finish, kill, wait_for

import dmconf
from dmconf.lock import Locking, filesystem_type, locked

pytestmark = pytest.mark.slow
DATA = os.urandom(3 << 20)
HOLD = """
import sys
from pathlib import Path
from dmconf.lock import Locking, locked
with locked(Path(sys.argv[1]), "holding", Locking(sys.argv[2], lease=float(sys.argv[3]))):
    print("held", flush=True)
    if sys.argv[4] == "die":
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()
"""


def _gets(server, name: str) -> int:
    return sum(r.method == "GET" for r in server.requests_for(name))


def test_auto_lock_kind_follows_the_file_system(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    assert Locking().kind_at(source / "x.lock") == "flock"  # a local disk
    with fuse_views(source, "a") as (view,):
        assert filesystem_type(view / "not" / "yet" / "made").startswith("fuse")
        assert Locking().kind_at(view / "x.lock") == "lease"
        assert Locking("soft").kind_at(view / "x.lock") == "soft"  # the setting wins


@pytest.mark.parametrize("kind, excludes", [("flock", False), ("soft", True), ("lease", True)])
def test_two_clients_of_one_folder_exclude_with_the_chosen_lock_not_with_flock(
        tmp_path, caplog, kind, excludes):
    source = tmp_path / "src"
    source.mkdir()
    with fuse_views(source, "a", "b") as (a, b):
        holder = python(HOLD, str(a / "x.lock"), kind, "30", "live", stdin=subprocess.PIPE)
        try:
            assert holder.stdout.readline().strip() == "held"
            caplog.set_level(logging.INFO, logger="dmconf")
            with locked(b / "x.lock", "testing", Locking(kind, timeout=0.5, lease=30)):
                pass
        finally:
            holder.communicate("")
    waited = "waiting for another process to finish testing" in caplog.text
    gave_up = "going on alone" in caplog.text
    assert waited is excludes and gave_up is excludes, caplog.text


def _two_jobs_through_two_mounts(env, server, tmp_path, settings: dict) -> tuple[int, list]:
    write_settings(env, **settings)
    name = serve_dataset(env, server, "test.nfs", DATA)
    env.data.mkdir()
    gate = threading.Event()
    server.faults[name] = Fault(stall_after=1 << 20, gate=gate, stall=120, times=1)
    with fuse_views(env.data, "client-a", "client-b") as views:
        procs, errs = [], []
        with contextlib.ExitStack() as files:
            try:
                for view in views:
                    errs.append(tmp_path / f"err-{view.name}")
                    stderr = files.enter_context(errs[-1].open("w"))
                    procs.append(cli("prepare", "test.nfs", stderr=stderr,
                                     env={"DMCONF_DATA": str(view)}))
                    wait_for(lambda: server.requests_for(name), procs[-1], "the first GET")
                wait_for(lambda: len(server.requests_for(name)) == 2 or any(
                    "waiting for another process" in e.read_text() for e in errs), None,
                    "the second job to download or to wait")
            finally:
                gate.set()
            outs = [json.loads(finish(proc)[0])["path"] for proc in procs]
        assert [Path(o).read_bytes() == DATA for o in outs] == [True, True]
        assert leftovers(views[0] / "test.nfs" / Path(outs[0]).parent.name) == []
    return _gets(server, name), [e.read_text() for e in errs]


def test_auto_lock_downloads_once_across_two_clients(env, server, tmp_path):
    gets, errs = _two_jobs_through_two_mounts(env, server, tmp_path, {})
    assert gets == 1 and "waiting for another process" in errs[1]


def test_flock_across_two_clients_downloads_twice_and_is_still_right(env, server, tmp_path):
    """Correctness never rests on the lock: private partials, verified, renamed into place."""
    gets, errs = _two_jobs_through_two_mounts(env, server, tmp_path, {"lock": "flock"})
    assert gets == 2 and not any("waiting for another process" in e for e in errs)


def test_a_job_that_gives_up_waiting_prepares_alone_and_right(env, server):
    # The first job's read must outlast the second's whole run, however loaded the machine:
    # with a 5 s read timeout it could time out, retry unstalled and finish first.
    write_settings(env, lock_timeout=0.5, read_timeout=300)
    name = serve_dataset(env, server, "test.wait", DATA)
    gate = threading.Event()
    server.faults[name] = Fault(stall_after=1 << 20, gate=gate, stall=240, times=1)
    first = cli("prepare", "test.wait")
    try:
        wait_for(lambda: server.requests_for(name), first, "the first download")
        second = cli("prepare", "test.wait")
        out, err = finish(second)  # while the first is still stuck mid-download
        assert "going on alone" in err and Path(json.loads(out)["path"]).read_bytes() == DATA
        assert first.poll() is None
    finally:
        gate.set()
        out_first, _ = finish(first)  # finds a verified copy in place and keeps it
    assert json.loads(out_first) == json.loads(out)
    folder = env.folder("test.wait")
    assert (folder / "payload").read_bytes() == DATA and leftovers(folder) == []
    assert _gets(server, name) == 2


def test_a_dead_lease_holder_on_another_host_is_taken_over(env, server):
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("unshare --uts needs root and util-linux")
    write_settings(env, lock="lease", lock_lease=1.0)
    name = serve_dataset(env, server, "test.lease", DATA)
    folder = env.folder("test.lease")
    folder.mkdir(parents=True)
    lock = folder / ".payload.lock"
    hold = (f"hostname node-b && exec {sys.executable} -c '{HOLD}' {lock} lease 1.0 die")
    dead = subprocess.run(["unshare", "--uts", "sh", "-c", hold], capture_output=True,
                          text=True, check=False)
    if dead.returncode != -signal.SIGKILL and "held" not in dead.stdout:
        pytest.skip(f"unshare --uts is not allowed here: {dead.stderr.strip()}")
    assert "node-b" in lock.read_text()  # the marker names the other host
    out, err = finish(cli("prepare", "test.lease"))
    assert "waiting for another process" in err and "going on alone" not in err
    assert Path(json.loads(out)["path"]).read_bytes() == DATA and _gets(server, name) == 1


AUDITED = """
import sys
events = []
NETWORK = ("socket.__new__", "socket.connect", "socket.getaddrinfo", "socket.bind")
sys.addaudithook(lambda event, args: event in NETWORK and events.append(event))
import dmconf
print(dmconf.prepare(sys.argv[1]).path)
print(len(events), sorted(set(events)))
"""


def test_a_lab_store_read_only_then_a_personal_one_offline_with_zero_sockets(
        env, server, tmp_path, monkeypatch):
    lab, personal = tmp_path / "lab", tmp_path / "personal"
    write_settings(env)
    monkeypatch.setenv("DMCONF_DATA", str(lab))
    name = serve_dataset(env, server, "test.lab", DATA)
    dmconf.prepare("test.lab")  # the login node prepares the lab store
    with read_only_view(lab, tmp_path / "lab-ro") as lab_ro:
        monkeypatch.delenv("DMCONF_DATA")
        write_settings(env, data=[str(lab_ro), str(personal)])
        assert dmconf.load_settings().data == personal
        assert dmconf.load_settings().read_only == (lab_ro,)
        job = python(AUDITED, "test.lab", env={"DMCONF_OFFLINE": "1"})
        out, err = job.communicate(timeout=120)
        assert job.returncode == 0, err
        path, sockets = out.splitlines()
        assert Path(path).is_relative_to(lab_ro) and Path(path).read_bytes() == DATA
        assert sockets == "0 []"
        assert not (personal / "test.lab").exists() and dmconf.is_prepared("test.lab")
        # the same list from the environment; a dataset the lab lacks goes to the personal store
        monkeypatch.setenv("DMCONF_DATA", os.pathsep.join([str(lab_ro), str(personal)]))
        serve_dataset(env, server, "test.mine", DATA[:1000], name="mine.bin")
        job = python(AUDITED, "test.mine")  # the hook does see sockets when there are some
        out, err = job.communicate(timeout=120)
        path, sockets = out.splitlines()
        assert Path(path).is_relative_to(personal) and not sockets.startswith("0 "), err
        assert Path(dmconf.prepare("test.lab").path).is_relative_to(lab_ro)
    assert _gets(server, name) == 1


def test_a_node_without_network_fails_at_once_naming_the_login_node_command(env, server):
    write_settings(env)
    serve_dataset(env, server, "test.node", DATA)
    proc = cli("prepare", "test.node", env={"DMCONF_OFFLINE": "1"})
    _, err = proc.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, err
    assert f"run `DMCONF_DATA={env.data} dmconf prepare test.node`" in lines[0]
    assert "login node" in lines[0] and server.log == []
    assert not (env.data / "test.node").exists() and not (env.data / ".locks").exists()


# --- two real Unix users sharing a group store


@pytest.fixture
def lab_users():
    """Two accounts in one group, created for the test and removed after."""
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("creating Unix accounts needs root and useradd")
    tag = secrets.token_hex(3)
    group, users = f"dmlab{tag}", [f"dma{tag}", f"dmb{tag}"]
    subprocess.run(["groupadd", group], check=True)
    try:
        for user in users:
            subprocess.run(["useradd", "-M", "-N", "-g", "users", "-G", group, user],
                           check=True)
        yield group, users
    finally:
        for user in users:
            subprocess.run(["userdel", user], check=False, capture_output=True)
        subprocess.run(["groupdel", group], check=False, capture_output=True)


def _as(user: str, group: str, *args: str, env: dict[str, str]) -> subprocess.Popen:
    command = interpreter_for_others()
    if command == [sys.executable]:
        command = [str(Path(sys.executable).with_name("dmconf"))]
    return subprocess.Popen([*command, *args], user=user, group="users", extra_groups=[group],
                            umask=0o022, env={"PATH": os.environ["PATH"], **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@contextlib.contextmanager
def _group_store(group: str, server):
    """A store set up as the README says, its catalogue and settings (``shared: true``),
    with ``test.group`` served; yields the store, the job's variables and the served name."""
    from conftest import Env

    root = world_dir()
    try:
        store, catalog, cache = root / "store", root / "catalog", root / "cache"
        for folder in (store, catalog, cache):
            folder.mkdir()
        cache.chmod(0o777)
        os.chown(store, 0, grp.getgrnam(group).gr_gid)
        store.chmod(0o2775)  # the README's set-up: chgrp lab, chmod 2775
        settings = root / "settings.yaml"
        settings.write_text(yaml.safe_dump({**FAST, "shared": True}))
        name = serve_dataset(Env(store, catalog, settings), server, "test.group", DATA)
        variables = {"DMCONF_DATA": str(store), "DMCONF_CATALOG": str(catalog),
                     "DMCONF_SETTINGS": str(settings), "DMCONF_CACHE": str(cache)}
        yield store, variables, name
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _killed_mid_download(user: str, group: str, store: Path, variables, server, name) -> Path:
    """``user``'s prepare, killed once 1 MiB is on disk; its partial file."""
    gate = threading.Event()
    server.faults[name] = Fault(stall_after=1 << 20, gate=gate, stall=120, times=1)
    first = _as(user, group, "prepare", "test.group", env=variables)
    try:
        part = wait_for(lambda: next((p for p in store.rglob(".payload.*.part")
                                      if p.stat().st_size >= 1 << 20), None), first,
                        f"{user}'s partial")
        kill(first)  # the job dies: its partial stays, owned by its user
    finally:
        gate.set()
    return part


def test_two_users_share_a_group_store(lab_users, server):
    group, (alice, bob) = lab_users
    gid = grp.getgrnam(group).gr_gid
    with _group_store(group, server) as (store, variables, name):
        part = _killed_mid_download(alice, group, store, variables, server, name)
        assert part.stat().st_uid != 0 and stat.S_IMODE(part.stat().st_mode) & 0o060 == 0o060
        out, err = _as(bob, group, "prepare", "test.group", env=variables).communicate(
            timeout=120)
        assert "Permission denied" not in err and out, err
        path = Path(json.loads(out)["path"])
        assert path.read_bytes() == DATA
        second = server.requests_for(name)[1]
        assert second.headers.get("Range") == f"bytes={1 << 20}-"  # bob adopted alice's bytes
        for each in [path.parent, path.parent.parent, store / ".locks"]:
            mode = each.stat().st_mode
            assert mode & stat.S_ISGID and mode & 0o070 == 0o070, each
            assert each.stat().st_gid == gid, each
        for each in [path, path.parent / ".dmconf-state.json", *(store / ".locks").iterdir()]:
            assert stat.S_IMODE(each.stat().st_mode) & 0o060 == 0o060, each
        # alice finds bob's copy prepared, and may remove it
        again, _ = _as(alice, group, "prepare", "test.group", env=variables).communicate(
            timeout=60)
        assert again == out
        _, err = _as(alice, group, "rm", "test.group", env=variables).communicate(timeout=60)
        assert not path.exists(), err


def test_a_gone_users_partial_the_group_cannot_write_is_ignored(lab_users, server):
    group, (alice, bob) = lab_users
    with _group_store(group, server) as (store, variables, name):
        part = _killed_mid_download(alice, group, store, variables, server, name)
        part.chmod(0o644)  # written by a member whose umask keeps the group out
        out, err = _as(bob, group, "prepare", "test.group", env=variables).communicate(
            timeout=120)
        assert out and "Permission denied" not in err, err
        assert Path(json.loads(out)["path"]).read_bytes() == DATA
        assert "Range" not in server.requests_for(name)[1].headers  # ignored, downloaded whole
        assert not part.exists() and leftovers(part.parent) == []
