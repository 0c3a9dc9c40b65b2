"""Manifests of prepared datasets, and a data folder that keeps working once moved."""

from __future__ import annotations

import json
import shutil

import pytest
from remotes import TREE_ID, define_tree

from dmconf import find, prepare
from dmconf.errors import DefinitionError
from dmconf.prepared import verify
from dmconf.settings import load_settings
from dmconf.store.manifest import MANIFEST_FILE, Manifest, manifest_of


@pytest.fixture
def tree_env(env, server):
    define_tree(env, server, license="CC-BY-4.0")
    return env


def test_the_manifest_lists_every_entry_with_relative_path_size_sha256_mode(tree_env):
    prepare(TREE_ID)
    definition = find(TREE_ID)
    folder = tree_env.folder(TREE_ID)
    manifest = manifest_of(definition, folder)
    by_path = {e.path: e for e in manifest.files}
    assert set(by_path) == {
        "archive", "archive/tree", "archive/tree/images", "archive/tree/images/a.bin",
        "archive/tree/images/b.bin", "archive/tree/images/c.bin", "archive/tree/empty",
        "archive/tree/run.sh", "archive/tree/latest", "single"}
    assert by_path["archive/tree/images/a.bin"].size == 70_000
    images = "archive/tree/images"
    assert by_path[f"{images}/a.bin"].sha256 == by_path[f"{images}/b.bin"].sha256
    assert by_path["archive/tree/run.sh"].mode == "755"
    assert by_path["single"].mode == "644" and by_path["archive/tree/empty"].kind == "dir"
    assert by_path["archive/tree/latest"].target == "images/c.bin"
    assert manifest.definition == definition.content_digest()
    assert manifest.license == "CC-BY-4.0"
    # written once beside the state, then reused without hashing
    cached = folder / MANIFEST_FILE
    assert json.loads(cached.read_text())["definition"] == definition.content_digest()
    before = cached.stat().st_mtime_ns
    assert manifest_of(definition, folder).digest() == manifest.digest()
    assert cached.stat().st_mtime_ns == before


def test_the_digest_ignores_where_the_data_folder_is_and_the_definitions_urls(
        tree_env, server, tmp_path, monkeypatch):
    prepare(TREE_ID)
    digest = manifest_of(find(TREE_ID), tree_env.folder(TREE_ID)).digest()
    # nothing dmconf writes in the data folder names the data folder
    for path in tree_env.data.rglob("*"):
        if path.is_file() and path.name.startswith("."):
            assert str(tree_env.data) not in path.read_text(errors="replace"), path
    # the same data prepared elsewhere, from a definition with another URL, has the same digest
    monkeypatch.setenv("DMCONF_DATA", str(tmp_path / "other"))
    server.files["moved/tree.tar.gz"] = server.files[f"{TREE_ID}/tree.tar.gz"]
    text = tree_env.catalog.joinpath("test", "tree.yaml").read_text()
    tree_env.catalog.joinpath("test", "tree.yaml").write_text(
        text.replace(f"{TREE_ID}/tree.tar.gz", "moved/tree.tar.gz"))
    prepare(TREE_ID)
    assert manifest_of(find(TREE_ID), tree_env.folder(TREE_ID)).digest() == digest


def test_a_moved_data_folder_stays_prepared(tree_env, server, tmp_path, monkeypatch):
    prepare(TREE_ID)
    digest = manifest_of(find(TREE_ID), tree_env.folder(TREE_ID)).digest()
    moved = tmp_path / "mounted" / "elsewhere"
    moved.parent.mkdir()
    shutil.move(str(tree_env.data), str(moved))
    monkeypatch.setenv("DMCONF_DATA", str(moved))
    server.log.clear()
    typed = prepare(TREE_ID)
    assert server.log == []  # nothing downloaded again
    assert str(typed.path).startswith(str(moved))  # type: ignore[attr-defined]
    assert verify(find(TREE_ID), load_settings()) == {"archive": "ok", "single": "ok"}
    assert manifest_of(find(TREE_ID), tree_env.folder(TREE_ID)).digest() == digest


RECORD = {"sha256": "a" * 64, "materialised": "b" * 64, "unpack": "none"}


@pytest.mark.parametrize(("entry", "why"), [
    ({"path": "../escape", "size": 1, "sha256": "a" * 64}, "without '.', '..'"),
    ({"path": "payload/../../x", "size": 1, "sha256": "a" * 64}, "without '.', '..'"),
    ({"path": "/etc/passwd", "size": 1, "sha256": "a" * 64}, "relative"),
    ({"path": ".dmconf-state.json", "size": 1, "sha256": "a" * 64}, "below a resource"),
    ({"path": "other/x", "size": 1, "sha256": "a" * 64}, "under no resource"),
    ({"path": "payload/x", "kind": "link", "target": "../../outside"}, "inside its resource"),
    ({"path": "payload/x", "kind": "link", "target": "/etc"}, "inside its resource"),
    ({"path": "payload/x", "size": 1}, "size and sha256"),
    ({"path": "payload/x", "size": 1, "sha256": "a" * 64, "mode": "4755"}, "mode"),
])
def test_hostile_manifests_are_refused(entry, why):
    manifest = {"id": "x.y", "definition": "d" * 64, "resources": {"payload": RECORD},
                "files": [{"path": "payload", "kind": "dir"}, entry]}
    with pytest.raises(DefinitionError, match="not a valid dmconf manifest") as caught:
        Manifest.parse(json.dumps(manifest).encode(), "remote 'lab'")
    assert why in str(caught.value) and "remote 'lab'" in str(caught.value)


def test_a_manifest_listing_a_path_twice_is_refused():
    entry = {"path": "payload", "size": 1, "sha256": "a" * 64}
    manifest = {"id": "x.y", "definition": "d" * 64, "resources": {"payload": RECORD},
                "files": [entry, entry]}
    with pytest.raises(DefinitionError, match="listed twice"):
        Manifest.parse(json.dumps(manifest).encode(), "remote 'lab'")


@pytest.mark.parametrize("record", [{}, {**RECORD, "sha256": "../x"}, {**RECORD, "extra": "1"}])
def test_a_manifest_with_a_malformed_resource_record_is_refused(record):
    manifest = {"id": "x.y", "definition": "d" * 64, "resources": {"payload": record},
                "files": [{"path": "payload", "size": 1, "sha256": "a" * 64}]}
    with pytest.raises(DefinitionError, match=r"field resources\.payload"):
        Manifest.parse(json.dumps(manifest).encode(), "remote 'lab'")


def test_a_state_file_of_an_older_dmconf_gives_the_same_manifest(tree_env):
    """States written before dmconf recorded `unpack` or the materialised digest: the manifest
    (and so its digest, which lock files name) is the same."""
    prepare(TREE_ID)
    definition = find(TREE_ID)
    folder = tree_env.folder(TREE_ID)
    digest = manifest_of(definition, folder).digest()
    state = json.loads((folder / ".dmconf-state.json").read_text())
    for record in state["resources"].values():
        record.pop("unpack", None)
        record.pop("materialised", None)
    (folder / ".dmconf-state.json").write_text(json.dumps(state))
    (folder / MANIFEST_FILE).unlink()
    assert manifest_of(definition, folder).digest() == digest
