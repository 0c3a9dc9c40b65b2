"""Plugin catalogue roots: a distribution on sys.path with a `dmconf.catalogs` entry point.

The distribution is real (a dist-info folder next to its package, as pip writes it), so the
standard importlib.metadata discovery finds it; nothing in dmconf is patched.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import dmconf
from dmconf.catalog import Catalog


def install_fake_distribution(site: Path, name: str, entry_points: str,
                              distribution: str | None = None) -> None:
    """A ``NAME-1.0.dist-info`` in ``site``: the distribution ``distribution`` (default NAME)
    with these entry points."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution or name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_a_plugin_package_adds_its_definitions(env, site):
    package = site / "lab_datasets"
    (package / "org" / "lab").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('dataset code must not run')\n")
    (package / "org" / "lab" / "corpus.yaml").write_text(
        "name: Lab corpus\ntags: [text]\ntype: file\ndata: {path: c}\n"
    )
    install_fake_distribution(site, "lab_datasets",
                              "[dmconf.catalogs]\nlab = lab_datasets\n")
    catalog = Catalog.from_settings()
    assert any(r.origin == "plugin lab_datasets" for r in catalog.roots)
    assert "org.lab.corpus" in catalog.ids()
    assert dmconf.search("org.lab corpus", tags=["text"]) == ["org.lab.corpus"]
    assert dmconf.find("org.lab.corpus").name == "Lab corpus"


def test_a_plugin_clashing_with_a_root_loses_to_it_and_both_are_named(env, site, caplog):
    package = site / "clash_pkg"
    (package / "org" / "example").mkdir(parents=True)
    (package / "org" / "example" / "x.yaml").write_text("type: generic\n")
    (package / "com" / "lecun").mkdir(parents=True)
    (package / "com" / "lecun" / "mnist.yaml").write_text("name: plugin's\ntype: generic\n")
    install_fake_distribution(site, "clash_pkg", "[dmconf.catalogs]\nclash = clash_pkg\n")
    mine = env.define("org.example.x", "type: file\n")
    assert dmconf.list_ids().count("org.example.x") == 1
    assert dmconf.find("org.example.x").type == "file"  # the user's root first
    assert dmconf.find("com.lecun.mnist").name == "plugin's"  # then plugins, then the bundled
    [message] = [r.getMessage() for r in caplog.records if "org.example.x is" in r.getMessage()]
    assert str(mine) in message and str(package / "org" / "example" / "x.yaml") in message


def test_a_broken_plugin_entry_point_is_named_and_skipped(env, site, caplog):
    """One broken plugin never stops the listing of the rest (issue 9, class 6)."""
    install_fake_distribution(site, "broken_plugin",
                              "[dmconf.catalogs]\nbroken = not_installed_anywhere\n")
    with caplog.at_level("WARNING", logger="dmconf"):
        assert "com.lecun.mnist" in dmconf.list_ids()
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1
    assert re.search(r"skipped: .*broken.*not_installed_anywhere.*reinstall", warned[0])
