"""Definitions: the YAML contract, and errors that name the file, the field and the fix."""

from __future__ import annotations

import pytest

from dmconf.catalog import Catalog
from dmconf.definition import DatasetDefinition
from dmconf.errors import DefinitionError

GOOD = """\
name: Tiny
resources:
  table: {url: "http://127.0.0.1:1/t.csv", sha256: %s}
type: csv
data: {path: table}
""" % ("ab" * 32)


def test_id_comes_from_the_file_place(env):
    env.define("org.example.tiny", GOOD)
    definition = Catalog.from_settings().find("org.example.tiny")
    assert definition.id == "org.example.tiny"
    assert definition.source.endswith("org/example/tiny.yaml")
    assert definition.resources["table"].unpack == "none"


def test_an_id_field_must_match_the_place(env):
    path = env.define("org.example.tiny", "id: org.example.other\n" + GOOD)
    with pytest.raises(DefinitionError) as info:
        Catalog.from_settings().find("org.example.tiny")
    message = str(info.value)
    assert str(path) in message and "field id" in message
    assert "org.example.other" in message and "org.example.tiny" in message


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (("sha256: " + "ab" * 32, "sha256: 1234"), "resources.table.sha256", "64 hexadecimal"),
        (("sha256: " + "ab" * 32, "sha256: " + "ab" * 32 + ", md5: 12"), "resources.table.md5",
         "32 hexadecimal"),
        (("type: csv", "type: csv\ncolour: blue"), "colour", "unknown field"),
        (("{url:", "{unpack: gunzipp, url:"), "resources.table.unpack", "gunzip"),
        (('"http://127.0.0.1:1/t.csv"', "t.csv"), "resources.table.url", "not a URL"),
        (("type: csv\n", ""), "type", "required"),
        (("table: {", "../table: {"), "resources", "plain file name"),
    ],
)
def test_bad_fields_are_named(env, change, field, says):
    old, new = change
    assert old in GOOD
    path = env.define("org.example.bad", GOOD.replace(old, new, 1))
    with pytest.raises(DefinitionError) as info:
        Catalog.from_settings().find("org.example.bad")
    message = str(info.value)
    assert str(path) in message
    assert f"field {field}" in message
    assert says in message
    assert "\n" not in message, "one line, not pydantic's multi-line dump"


def test_invalid_yaml_names_the_file(env):
    path = env.define("org.example.broken", "name: [unclosed\n")
    with pytest.raises(DefinitionError, match="not valid YAML") as info:
        Catalog.from_settings().find("org.example.broken")
    assert str(path) in str(info.value)


def test_a_definition_that_is_not_a_mapping(env):
    env.define("org.example.list", "- a\n- b\n")
    with pytest.raises(DefinitionError, match="expected a mapping"):
        Catalog.from_settings().find("org.example.list")


def test_content_digest_ignores_urls_mirrors_and_descriptions():
    base = {
        "id": "org.example.d",
        "type": "file",
        "data": {"path": "f"},
        "resources": {"f": {"url": "http://a/f", "sha256": "ab" * 32}},
    }
    moved = {
        **base,
        "description": "other words",
        "resources": {"f": {"url": "http://b/f", "mirrors": ["http://c/f"], "sha256": "ab" * 32}},
    }
    changed = {**base, "resources": {"f": {"url": "http://a/f", "sha256": "cd" * 32}}}
    digest = DatasetDefinition.from_mapping(base).content_digest()
    assert DatasetDefinition.from_mapping(moved).content_digest() == digest
    assert DatasetDefinition.from_mapping(changed).content_digest() != digest


CITATION = "@article{lecun1998,\n  title = {Gradient-based learning},\n  year = {1998}\n}"


def test_metadata_fields_are_validated():
    definition = DatasetDefinition.from_mapping({
        "url": "http://example.org/", "license": "CC-BY-SA-4.0 OR MIT", "citation": CITATION,
        "version": "1.0", "splits": {"train": 60000, "test": 10000}, "type": "file",
        "resources": {"a": {"url": "http://x/a", "size": 10, "unpack": "gunzip"},
                      "b": {"url": "http://x/b", "size": 5}},
        "data": {"path": "a"},
    }, dataset_id="org.example.d")
    assert definition.homepage == definition.url == "http://example.org/"
    assert definition.download_size == 15 and definition.disk_size is None
    assert "homepage: http://example.org/" in definition.to_yaml()
    for field, value, says in [
        ("license", "CC BY 4.0", "not an SPDX licence expression"),
        ("citation", "Yann LeCun, 1998", "expected one BibTeX entry"),
        ("citation", "@misc{x, title={open}", "expected one BibTeX entry"),
        ("splits", {"train": -1}, "greater than or equal to 0"),
    ]:
        with pytest.raises(DefinitionError, match=f"field {field}.*{says}"):
            DatasetDefinition.from_mapping({"type": "file", field: value}, dataset_id="a.b")
    with pytest.raises(DefinitionError, match="`url` and `homepage` both given"):
        DatasetDefinition.from_mapping({"type": "file", "url": "http://a/", "homepage":
                                        "http://b/"}, dataset_id="a.b")


def test_sizes_when_nothing_is_unpacked_or_unknown():
    plain = DatasetDefinition.from_mapping(
        {"type": "file", "resources": {"a": {"url": "http://x/a", "size": 3}}}, dataset_id="a.b")
    assert plain.download_size == plain.disk_size == 3
    unknown = DatasetDefinition.from_mapping(
        {"type": "file", "resources": {"a": {"url": "http://x/a"}}}, dataset_id="a.b")
    assert unknown.download_size is None and unknown.disk_size is None
    stated = DatasetDefinition.from_mapping(
        {"type": "file", "prepared_size": 99, "resources": {"a": {"url": "http://x/a", "size": 3,
         "unpack": "untar"}}}, dataset_id="a.b")
    assert stated.disk_size == 99
