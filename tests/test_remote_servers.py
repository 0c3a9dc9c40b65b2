"""Remotes on real servers on 127.0.0.1: SFTP served by OpenSSH's sshd, S3 served by moto.

The same story on each: push, pull on a fresh data folder, a corrupted blob refused, two
concurrent pushes. ``dmconf copy`` to the sshd host ends with the dataset prepared there.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml
from remotes import TREE_ID, define_tree, other_machine
from resources import cli
from servers import AWS_ENV

from dmconf import find as dmconf_find
from dmconf.cli import main
from dmconf.preparation import is_prepared
from dmconf.remote import open_remote
from dmconf.settings import load_settings


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(params=["sftp", "s3"])
def served(request, env, server, capsys, tmp_path, monkeypatch):
    """The tree dataset, prepared, and a remote named ``lab`` on a real server."""
    define_tree(env, server)
    if request.param == "sftp":
        sshd = request.getfixturevalue("ssh_home")
        argv = ["remote", "add", "lab", sshd.url(str(tmp_path / "sftp-store"))]
    else:
        moto = request.getfixturevalue("moto_s3")
        for key, value in AWS_ENV.items():
            monkeypatch.setenv(key, value)
        bucket = f"dmconf-{os.getpid()}-{abs(hash(str(tmp_path))) % 10**8}"
        import s3fs

        s3fs.S3FileSystem(endpoint_url=moto.endpoint).mkdir(bucket)
        argv = ["remote", "add", "lab", f"s3://{bucket}/store", "--option",
                f"endpoint_url={moto.endpoint}"]
    assert run(capsys, *argv)[0] == 0
    code, _, err = run(capsys, "prepare", TREE_ID)
    assert code == 0, err
    return request.param


def _fresh_pull(capsys, monkeypatch, tmp_path, ref=TREE_ID):
    other_machine(monkeypatch, tmp_path / f"elsewhere-{len(list(tmp_path.iterdir()))}")
    return run(capsys, "pull", ref, "-r", "lab")


def test_push_and_pull_on_a_fresh_data_folder(served, capsys, tmp_path, monkeypatch, server):
    code, out, err = run(capsys, "push", TREE_ID, "-r", "lab")
    assert code == 0, err
    assert "4 of 4 blob(s) sent" in err
    digest = out.strip().split("@")[1]
    assert "0 of 4 blob(s) sent" in run(capsys, "push", TREE_ID, "-r", "lab")[2]
    server.log.clear()
    code, out, err = _fresh_pull(capsys, monkeypatch, tmp_path)
    assert code == 0, err
    assert out.strip() == f"{TREE_ID}@{digest}" and server.log == []
    settings = load_settings()
    assert is_prepared(TREE_ID, settings=settings)
    assert run(capsys, "verify", TREE_ID)[0] == 0


def test_a_corrupted_blob_is_refused(served, capsys, tmp_path, monkeypatch):
    assert run(capsys, "push", TREE_ID, "-r", "lab")[0] == 0
    remote = open_remote("lab", load_settings())
    import hashlib

    sha = hashlib.sha256(b"A" * 70_000).hexdigest()
    with remote.fs.open(remote.blob_path(sha), "wb") as out:
        out.write(b"B" * 70_000)
    code, _, err = _fresh_pull(capsys, monkeypatch, tmp_path)
    assert code == 1
    assert "remote 'lab'" in err and sha in err and "corrupt" in err
    # a.bin and b.bin share the blob: the first one fetched names it
    assert any(f"{TREE_ID}/archive/tree/images/{name}" in err for name in ("a.bin", "b.bin"))
    assert not is_prepared(TREE_ID, settings=load_settings())


def test_two_concurrent_pushes(served, capsys, tmp_path, monkeypatch):
    pushes = [cli("push", TREE_ID, "-r", "lab") for _ in range(2)]
    results = [p.communicate(timeout=180) for p in pushes]
    assert [p.returncode for p in pushes] == [0, 0], results
    assert results[0][0] == results[1][0]
    remote = open_remote("lab", load_settings())
    assert not [p for p in remote.fs.find(remote.root) if ".tmp-" in p]
    code, _, err = _fresh_pull(capsys, monkeypatch, tmp_path)
    assert code == 0, err


def test_an_unknown_host_key_is_refused(env, server, ssh_home, capsys, tmp_path):
    define_tree(env, server)
    assert run(capsys, "prepare", TREE_ID)[0] == 0
    (ssh_home.home / ".ssh" / "known_hosts").rename(tmp_path / "known_hosts")
    try:
        code, _, err = run(capsys, "push", TREE_ID, "-r", ssh_home.url(str(tmp_path / "s")))
    finally:
        (tmp_path / "known_hosts").rename(ssh_home.home / ".ssh" / "known_hosts")
    assert code == 1 and "cannot connect" in err
    assert not (tmp_path / "s").exists()


def test_copy_to_the_ssh_host_leaves_the_dataset_prepared_there(env, server, ssh_home, capsys,
                                                                 tmp_path):
    define_tree(env, server)
    assert run(capsys, "prepare", TREE_ID)[0] == 0
    there = tmp_path / "other-machine-data"
    dmconf = os.path.join(os.path.dirname(os.sys.executable), "dmconf")
    server.log.clear()
    # the alias comes from ~/.ssh/config (port, key, known hosts), as for any ssh user
    code, out, err = run(capsys, "copy", TREE_ID, f"root@{ssh_home.alias}:{there}",
                         "--dmconf", dmconf)
    assert code == 0, err
    assert out.strip().startswith(f"{TREE_ID}@")
    assert server.log == []
    folder = load_settings(data=there).dataset_folder(dmconf_find(TREE_ID))
    state = json.loads((folder / ".dmconf-state.json").read_text())
    assert set(state["resources"]) == {"archive", "single"} and state["digest"]
    assert (folder / "archive" / "tree" / "run.sh").is_file()
    # a second copy sends nothing new and still succeeds
    code, _, err = run(capsys, "copy", TREE_ID, f"root@{ssh_home.alias}:{there}",
                       "--dmconf", dmconf)
    assert code == 0 and "0 of 4 blob(s) sent" in err
    # the other side's own dmconf sees it prepared
    done = cli("verify", TREE_ID, env={"DMCONF_DATA": str(there)})
    out, err = done.communicate(timeout=60)
    assert done.returncode == 0, err


def test_copy_without_a_data_folder_uses_the_other_sides_own(env, server, ssh_home, capsys):
    define_tree(env, server)
    assert run(capsys, "prepare", TREE_ID)[0] == 0
    dmconf = os.path.join(os.path.dirname(os.sys.executable), "dmconf")
    code, _, err = run(capsys, "copy", TREE_ID, f"ssh://root@127.0.0.1:{ssh_home.port}",
                       "--dmconf", dmconf)
    assert code == 0, err
    folder = load_settings(data=ssh_home.data).dataset_folder(dmconf_find(TREE_ID))
    assert is_prepared(TREE_ID, settings=load_settings(data=ssh_home.data))
    assert (folder / "single").is_file()


def test_copy_names_the_failure_on_the_other_side(env, server, ssh_home, capsys):
    define_tree(env, server)
    assert run(capsys, "prepare", TREE_ID)[0] == 0
    code, _, err = run(capsys, "copy", TREE_ID, f"root@{ssh_home.alias}:/tmp/x",
                       "--dmconf", "/nonexistent/dmconf")
    assert code == 1 and "root@dmconf-test" in err and "/nonexistent/dmconf" in err


def test_prepare_falls_back_to_the_remote_when_the_origin_answers_404(
        served, env, server, capsys, tmp_path, monkeypatch):
    from httpserver import Fault

    assert run(capsys, "push", TREE_ID, "-r", "lab")[0] == 0
    settings = yaml.safe_load(env.settings.read_text())
    env.settings.write_text(yaml.safe_dump({**settings, "remotes": ["lab"]}))
    other_machine(monkeypatch, tmp_path / "fresh")
    for name in list(server.files):
        server.faults[name] = Fault(status=404)
    server.log.clear()
    code, out, err = run(capsys, "prepare", TREE_ID)
    assert code == 0, err
    assert "prepared from remote 'lab'" in err and server.log == []
    assert json.loads(out)["id"] == TREE_ID
