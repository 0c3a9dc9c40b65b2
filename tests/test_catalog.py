"""The catalogue: bundled MNIST, extra roots, search, duplicates, and laziness."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dmconf.catalog import USER, Catalog, Entry, IndexedEntry, Root, bundled_root
from dmconf.data.registry import build, resolve_type
from dmconf.errors import DatasetNotFound

# Published sha256 of the four MNIST files (TensorFlow Datasets, url_checksums/mnist.txt).
MNIST_SHA256 = {
    "train_images": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train_labels": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "test_images": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "test_labels": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_SIZES = {"train_images": 9912422, "train_labels": 28881, "test_images": 1648877,
               "test_labels": 4542}


def test_bundled_mnist_has_the_published_checksums(env):
    definition = Catalog.from_settings().find("com.lecun.mnist")
    assert {k: r.sha256 for k, r in definition.resources.items()} == MNIST_SHA256
    assert {k: r.size for k, r in definition.resources.items()} == MNIST_SIZES
    assert all(r.unpack == "gunzip" and r.mirrors for r in definition.resources.values())
    assert definition.resources["train_images"].url == (
        "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz"
    )


def test_every_bundled_definition_is_valid_and_builds(env, tmp_path):
    catalog = Catalog.from_settings()
    bundled = [e for e in catalog.entries.values() if e.path.is_relative_to(bundled_root())]
    assert bundled, "the bundled catalogue is empty"
    for entry in bundled:
        definition = entry.definition()
        assert all(r.sha256 for r in definition.resources.values()), f"{entry.id} lacks sha256"
        obj = build(definition.data, resolve_type(definition.type), tmp_path, id=definition.id)
        assert obj.id == definition.id  # type: ignore[attr-defined]


def test_search_by_words_tags_and_tasks(env):
    catalog = Catalog.from_settings()
    assert "com.lecun.mnist" in catalog.search("mnist")
    assert "com.lecun.mnist" in catalog.search("handwritten DIGITS")
    assert "com.lecun.mnist" in catalog.search("tag:image")
    assert "com.lecun.mnist" in catalog.search("", tags=["image"], tasks=["image-classification"])
    assert catalog.search("mnist", tags=["audio"]) == []
    assert catalog.search("no-such-word-anywhere") == []


def test_extra_roots_come_first_and_list_sorted(env):
    env.define("org.example.b", "type: file\n")
    env.define("org.example.a", "type: file\n")
    catalog = Catalog.from_settings()
    assert catalog.roots[0].path == env.catalog
    ids = catalog.ids()
    assert ids == sorted(ids)
    assert {"org.example.a", "org.example.b", "com.lecun.mnist"} <= set(ids)


def test_one_id_twice_uses_the_first_root_and_warns_once_naming_both(
    env, tmp_path, monkeypatch, caplog
):
    other = tmp_path / "second"
    first = env.define("org.example.twice", "type: file\n")
    second = other / "org" / "example" / "twice.yml"
    second.parent.mkdir(parents=True)
    second.write_text("type: generic\n")
    monkeypatch.setenv("DMCONF_CATALOG", f"{env.catalog}:{other}")
    catalog = Catalog.from_settings()
    assert catalog.ids().count("org.example.twice") == 1
    assert catalog.find("org.example.twice").type == "file"
    warnings = [r.getMessage() for r in caplog.records if "several places" in r.getMessage()]
    assert len(warnings) == 1 and str(first) in warnings[0] and str(second) in warnings[0]
    catalog.find("org.example.twice")  # no second warning from the same catalogue
    assert len([r for r in caplog.records if "several places" in r.getMessage()]) == 1
    assert [e.path for e in catalog.places("org.example.twice")] == [first, second]


def test_a_user_root_wins_over_the_bundled_mnist_and_info_lists_both(env, capsys):
    from dmconf.cli import main

    mine = env.define("com.lecun.mnist", "name: mine\ntype: file\n")
    assert Catalog.from_settings().find("com.lecun.mnist").name == "mine"
    assert main(["info", "com.lecun.mnist"]) == 0
    out = capsys.readouterr().out
    assert f"defined:   {mine}" in out
    assert f"hides:     {bundled_root() / 'com' / 'lecun' / 'mnist.yaml'}" in out


def test_unknown_ids_suggest_close_ones(env):
    with pytest.raises(DatasetNotFound) as info:
        Catalog.from_settings().find("com.lecun.mnsit")
    assert info.value.suggestions == ["com.lecun.mnist"]
    assert "did you mean com.lecun.mnist" in str(info.value)
    assert isinstance(info.value, KeyError)
    with pytest.raises(DatasetNotFound) as info:
        Catalog.from_settings().find("org.nothing.mnist")
    assert "com.lecun.mnist" in info.value.suggestions


def test_listing_reads_no_yaml_and_search_reads_only_metadata(env):
    # A file that is not even YAML: listing must not notice; finding it must say so.
    env.define("org.example.garbage", "{{{{ not yaml")
    catalog = Catalog.from_settings()
    assert "org.example.garbage" in catalog.ids()
    assert "com.lecun.mnist" in catalog.search("")


def test_hidden_and_private_files_are_not_datasets(env):
    env.define("org.example.ok", "type: file\n")
    (env.catalog / "org" / "example" / ".hidden.yaml").write_text("type: file\n")
    (env.catalog / "org" / "_private").mkdir()
    (env.catalog / "org" / "_private" / "x.yaml").write_text("type: file\n")
    (env.catalog / "org" / "example" / "notes.txt").write_text("not a definition")
    ids = Catalog.from_settings().ids()
    assert "org.example.ok" in ids
    assert not [i for i in ids if "hidden" in i or "_private" in i or "notes" in i]


def test_bundled_root_is_the_checkout_or_the_package():
    root = bundled_root()
    assert (root / "com" / "lecun" / "mnist.yaml").is_file()
    assert root.name == "datasets"
    assert Path(root).is_absolute()


def test_roots_and_entries_compare_and_show_as_the_dataclasses_they_were():
    """dmconf/record.py writes out what @dataclass made for them (Root was frozen)."""
    root = Root(Path("/r"), "user", USER)
    assert root == Root(Path("/r"), "user", USER) and root != Root(Path("/r"), "other", USER)
    assert hash(root) == hash(Root(Path("/r"), "user", USER))
    assert repr(root) == "Root(path=PosixPath('/r'), origin='user', rank=0)"
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'rank'"):
        root.rank = 1  # type: ignore[misc]
    entry = IndexedEntry("org.a.b", Path("/r/org/a/b.yaml"), "user", index=None, rel="org/a/b.yaml")
    assert repr(entry) == ("IndexedEntry(id='org.a.b', path=PosixPath('/r/org/a/b.yaml'), "
                           "origin='user', rel='org/a/b.yaml')")
    assert entry == IndexedEntry("org.a.b", Path("/r/org/a/b.yaml"), "user", rel="org/a/b.yaml")
    assert entry != IndexedEntry("org.a.b", Path("/r/org/a/b.yaml"), "user", {}, rel="org/a/b.yaml")
    assert entry != Entry("org.a.b", Path("/r/org/a/b.yaml"), "user")  # another class
    with pytest.raises(TypeError, match="unhashable"):
        hash(entry)
