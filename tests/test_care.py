"""Care of prepared data (verify, rm, du), progress and quiet mode, file modes, and errors of
the data folder (full disk, a file in the way), through the library and the CLI."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys

import pytest
from conftest import MNIST_ID
from resources import cli, leftovers, serve_dataset, sha256, write_settings

import dmconf
from dmconf.cli import main
from dmconf.errors import NotPrepared, StorageError, VerificationFailed
from dmconf.prepared import verify
from dmconf.settings import load_settings

PAYLOAD = os.urandom(200_000)


def test_verify_checks_downloads_and_unpacked_files(mnist_env, server, capsys):
    write_settings(mnist_env)
    serve_dataset(mnist_env, server, "test.raw", PAYLOAD)
    dmconf.prepare(MNIST_ID)
    dmconf.prepare("test.raw")
    assert main(["verify", MNIST_ID, "test.raw"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "test.mnist: 4 resource(s) verified", "test.raw: 1 resource(s) verified"]
    # an unpacked file changed: checked against the sha256 recorded when it was materialised
    with open(mnist_env.folder(MNIST_ID) / "test_labels", "r+b") as labels:
        labels.seek(100)
        labels.write(b"\xff")
    (mnist_env.folder("test.raw") / "payload").write_bytes(PAYLOAD[:-1])
    assert main(["verify", MNIST_ID]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "test_labels" in err[0] and "dmconf rm test.mnist" in err[0]
    with pytest.raises(VerificationFailed) as caught:
        verify(dmconf.find("test.raw"), load_settings())
    assert list(caught.value.problems) == ["payload"]


def test_verify_a_dataset_never_prepared(mnist_env):
    with pytest.raises(NotPrepared, match=r"dmconf prepare test\.mnist"):
        verify(dmconf.find(MNIST_ID), load_settings())


def test_verify_an_unpacked_archive_folder(env, server):
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in ("a.txt", "sub/b.txt"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
    write_settings(env)
    serve_dataset(env, server, "test.tar", buffer.getvalue(), unpack="untar", type_="folder")
    root = dmconf.prepare("test.tar").path
    assert verify(dmconf.find("test.tar"), load_settings()) == {"payload": "ok"}
    (root / "sub" / "extra.txt").write_text("added later")
    with pytest.raises(VerificationFailed, match="payload"):
        verify(dmconf.find("test.tar"), load_settings())


def test_rm_and_du(mnist_env, server, capsys):
    write_settings(mnist_env)
    serve_dataset(mnist_env, server, "test.raw", PAYLOAD)
    dmconf.prepare(MNIST_ID)
    dmconf.prepare("test.raw")
    assert main(["du"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[-1] for line in lines] == ["test.mnist", "test.raw", "total"]
    assert main(["du", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    raw = next(r for r in rows if r["id"] == "test.raw")
    assert raw["complete"] and len(PAYLOAD) <= raw["bytes"] < len(PAYLOAD) + 10_000
    assert main(["rm", "test.raw"]) == 0
    assert not mnist_env.folder("test.raw").exists()
    assert mnist_env.folder(MNIST_ID).exists()  # test/ still holds mnist
    assert main(["rm", "test.raw"]) == 1
    assert "nothing to remove" in capsys.readouterr().err
    assert main(["rm", "../etc"]) == 1
    assert "is not a dataset id" in capsys.readouterr().err
    assert main(["rm", MNIST_ID]) == 0
    assert not (mnist_env.data / "test").exists()
    assert main(["du"]) == 0
    assert capsys.readouterr().out.split() == ["0", "B", "total"]


def test_summary_line_progress_bars_and_quiet(mnist_env, server, capsys):
    write_settings(mnist_env, progress=True)
    assert main(["prepare", MNIST_ID]) == 0
    err = capsys.readouterr().err
    assert "test.mnist/train_images" in err and "B/s" in err  # tqdm bars
    summary = [line for line in err.splitlines() if "resource(s) fetched" in line]
    assert len(summary) == 1 and "4 resource(s) fetched" in summary[0]
    assert main(["rm", MNIST_ID]) == 0
    capsys.readouterr()
    assert main(["-q", "prepare", MNIST_ID]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["id"] == MNIST_ID


@pytest.mark.parametrize("umask, file_mode", [(0o022, 0o644), (0o002, 0o664)])
def test_prepared_files_follow_the_umask(mnist_env, server, umask, file_mode):
    old = os.umask(umask)
    try:
        dmconf.prepare(MNIST_ID)
    finally:
        os.umask(old)
    folder = mnist_env.folder(MNIST_ID)
    for path in [folder / "train_images", folder / ".dmconf-state.json",
                 folder / ".train_images.lock"]:
        assert stat.S_IMODE(path.stat().st_mode) == file_mode, path
    assert stat.S_IMODE(folder.stat().st_mode) == file_mode | 0o111


def test_a_file_in_the_way_of_the_data_folder(env, server, capsys):
    serve_dataset(env, server, "test.raw", PAYLOAD)
    env.data.write_text("not a folder")
    with pytest.raises(StorageError):
        dmconf.prepare("test.raw")
    assert main(["prepare", "test.raw"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dmconf: error: test.raw: cannot write ")


def _tar_of(data: bytes) -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("big.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("unpack", ["none", "gunzip", "untar"])
def test_disk_full_is_one_line_and_leaves_no_temporary(env, server, unpack):
    """RLIMIT_FSIZE makes writes past 1 MB fail (EFBIG), as a full disk would (ENOSPC).

    Raw, the download itself fails; compressed (small downloads), the unpacked output does.
    """
    import gzip

    write_settings(env)
    data = {"none": lambda: os.urandom(3 << 20), "gunzip": lambda: gzip.compress(b"\0" * (3 << 20)),
            "untar": lambda: _tar_of(b"\0" * (3 << 20))}[unpack]()
    serve_dataset(env, server, "test.big", data, unpack=unpack,
                  type_="folder" if unpack == "untar" else "file")
    code = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20)); "
        "from dmconf.cli import main; sys.exit(main(['prepare', 'test.big']))"
    )
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("dmconf: error: test.big: cannot write ") and "File too large" in last
    assert "Traceback" not in done.stderr
    folder = env.folder("test.big")
    assert leftovers(folder) == [] and not (folder / "payload").exists()


@contextlib.contextmanager
def _unwritable(folder):
    """A folder nobody may write to: chmod for users, the immutable flag for root."""
    import shutil
    import subprocess

    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = lambda: folder.chmod(0o755)  # noqa: E731
    elif shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)],
                                                  capture_output=True).returncode == 0:
        undo = lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)  # noqa: E731
    else:
        pytest.skip("no way to make a folder unwritable for root here")
    try:
        yield
    finally:
        undo()


def test_permission_denied_is_one_line(env, server):
    serve_dataset(env, server, "test.raw", PAYLOAD)
    env.folder("test.raw").mkdir(parents=True)
    with _unwritable(env.folder("test.raw")):
        proc = cli("prepare", "test.raw")
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("dmconf: error: test.raw: cannot write "), err
    assert "not permitted" in last or "denied" in last, err
    assert "Traceback" not in err and leftovers(env.folder("test.raw")) == []


def test_resource_keys_cannot_collide_with_dmconf_own_files(env, server):
    """A key named like dmconf's state file or lock must not share a lock with it."""
    import yaml

    write_settings(env)
    resources = {}
    for key in ("dmconf-state", "dmconf-state.json", "dmconf"):
        server.files[f"keys/{key}"] = key.encode() * 100
        resources[key] = {"url": server.url(f"keys/{key}"),
                          "sha256": sha256(key.encode() * 100)}
    env.define("test.keys", yaml.safe_dump({
        "resources": resources, "type": "generic",
        "data": {"state": {"type": "file", "path": "dmconf-state"}},
    }))
    proc = cli("prepare", "test.keys")
    _, err = proc.communicate(timeout=120)  # a shared lock would deadlock here
    assert proc.returncode == 0, err
    for key in resources:
        assert (env.folder("test.keys") / key).read_bytes() == key.encode() * 100
