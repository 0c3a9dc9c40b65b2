"""Remotes in a local folder: push, pull on a fresh data folder, corrupted and truncated blobs,
an interrupted push resumed, concurrent pushes, prepare falling back to a remote, licences."""

from __future__ import annotations

import json
import os
import stat

import pytest
import yaml
from httpserver import Fault
from remotes import TREE_ID, blobs, define_tree, other_machine, temporaries
from resources import cli, leftovers

from dmconf.cli import main
from dmconf.preparation import is_prepared
from dmconf.prepared import verify
from dmconf.settings import load_settings


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tree_env(env, server):
    define_tree(env, server)
    return env


@pytest.fixture
def lab(tmp_path, tree_env, capsys):
    """A folder remote named lab, declared through the CLI."""
    root = tmp_path / "lab-store"
    assert run(capsys, "remote", "add", "lab", str(root))[0] == 0
    return root


def prepared_tree(capsys):
    code, _, err = run(capsys, "prepare", TREE_ID)
    assert code == 0, err


def test_push_then_pull_on_a_fresh_data_folder(tree_env, lab, server, capsys, tmp_path,
                                               monkeypatch):
    prepared_tree(capsys)
    code, out, err = run(capsys, "push", TREE_ID)
    assert code == 0, err
    digest = out.strip().split("@")[1]
    # content-addressed: a.bin and b.bin share one blob; every file of the tree is one blob
    assert len(blobs(lab)) == 4  # a=b, c, run.sh, single
    assert (lab / "refs" / TREE_ID / "latest").read_text() == digest
    assert (lab / "manifests" / TREE_ID / f"{digest}.json").is_file()
    assert "0 of 4 blob(s) sent" in run(capsys, "push", TREE_ID)[2]  # nothing new to send

    fresh = other_machine(monkeypatch, tmp_path / "elsewhere")
    server.reset()
    code, out, err = run(capsys, "pull", TREE_ID, "-r", "lab")
    assert code == 0, err
    assert out.strip() == f"{TREE_ID}@{digest}"
    assert server.log == []  # nothing from the origin
    settings = load_settings()
    assert is_prepared(TREE_ID, settings=settings)
    assert verify(tree_env_definition(), settings) == {"archive": "ok", "single": "ok"}
    tree = tree_env.folder(TREE_ID) / "archive" / "tree"
    assert tree_env.folder(TREE_ID).is_relative_to(fresh)
    assert (tree / "images" / "a.bin").read_bytes() == b"A" * 70_000
    assert os.readlink(tree / "latest") == "images/c.bin"
    assert (tree / "empty").is_dir()
    assert os.stat(tree / "run.sh").st_mode & stat.S_IXUSR
    assert not os.stat(tree / "images" / "a.bin").st_mode & stat.S_IXUSR
    code, out, _ = run(capsys, "prepare", TREE_ID)  # prepared: no download
    assert code == 0 and server.log == []


def tree_env_definition():
    from dmconf.catalog import Catalog

    return Catalog.from_settings().find(TREE_ID)


def _pushed(capsys) -> str:
    prepared_tree(capsys)
    code, out, err = run(capsys, "push", TREE_ID, "-r", "lab")
    assert code == 0, err
    return out.strip().split("@")[1]


def _blob_of(lab, content: bytes):
    import hashlib

    sha = hashlib.sha256(content).hexdigest()
    return sha, lab / "blobs" / sha[:2] / sha


@pytest.mark.parametrize("damage", ["corrupt", "truncated", "longer"])
def test_a_damaged_blob_is_refused_naming_remote_blob_and_file(
        tree_env, lab, capsys, tmp_path, monkeypatch, damage):
    _pushed(capsys)
    content = bytes(range(256)) * 300
    sha, path = _blob_of(lab, content)
    damaged = {"corrupt": b"X" + content[1:], "truncated": content[:1000],
               "longer": content + b"!"}[damage]
    path.write_bytes(damaged)
    fresh = other_machine(monkeypatch, tmp_path / "elsewhere")
    code, _, err = run(capsys, "pull", TREE_ID, "-r", "lab")
    assert code == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith("dmconf: error: remote 'lab'")
    assert sha in line and f"{TREE_ID}/archive/tree/images/c.bin" in line
    assert ("truncated" if damage == "truncated" else "corrupt") in line
    assert not is_prepared(TREE_ID, settings=load_settings())
    folder = tree_env.folder(TREE_ID)
    assert folder.is_relative_to(fresh)
    assert not (folder / "archive").exists() and leftovers(folder) == []
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == []


def test_an_interrupted_push_resumes_with_what_is_missing(tree_env, lab, capsys, tmp_path,
                                                          monkeypatch):
    """A push that stops half-way (here: one blob cannot be written) leaves no manifest and
    no blob under a wrong name; the next push sends only the blobs still missing."""
    prepared_tree(capsys)
    sha, path = _blob_of(lab, bytes(range(256)) * 300)
    path.parent.parent.mkdir(parents=True)
    path.parent.write_bytes(b"in the way")  # blobs/xx/ cannot be created
    code, _, err = run(capsys, "push", TREE_ID, "-r", "lab")
    assert code == 1 and "remote 'lab'" in err and sha in err
    assert not (lab / "manifests").exists() and not (lab / "refs").exists()
    assert 0 < len(blobs(lab)) - 1 < 4  # some blobs made it (the obstacle is a file too)
    sent_before = len(blobs(lab)) - 1
    path.parent.unlink()
    code, _out, err = run(capsys, "push", TREE_ID, "-r", "lab")
    assert code == 0, err
    assert f"{4 - sent_before} of 4 blob(s) sent" in err
    assert temporaries(lab) == []
    other_machine(monkeypatch, tmp_path / "elsewhere")
    assert run(capsys, "pull", TREE_ID, "-r", "lab")[0] == 0


def test_a_killed_push_leaves_only_temporaries_that_are_never_taken_for_blobs(
        tree_env, lab, capsys, tmp_path, monkeypatch):
    """The state a push killed mid-blob leaves: a temporary beside its blob. The next push
    sends that blob again; pull never reads a temporary."""
    digest = _pushed(capsys)
    sha, path = _blob_of(lab, bytes(range(256)) * 300)
    path.rename(path.with_name(f"{sha}.tmp-0123456789abcdef"))
    (lab / "refs").rename(tmp_path / "old-refs")  # as if the push died before its refs
    other_machine(monkeypatch, tmp_path / "elsewhere")
    code, _, err = run(capsys, "pull", f"{TREE_ID}@{digest}", "-r", "lab")
    assert code == 1 and sha in err and "not found" in err
    monkeypatch.setenv("DMCONF_DATA", str(tree_env.data))
    code, _, err = run(capsys, "push", TREE_ID, "-r", "lab")
    assert code == 0 and "1 of 4 blob(s) sent" in err
    monkeypatch.setenv("DMCONF_DATA", str(tmp_path / "elsewhere"))
    assert run(capsys, "pull", TREE_ID, "-r", "lab")[0] == 0


def test_concurrent_pushes_of_one_dataset_leave_a_sound_remote(tree_env, lab, capsys,
                                                               tmp_path, monkeypatch):
    prepared_tree(capsys)
    pushes = [cli("push", TREE_ID, "-r", "lab") for _ in range(3)]
    results = [p.communicate(timeout=120) for p in pushes]
    assert [p.returncode for p in pushes] == [0, 0, 0], results
    assert len({out for out, _ in results}) == 1
    assert len(blobs(lab)) == 4 and temporaries(lab) == []
    other_machine(monkeypatch, tmp_path / "elsewhere")
    assert run(capsys, "pull", TREE_ID, "-r", "lab")[0] == 0
    assert verify(tree_env_definition(), load_settings())


def test_prepare_uses_the_remote_when_the_origin_answers_404(tree_env, lab, server, capsys,
                                                             tmp_path, monkeypatch):
    _pushed(capsys)
    settings = yaml.safe_load(tree_env.settings.read_text())
    tree_env.settings.write_text(yaml.safe_dump({**settings, "remotes": ["lab"]}))
    other_machine(monkeypatch, tmp_path / "elsewhere")
    for name in list(server.files):
        server.faults[name] = Fault(status=404)
    server.log.clear()
    code, out, err = run(capsys, "prepare", TREE_ID)
    assert code == 0, err
    assert json.loads(out)["path"].endswith("archive")
    assert "prepared from remote 'lab'" in err
    assert server.log == []  # the remote came first: the origin was not even asked


def test_prepare_falls_back_to_the_origin_when_no_remote_has_the_data(tree_env, lab, server,
                                                                      capsys):
    settings = yaml.safe_load(tree_env.settings.read_text())
    tree_env.settings.write_text(yaml.safe_dump({**settings, "remotes": ["lab"]}))
    code, _, err = run(capsys, "prepare", TREE_ID)
    assert code == 0, err
    assert len(server.log) == 2  # both resources from their URLs


def test_a_corrupt_remote_does_not_stop_prepare_from_the_origin(tree_env, lab, server, capsys,
                                                                tmp_path, monkeypatch):
    _pushed(capsys)
    for blob in blobs(lab):
        blob.write_bytes(b"garbage")
    settings = yaml.safe_load(tree_env.settings.read_text())
    tree_env.settings.write_text(yaml.safe_dump({**settings, "remotes": ["lab"]}))
    other_machine(monkeypatch, tmp_path / "elsewhere")
    server.log.clear()
    code, _, err = run(capsys, "prepare", TREE_ID)
    assert code == 0, err
    assert "corrupt" in err and "trying the next source" in err
    assert len(server.log) == 2


@pytest.mark.parametrize(("licence", "allowed"), [
    (None, False), ("LicenseRef-not-stated", False), ("LicenseRef-x AND MIT", False),
    ("CC-BY-4.0", True), ("cc0-1.0", True), ("LicenseRef-x OR MIT", True),
    ("GPL-2.0-only WITH Classpath-exception-2.0", True)])
def test_public_remotes_get_only_redistributable_data_without_force(
        env, server, capsys, tmp_path, licence, allowed):
    define_tree(env, server, **({"license": licence} if licence else {}))
    assert run(capsys, "remote", "add", "pub", str(tmp_path / "pub"), "--public")[0] == 0
    prepared_tree(capsys)
    code, _, err = run(capsys, "push", TREE_ID, "-r", "pub")
    if allowed:
        assert code == 0, err
    else:
        assert code == 1 and "is public" in err and "--force" in err
        assert not (tmp_path / "pub").exists()
        code, _, err = run(capsys, "push", TREE_ID, "-r", "pub", "--force")
        assert code == 0, err
    manifest = json.loads(next((tmp_path / "pub" / "manifests").rglob("*.json")).read_text())
    assert manifest.get("license") == licence


def test_remote_add_list_remove_edit_the_settings_file(env, capsys, tmp_path):
    assert run(capsys, "remote", "add", "lab", "s3://bucket/prefix", "--option",
               "endpoint_url=http://127.0.0.1:9", "--use")[0] == 0
    assert run(capsys, "remote", "add", "pub", str(tmp_path / "pub"), "--public")[0] == 0
    saved = yaml.safe_load(env.settings.read_text())
    assert saved["remote"]["lab"] == {"url": "s3://bucket/prefix",
                                      "options": {"endpoint_url": "http://127.0.0.1:9"}}
    assert saved["remotes"] == ["lab"]
    code, out, _ = run(capsys, "remote", "list")
    assert out.splitlines() == ["lab\ts3://bucket/prefix\t(prepare)",
                                f"pub\t{tmp_path / 'pub'}\t(public)"]
    assert run(capsys, "remote", "remove", "lab")[0] == 0
    assert yaml.safe_load(env.settings.read_text())["remotes"] == []
    code, _, err = run(capsys, "remote", "add", "bad", "ftp://host/x")
    assert code == 1 and "ftp://" in err
    code, _, err = run(capsys, "push", "test.x", "-r", "nosuch")
    assert code == 1 and "no remote named 'nosuch'" in err


def test_pull_from_a_read_only_web_server(tree_env, lab, server, capsys, tmp_path, monkeypatch):
    """A folder remote published by a web server is a read-only https remote."""
    digest = _pushed(capsys)
    for path in lab.rglob("*"):
        if path.is_file():
            server.files[f"store/{path.relative_to(lab).as_posix()}"] = path.read_bytes()
    web = server.url("store")
    other_machine(monkeypatch, tmp_path / "elsewhere")
    code, _out, err = run(capsys, "pull", f"{TREE_ID}@{digest}", "-r", web)
    assert code == 0, err
    assert is_prepared(TREE_ID, settings=load_settings())
    code, _, err = run(capsys, "push", TREE_ID, "-r", web)
    assert code == 1 and "read-only" in err


def test_pull_names_what_is_missing(tree_env, lab, capsys):
    _pushed(capsys)
    code, _, err = run(capsys, "pull", f"{TREE_ID}@{'0' * 64}", "-r", "lab")
    assert code == 1 and "has no manifest" in err
    code, _, err = run(capsys, "pull", "test.other", "-r", "lab")
    assert code == 1 and "has no data of test.other" in err


def test_hostile_refs_and_ids_never_become_paths(tree_env, lab, capsys, tmp_path, monkeypatch):
    _pushed(capsys)
    other_machine(monkeypatch, tmp_path / "elsewhere")
    tree_env.catalog.joinpath("test", "tree.yaml").unlink()  # pull by the latest ref
    for ref in (b"../../../../etc/passwd", b"\xff\xfe" * 40):
        (lab / "refs" / TREE_ID / "latest").write_bytes(ref)
        code, _, err = run(capsys, "pull", TREE_ID, "-r", "lab")
        assert code == 1 and "holds no digest" in err
    code, _, err = run(capsys, "pull", "../../etc", "-r", "lab")
    assert code == 1 and "is not a dataset id" in err
    code, _, err = run(capsys, "pull", f"{TREE_ID}@../x", "-r", "lab")
    assert code == 1 and "64 hexadecimal" in err


def test_remote_add_never_replaces_a_settings_path_that_is_not_a_file(env, capsys,
                                                                      monkeypatch):
    monkeypatch.setenv("DMCONF_SETTINGS", "/dev/null")
    code, _, err = run(capsys, "remote", "add", "lab", "/tmp/x")
    assert code == 1 and "not a regular file" in err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.slow
def test_a_push_killed_mid_blob_is_resumed(env, server, capsys, tmp_path, monkeypatch):
    """SIGKILL while a blob is being written: no blob exists under its name with partial bytes,
    no manifest is published, and running push again completes it."""
    import hashlib
    import signal
    import time

    from resources import serve_dataset

    data = os.urandom(64 << 20)
    serve_dataset(env, server, "test.big", data)
    assert run(capsys, "prepare", "test.big")[0] == 0
    lab = tmp_path / "lab"
    assert run(capsys, "remote", "add", "lab", str(lab))[0] == 0
    sha = hashlib.sha256(data).hexdigest()
    final = lab / "blobs" / sha[:2] / sha
    pushing = cli("push", "test.big", "-r", "lab")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and pushing.poll() is None and not temporaries(lab):
        time.sleep(0.001)
    assert pushing.poll() is None, "the push finished before it could be killed"
    assert temporaries(lab), "no temporary blob appeared within 60 s"
    os.kill(pushing.pid, signal.SIGKILL)
    pushing.communicate(timeout=30)
    assert not final.exists() or hashlib.sha256(final.read_bytes()).hexdigest() == sha
    assert not (lab / "manifests").exists()
    code, _, err = run(capsys, "push", "test.big", "-r", "lab")
    assert code == 0 and "1 of 1 blob(s) sent" in err
    other_machine(monkeypatch, tmp_path / "elsewhere")
    assert run(capsys, "pull", "test.big", "-r", "lab")[0] == 0


def test_a_link_planted_at_the_temporary_name_is_never_followed(tree_env, lab, capsys, tmp_path,
                                                                monkeypatch):
    """Another user of a shared data folder plants a link where this process will build."""
    from dmconf.fetch.download import temp_path

    _pushed(capsys)
    other_machine(monkeypatch, tmp_path / "elsewhere")
    folder = tree_env.folder(TREE_ID)
    folder.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, temp_path(folder, "archive", "unpack"))
    code, _, err = run(capsys, "pull", TREE_ID, "-r", "lab")
    assert code == 0, err
    assert list(outside.iterdir()) == []
    assert (folder / "archive" / "tree" / "run.sh").is_file()


def test_push_and_pull_show_progress_when_asked(tree_env, lab, capsys, tmp_path, monkeypatch):
    prepared_tree(capsys)
    settings = yaml.safe_load(tree_env.settings.read_text())
    tree_env.settings.write_text(yaml.safe_dump({**settings, "progress": True}))
    code, _, err = run(capsys, "push", TREE_ID, "-r", "lab")
    assert code == 0 and f"{TREE_ID} -> lab" in err and "/155k" in err
    other_machine(monkeypatch, tmp_path / "elsewhere")
    code, _, err = run(capsys, "pull", TREE_ID, "-r", "lab")
    assert code == 0 and f"lab -> {TREE_ID}" in err and "/223k" in err


def test_pull_replaces_a_stale_copy_and_a_planted_link_at_the_final_name(
        tree_env, lab, capsys, tmp_path, monkeypatch):
    _pushed(capsys)
    other_machine(monkeypatch, tmp_path / "elsewhere")
    assert run(capsys, "pull", TREE_ID, "-r", "lab")[0] == 0
    folder = tree_env.folder(TREE_ID)
    state_path = folder / ".dmconf-state.json"
    state = json.loads(state_path.read_text())
    state["digest"] = None
    state["resources"]["archive"]["materialised"] = "0" * 64  # as if another version's
    state["resources"].pop("single")
    state_path.write_text(json.dumps(state))
    (folder / "archive" / "tree" / "run.sh").write_text("changed")
    outside = tmp_path / "outside.txt"
    outside.write_text("not dmconf's")
    (folder / "single").unlink()
    os.symlink(outside, folder / "single")
    code, _, err = run(capsys, "pull", TREE_ID, "-r", "lab")
    assert code == 0, err
    assert outside.read_text() == "not dmconf's"
    assert not (folder / "single").is_symlink()
    assert verify(tree_env_definition(), load_settings()) == {"archive": "ok", "single": "ok"}
    assert (folder / "archive" / "tree" / "run.sh").read_text() == "#!/bin/sh\necho run\n"
