"""A resource's ``lines`` steps (datamaestro's Replace and Filter): validation and preparing."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
from resources import leftovers, serve_dataset, write_settings

import dmconf
from dmconf.cli import main
from dmconf.definition import DatasetDefinition
from dmconf.errors import DefinitionError, UnpackError
from dmconf.store.layout import content_key
from dmconf.unpack.base import Copy
from dmconf.unpack.lines import MAX_PATTERN, Lines, LineStep

TOPICS = b"<num> Number: 051\n# a comment\n<title> Topic: Airbus\n\n<num> Number: 052\n"
STEPS = [{"replace": r"Number:(\s+)0", "by": r"Number: \1"}, {"drop": "^#"}]


def _define(lines: object, unpack: str = "none") -> DatasetDefinition:
    return DatasetDefinition.from_mapping({"resources": {"topics.sgml": {
        "url": "https://example.org/t.gz", "unpack": unpack, "lines": lines}}, "type": "file"},
        dataset_id="org.example.topics")


@pytest.mark.parametrize("lines, said", [
    ([{"keep": "(unclosed"}], r"lines\.0: .*`keep`: invalid regular expression '\(unclosed'"),
    ([{"replace": "(a)", "by": r"\2"}],
     r"lines\.0: `by`: invalid replacement '\\\\2': invalid group"),
    ([{"keep": "a" * (MAX_PATTERN + 1)}], rf"lines\.0\.keep: .*at most {MAX_PATTERN} char"),
    ([{"keep": "a", "drop": "b"}], "exactly one of `replace` .* \\(got keep, drop\\)"),
    ([{"replace": "a"}], "`by` goes with `replace`"),
    ([{"keep": "a", "by": "b"}], "`by` goes with `replace`"),
    ([{"grep": "a"}], r"lines\.0\.grep: unknown field"),
])
def test_bad_steps_are_refused_naming_the_dataset_resource_and_field(lines, said) -> None:
    with pytest.raises(DefinitionError, match=said) as caught:
        _define(lines)
    message = str(caught.value)
    assert "org.example.topics" in message and "resources.topics.sgml.lines.0" in message


def test_lines_rewrite_a_file_not_an_archive_and_count_in_the_digest_and_folder() -> None:
    with pytest.raises(DefinitionError, match="cannot follow unpack: untar"):
        _define([{"keep": "a"}], unpack="untar")
    plain, kept, dropped = _define([]), _define([{"keep": "a"}]), _define([{"drop": "a"}])
    assert len({plain.content_digest(), kept.content_digest(), dropped.content_digest()}) == 3
    # another folder: a version with other steps never takes this one's rewritten file
    assert len({content_key(plain), content_key(kept), content_key(dropped)}) == 3
    assert plain.resources["topics.sgml"].unpacking == "none"
    assert kept.resources["topics.sgml"].unpacking.startswith("none+lines:")


def test_steps_apply_in_order_and_an_emptied_line_is_dropped(tmp_path: Path) -> None:
    source, target = tmp_path / "download", tmp_path / "out"
    source.write_bytes(TOPICS)
    steps = [LineStep.model_validate(s) for s in [*STEPS, {"replace": "^\n$", "by": ""}]]
    digest = Lines(Copy(), steps).unpack(source, target)
    expected = b"<num> Number:  51\n<title> Topic: Airbus\n<num> Number:  52\n"
    assert target.read_bytes() == expected and digest == hashlib.sha256(expected).hexdigest()
    keep = Lines(Copy(), [LineStep(keep="^<num>")])
    source.write_bytes(TOPICS)
    keep.unpack(source, target)
    assert target.read_bytes() == b"<num> Number: 051\n<num> Number: 052\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_pattern_that_backtracks_without_end_stops_naming_the_step(tmp_path: Path) -> None:
    """A hostile definition's ``(a|aa)+$`` would hold Python's re for hours on this line; the
    step stops after its time limit and no temporary remains."""
    source, target = tmp_path / "in", tmp_path / "out"
    source.write_bytes(b"ok\n" + b"a" * 60 + b"!\n")
    steps = [LineStep(keep="ok|a"), LineStep(drop="(a|aa)+$")]
    with pytest.raises(UnpackError, match=r"lines step 1 \(drop: '\(a\|aa\)\+\$'\) took more "
                       r"than 0.2 s on line 2: the expression backtracks"):
        Lines(Copy(), steps, timeout=0.2).unpack(source, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the caller removes it


@pytest.mark.parametrize("data, said", [
    (b"ok\n\xff\xfe latin-1?\n", "line 2 is not UTF-8 text"),
    (b"x" * 65 + b"\n", "line 1 is longer than 64 bytes"),
])
def test_a_file_that_is_not_utf8_lines_is_refused_and_nothing_is_left(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, said: str) -> None:
    monkeypatch.setattr("dmconf.unpack.lines.MAX_LINE", 64)
    source, target = tmp_path / "download", tmp_path / "out"
    source.write_bytes(data)
    with pytest.raises(UnpackError, match=said):
        Lines(Copy(), [LineStep(keep="")]).unpack(source, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the caller removes it


@pytest.mark.parametrize("unpack, pack", [("gunzip", gzip.compress), ("none", bytes)])
def test_prepare_rewrites_after_unpacking_and_verify_passes(env, server, unpack, pack) -> None:
    # gunzip streams while downloading; none renames the download: both then rewrite it, and
    # the definition's sha256 is that of the downloaded bytes
    write_settings(env)
    serve_dataset(env, server, "test.topics", pack(TOPICS), unpack=unpack, lines=STEPS)
    topics = dmconf.prepare("test.topics")
    assert Path(topics.path).read_bytes() == (
        b"<num> Number:  51\n<title> Topic: Airbus\n\n<num> Number:  52\n")
    assert leftovers(env.folder("test.topics")) == []
    assert main(["verify", "test.topics"]) == 0


def test_a_download_that_is_not_utf8_fails_prepare_naming_the_resource(env, server) -> None:
    write_settings(env)
    serve_dataset(env, server, "test.latin", b"caf\xe9\n", lines=STEPS)
    with pytest.raises(UnpackError, match=r"test.latin: resource 'payload' from http.*line 1 "
                                          "is not UTF-8 text"):
        dmconf.prepare("test.latin")
    folder = env.folder("test.latin")
    assert not (folder / "payload").exists() and leftovers(folder) == []
