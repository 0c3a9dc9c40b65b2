"""Versions and variants in the id: ``ID[@VERSION][:VARIANT]``, one grammar everywhere.

Datasets are served by the loopback server (``tests/versioned.py``); the canonical id leaves
defaults out, which the last tests check against identities computed before variants existed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import Env
from httpserver import FileServer
from versioned import CONTENT, VERSIONED_ID, versioned_definition

import dmconf
from dmconf.catalog import Catalog, Root, bundled_root
from dmconf.cli import main
from dmconf.definition import DatasetDefinition
from dmconf.errors import DefinitionError, InvalidReference
from dmconf.refs import DatasetRef, Semver, base_id, newest, parse_ref
from dmconf.store.layout import content_key


@pytest.fixture
def versioned(env: Env, server: FileServer) -> Env:
    env.define(VERSIONED_ID, versioned_definition(server))
    return env


# -- the grammar ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "parsed", "canonical"), [
    ("org.x.ds", ("org.x.ds", None, None), "org.x.ds"),
    ("org.x.ds@2", ("org.x.ds", "2", None), "org.x.ds@2"),
    ("org.x.ds@2.1", ("org.x.ds", "2.1", None), "org.x.ds@2.1"),
    ("org.x.ds@2.1.0-rc.1", ("org.x.ds", "2.1.0-rc.1", None), "org.x.ds@2.1.0-rc.1"),
    ("org.x.ds:small", ("org.x.ds", None, "small"), "org.x.ds:small"),
    ("org.x.ds+small", ("org.x.ds", None, "small"), "org.x.ds:small"),
    ("my-org.x_1.ds@0.10.3:tiny-2", ("my-org.x_1.ds", "0.10.3", "tiny-2"),
     "my-org.x_1.ds@0.10.3:tiny-2"),
])
def test_references_parse_and_print_back(text: str, parsed: tuple, canonical: str) -> None:
    ref = parse_ref(text)
    assert (ref.id, ref.version, ref.variant) == parsed
    assert str(ref) == canonical and parse_ref(str(ref)) == ref
    assert ":" not in ref.safe and parse_ref(ref.safe) == ref
    assert base_id(text) == parsed[0]


@pytest.mark.parametrize("text", [
    "org.x.ds@", "org.x.ds@2.", "org.x.ds@02", "org.x.ds@2.1.0.4", "org.x.ds@2.1-rc",
    "org.x.ds@v2", "org.x.ds:", "org.x.ds:a:b", "org.x.ds:sm all", "org.x.ds:.hidden",
    "@2", ":small", "org..x@2", "org.x.ds@2.1.0@3", "org/x@1",
])
def test_malformed_references_are_one_clear_error(text: str) -> None:
    with pytest.raises(InvalidReference) as info:
        parse_ref(text)
    assert str(info.value).startswith(text.strip()) and "\n" not in str(info.value)


def test_semver_precedence_is_semvers() -> None:
    # semver.org §11's example, shuffled
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
               "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"]
    shuffled = ordered[5:] + ordered[:5]
    assert sorted(shuffled, key=lambda v: Semver(v).key()) == ordered
    assert newest(ordered, "1") == "1.10.0"  # releases only
    assert newest(ordered, "1.0") == "1.0.1"
    assert newest(ordered, "1.0.0-beta.2") == "1.0.0-beta.2"
    assert newest(ordered, "3") is None
    with pytest.raises(ValueError, match="not a semantic version"):
        Semver("1.0")


def test_a_reference_is_a_validated_model() -> None:
    assert DatasetRef(id="org.x", variant="a").safe == "org.x+a"
    with pytest.raises(ValueError):
        DatasetRef(id="org x")


# -- choosing a version and variant ----------------------------------------------------------

@pytest.mark.parametrize(("reference", "canonical", "content"), [
    ("test.v", "test.v", "2.1.0"),
    ("test.v@2", "test.v", "2.1.0"),                  # newest 2.x is the default: left out
    ("test.v@2.1.0:full", "test.v", "2.1.0"),         # defaults spelled out: left out
    ("test.v@2.0", "test.v@2.0.0", "2.0.0"),
    ("test.v:small", "test.v:small", "small"),
    ("test.v+small", "test.v:small", "small"),
    ("test.v@2.0:small", "test.v@2.0.0:small", "small"),
    ("test.v@2.2.0-rc.1", "test.v@2.2.0-rc.1", "2.1.0"),
    ("test.v@1", "test.v@1.0.0", "2.1.0"),
])
def test_prepare_dataset_takes_every_form(
    versioned: Env, server: FileServer, reference: str, canonical: str, content: str
) -> None:
    typed = dmconf.prepare_dataset(reference)
    assert typed.path.read_bytes() == CONTENT[content]
    assert dmconf.find(reference).id == canonical
    assert dmconf.is_prepared(reference) and dmconf.is_prepared(canonical)
    # every version and variant lives under the id's folder; no folder name holds ':'
    assert typed.path.parent.parent == versioned.data / VERSIONED_ID
    assert not [p for p in versioned.data.rglob("*") if ":" in p.name]


def test_versions_and_variants_share_what_they_have_in_common(
    versioned: Env, server: FileServer
) -> None:
    full, small = dmconf.prepare_dataset("test.v"), dmconf.prepare_dataset("test.v:small")
    assert full.path.parent != small.path.parent  # other resources: another content folder
    dmconf.prepare_dataset("test.v@1")  # the same resources as the default: nothing fetched
    assert [r.path for r in server.log if r.method == "GET"] == \
        ["/v/2.1.0.txt", "/v/small.txt"]  # small's copy of text came from its sibling


def test_unknown_versions_and_variants_say_what_exists(versioned: Env) -> None:
    with pytest.raises(InvalidReference, match=r"no version matching @3 \(its versions: "
                       r"2\.2\.0-rc\.1, 2\.1\.0, 2\.0\.0, 1\.0\.0\)"):
        dmconf.find("test.v@3")
    with pytest.raises(InvalidReference, match=r"no variant 'smal'.*did you mean small"):
        dmconf.find("test.v:smal")
    with pytest.raises(dmconf.DatasetNotFound, match=r"did you mean test\.v"):
        dmconf.find("test.w:small")


def test_a_dataset_without_declarations_has_only_its_default(env: Env, server: FileServer) -> None:
    env.define("test.plain", "type: file\nversion: '2017'\nresources: {}\ndata: {path: x}\n")
    with pytest.raises(InvalidReference, match=r"declares no versions \(its version '2017' is "
                       "not a semantic version"):
        dmconf.find("test.plain@1")
    with pytest.raises(InvalidReference, match=r"no variant 'small' \(its variants: none\)"):
        dmconf.find("test.plain:small")
    env.define("test.one", "type: file\nversion: 1.2.3\nresources: {}\ndata: {path: x}\n")
    assert dmconf.find("test.one@1").id == "test.one"  # its one semantic version


@pytest.mark.parametrize(("change", "message"), [
    ({"version": "2.3.0"}, "version '2.3.0' .* must be one of versions"),
    ({"versions": {"2.1": {}}}, "'2.1' is not a semantic version"),
    ({"versions": {"2.1.0": {"data": {"path": "x"}}}}, "version 2.1.0 is the default"),
    ({"variants": {"full": {"type": "folder"}}}, "variant full is the default"),
    ({"variants": {"small": {"id": "test.w"}}}, "variant small changes id"),
    ({"variants": {"bad name": {}}}, "'bad name': a variant name is"),
    ({"variants": {"small": {"resources": {"subset": {"url": "x"}}}}},
     r"test.v:small is invalid: field resources.subset.url: 'x' is not a URL"),
])
def test_broken_declarations_fail_when_the_definition_is_read(
    versioned: Env, server: FileServer, change: dict, message: str
) -> None:
    raw = yaml.safe_load(versioned_definition(server))
    for key, value in change.items():
        raw[key] = {**raw[key], **value} if isinstance(value, dict) else value
    path = versioned.define(VERSIONED_ID, yaml.safe_dump(raw))
    with pytest.raises(DefinitionError, match=message) as info:
        dmconf.find(VERSIONED_ID)
    assert str(path) in str(info.value)


def test_a_selection_keeps_its_canonical_id_through_a_mapping(versioned: Env) -> None:
    chosen = dmconf.find("test.v@2.0:small")
    again = DatasetDefinition.from_mapping(chosen.model_dump(mode="json"))
    assert again.id == "test.v@2.0.0:small" and again.content_digest() == chosen.content_digest()
    assert again.dataset_id == VERSIONED_ID and not again.is_plain
    lying = {**chosen.model_dump(mode="json"), "variant": "full"}
    with pytest.raises(DefinitionError, match="names variant small, the fields hold variant full"):
        DatasetDefinition.from_mapping(lying)


def test_the_cli_takes_every_form(versioned: Env, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prepare", "test.v@2.0+small", "test.v"]) == 0
    out = capsys.readouterr().out
    assert out.count('"path"') == 2 and '"id": "test.v@2.0.0:small"' in out
    assert main(["info", "test.v@2.0:small", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "test.v@2.0.0:small"
    assert main(["info", "test.v"]) == 0
    shown = capsys.readouterr().out
    assert "versions:  2.2.0-rc.1, 2.1.0 (default), 2.0.0, 1.0.0" in shown
    assert "variants:  full (default), small" in shown
    assert main(["rm", "test.v:small"]) == 1
    assert "rm removes every version and variant of an id (they share its folder); name the " \
        "id alone: test.v" in capsys.readouterr().err
    assert main(["prepare", "test.v:tiny"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "dmconf: error: test.v:tiny: test.v has no variant 'tiny' (its variants: " \
        "full, small)"


# -- declaring versions and variants later changes no identity --------------------------------

# Computed with the code before versions and variants existed (branch issue-12-merged,
# 30a35fc): content digest, data folder key, experimaestro identifier of Dataset.C(id=...).
BEFORE = {
    "com.lecun.mnist": (
        "f77e86f148bb4456e1da68bf3956e7afb88a9f07d73180b7a1acfa76c1a26bc3", "a3b898f502c99541",
        "803ad02a9efc5f877b2a6ddd69aaa45e22f35070736ba9d1243499fdcdd08485"),
    "edu.toronto.cs.kriz.cifar10": (
        "1759afb335bde31d7aa58daacc3c1106724d78e641f120a8ea3971f6e0d0ff44", "a131fb5627d8588c",
        "f63ef95ac1f3930faffe64fe99ebe68342c8dfe1f3eab3b4fb0a3cb1690ef71a"),
    "com.github.zalandoresearch.fashion-mnist": (
        "19e07fb3439e836618e2203fef095741f3cb882460b9280c451c78514ebe37d0", "f291d2a6efb27fa1",
        "499abbd224905e54bb0695c395ff555f3c74d1fed83ad7e7aba3b59e4cb91487"),
}


def _with_declarations(raw: dict) -> dict:
    """A definition as its author might extend it: a version history and a variant axis."""
    version = raw.get("version")
    try:
        Semver(str(version))
    except ValueError:
        version = "1.0.0"
    return {
        **raw, "version": version, "variant": "default",
        "versions": {version: {"notes": "the current one"}, "0.1.0": {"notes": "older"}},
        "variants": {"default": {"notes": "as before"},
                     "tiny": {"notes": "a subset", "description": "fewer"}},
    }


def test_declaring_variants_changes_no_digest_or_folder_of_the_catalogue(env: Env) -> None:
    catalog = Catalog([Root(bundled_root(), "bundled catalogue")])
    checked = 0
    for dataset_id in catalog.ids():
        original = catalog.find(dataset_id)
        raw = yaml.safe_load(Path(original.source).read_text())
        declared = DatasetDefinition.from_mapping(_with_declarations(raw), dataset_id=dataset_id)
        version = declared.version
        for reference in (dataset_id, f"{dataset_id}@{version}", f"{dataset_id}:default",
                          f"{dataset_id}@{version}+default"):
            chosen = declared.select(reference)
            assert chosen.id == dataset_id, reference
            assert chosen.content_digest() == original.content_digest(), reference
            assert content_key(chosen) == content_key(original), reference
        assert declared.select(f"{dataset_id}:tiny").id == f"{dataset_id}:tiny"
        checked += 1
    assert checked == len(catalog.ids()) > 40


@pytest.mark.parametrize("dataset_id", sorted(BEFORE))
def test_identities_are_those_from_before_variants(
    env: Env, dataset_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dmconf.xpm import Dataset

    def identity(reference: str) -> tuple[str, str, str]:
        definition = dmconf.find(reference)
        xpm = Dataset.C(id=reference).__identifier__().all.hex()  # type: ignore[attr-defined]
        return definition.content_digest(), content_key(definition), xpm

    assert identity(dataset_id) == BEFORE[dataset_id]
    # the same dataset once its definition declares versions and a variant axis
    raw = yaml.safe_load(Path(dmconf.find(dataset_id).source).read_text())
    declared = _with_declarations(raw)
    env.define(dataset_id, yaml.safe_dump(declared))  # the user's root comes first
    assert dmconf.find(dataset_id).versions  # the declaring copy is the one used
    for reference in (dataset_id, f"{dataset_id}@{declared['version']}",
                      f"{dataset_id}:default"):
        assert identity(reference) == BEFORE[dataset_id], reference
    assert identity(f"{dataset_id}:tiny")[2] != BEFORE[dataset_id][2]


def test_experimaestro_stores_the_canonical_id(versioned: Env, server: FileServer) -> None:
    from dmconf.xpm import Dataset

    def ident(config: object) -> str:
        return config.__identifier__().all.hex()  # type: ignore[attr-defined]

    plain, spelled = Dataset.C(id="test.v"), Dataset.C(id="test.v@2.1.0:full")
    assert spelled.id == "test.v" and ident(spelled) == ident(plain)
    assert ident(Dataset.C(id="test.v@2")) == ident(plain)
    small = Dataset.C(id="test.v@2.0+small")
    assert small.id == "test.v@2.0.0:small" and ident(small) != ident(plain)
    assert small.load().path.read_bytes() == CONTENT["small"]
    with pytest.raises(InvalidReference, match="no version matching @9"):
        Dataset.C(id="test.v@9")


def test_a_variant_goes_through_a_remote_by_its_reference(
    versioned: Env, server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from remotes import other_machine

    store = tmp_path / "lab-store"
    assert main(["remote", "add", "lab", str(store)]) == 0
    assert main(["prepare", "test.v@2.0+small"]) == 0
    capsys.readouterr()
    assert main(["push", "test.v@2.0+small"]) == 0
    pushed = capsys.readouterr().out.strip()
    assert pushed.startswith("test.v@2.0+small@")
    assert not [p for p in store.rglob("*") if ":" in p.name]  # remote folders: the plain id
    other_machine(monkeypatch, tmp_path / "elsewhere")
    server.reset()
    assert main(["pull", pushed, "-r", "lab"]) == 0
    assert server.log == []  # all from the remote
    assert dmconf.prepare_dataset("test.v@2.0:small").path.read_bytes() == CONTENT["small"]
    assert server.log == []


def test_a_lock_file_records_and_prepares_the_canonical_id(
    versioned: Env, server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["lock", "test.v@2.0+small", "test.v@2.1"]) == 0
    locked = yaml.safe_load((tmp_path / "dmconf.lock").read_text())
    assert {"test.v@2.0.0:small", "test.v"} <= set(json.dumps(locked).replace('"', " ").split())
    assert main(["lock", "--check"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("DMCONF_DATA", str(tmp_path / "elsewhere"))
    assert main(["prepare", "--locked"]) == 0
    prepared = [json.loads(block) for block in
                capsys.readouterr().out.replace("}\n{", "}\n\n{").split("\n\n")]
    assert sorted(p["id"] for p in prepared) == ["test.v", "test.v@2.0.0:small"]
