"""The data layout: one folder per id, one subfolder per content; ids never share or nest;
``rm`` removes exactly one id under the lock ``prepare`` shares; the first layout is adopted."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
import yaml
from httpserver import Fault
from resources import cli, serve_dataset, sha256, write_settings

import dmconf
from dmconf.cli import main
from dmconf.errors import NotPrepared
from dmconf.settings import load_settings
from dmconf.store.layout import content_key

A, B = os.urandom(5000), os.urandom(6000)


def test_a_dataset_and_an_id_below_it_never_share_a_folder(env, server):
    # org.a has a resource b; org.a.b is another dataset: in the first layout they collided.
    write_settings(env)
    serve_dataset(env, server, "org.a.b", B)
    server.files["a/b.bin"] = A
    env.define("org.a", yaml.safe_dump({
        "resources": {"b": {"url": server.url("a/b.bin"), "sha256": sha256(A)}},
        "type": "file", "data": {"path": "b"}}))
    assert dmconf.prepare("org.a.b").path.read_bytes() == B
    assert dmconf.prepare("org.a").path.read_bytes() == A
    assert dmconf.prepare("org.a.b").path.read_bytes() == B  # untouched by org.a
    assert sorted(p.name for p in env.data.iterdir()) == [".locks", "org.a", "org.a.b"]
    assert main(["rm", "org.a"]) == 0
    assert dmconf.is_prepared("org.a.b") and not dmconf.is_prepared("org.a")


def test_rm_refuses_an_id_that_is_only_a_prefix(env, server, capsys):
    write_settings(env)
    serve_dataset(env, server, "org.a", A)
    dmconf.prepare("org.a")
    before = sorted(str(p) for p in env.data.rglob("*"))
    assert main(["rm", "org"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "org has no data" in err[0] and "org.a" in err[0]
    assert sorted(str(p) for p in env.data.rglob("*")) == before


def test_two_definitions_of_one_id_live_side_by_side(env, server):
    """Alternating between a catalogue definition and a local variant downloads nothing again."""
    write_settings(env)
    serve_dataset(env, server, "test.v", A)
    first = dmconf.find("test.v")
    server.files["v2.bin"] = B
    second = first.model_copy(deep=True)
    second.resources["payload"].url = server.url("v2.bin")
    second.resources["payload"].sha256 = sha256(B)
    settings = load_settings()
    assert settings.dataset_folder(first) != settings.dataset_folder(second)
    for _ in range(3):
        assert dmconf.prepare(first).path.read_bytes() == A
        assert dmconf.prepare(second).path.read_bytes() == B
    assert len(server.requests_for("test.v/payload.bin")) == 1
    assert len(server.requests_for("v2.bin")) == 1
    # editing what is not content keeps the folder
    moved = first.model_copy(deep=True)
    moved.description, moved.resources["payload"].mirrors = "new words", ["http://x.invalid/p"]
    assert content_key(moved) == content_key(first)
    assert main(["rm", "test.v"]) == 0  # every content version
    assert not (env.data / "test.v").exists()


def test_the_first_layout_is_adopted_without_downloading(env, server, caplog):
    write_settings(env)
    serve_dataset(env, server, "com.example.old", A)
    legacy = env.data / "com" / "example" / "old"
    legacy.mkdir(parents=True)
    (legacy / "payload").write_bytes(A)
    (legacy / ".payload.lock").write_text("")
    (legacy / ".dmconf-state.json").write_text(json.dumps(
        {"digest": None, "resources": {"payload": sha256(A)}}))
    nested = legacy / "deeper"  # com.example.old.deeper, nested in the first layout
    nested.mkdir()
    (nested / ".dmconf-state.json").write_text(json.dumps({"digest": None, "resources": {}}))
    stranger = env.data / "com" / "example" / "notdmconf"
    stranger.mkdir()  # no state file: never touched
    (stranger / "payload").write_bytes(b"mine")
    with caplog.at_level("INFO", logger="dmconf"):
        assert dmconf.prepare("com.example.old").path.read_bytes() == A
    assert server.requests_for("com.example.old/payload.bin") == []
    assert any("adopting" in r.getMessage() for r in caplog.records)
    assert sorted(p.name for p in legacy.iterdir()) == ["deeper"]
    assert (stranger / "payload").read_bytes() == b"mine"
    assert (env.data / "com.example.old").is_dir()
    ids = [row["id"] for row in _du()]
    assert ids == ["com.example.old", "com.example.old.deeper"]
    assert main(["rm", "com.example.old.deeper"]) == 0
    assert not legacy.exists() and (stranger / "payload").exists()


def _du() -> list[dict[str, object]]:
    proc = cli("du", "--json")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_rm_waits_for_prepare_and_prepare_after_rm_succeeds(env, server, tmp_path):
    """prepare racing rm: each either succeeds with every path present or fails clearly."""
    write_settings(env)
    name = serve_dataset(env, server, "test.race", A * 100)
    gate = threading.Event()
    server.faults[name] = Fault(stall_after=1000, gate=gate, stall=60, times=1)
    preparing = cli("prepare", "test.race")
    try:
        _wait(lambda: server.requests_for(name))
        removing = cli("rm", "test.race")
        with pytest.raises(Exception, match="timed out"):
            removing.communicate(timeout=1)  # waits on the id's lock
    finally:
        gate.set()
    out, err = preparing.communicate(timeout=60)
    assert preparing.returncode == 0, err
    path = Path(json.loads(out)["path"])
    _, err = removing.communicate(timeout=60)
    assert removing.returncode == 0, err
    assert not path.exists()  # rm ran after prepare, not in the middle of it
    assert dmconf.prepare("test.race").path.read_bytes() == A * 100


def test_rm_of_nothing_and_of_a_bad_id(env):
    with pytest.raises(NotPrepared, match="nothing to remove"):
        _rm("org.none")


def _rm(dataset_id: str) -> None:
    from dmconf.prepared import remove

    remove(dataset_id, load_settings())


def _wait(condition, timeout: float = 30) -> None:
    import time

    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.05)
