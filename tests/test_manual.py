"""Resources downloaded by hand: instructions and the folder, `dmconf add-file`, verification,
and never a request to the network."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
import yaml
from resources import sha256

import dmconf
import dmconf.manual
from dmconf.cli import main
from dmconf.errors import ChecksumMismatch, DownloadError, ManualDownloadRequired

CONTENT = os.urandom(40_000)
ARCHIVE = gzip.compress(CONTENT)
INSTRUCTIONS = "Sign the agreement at https://example.org/register, then download images.gz."


@pytest.fixture
def manual_env(env, monkeypatch):
    env.define("test.manual", yaml.safe_dump({
        "name": "By hand",
        "resources": {"images": {
            "manual": INSTRUCTIONS, "filename": "images.gz", "size": len(ARCHIVE),
            "sha256": sha256(ARCHIVE), "unpack": "gunzip",
        }},
        "type": "file", "data": {"path": "images"},
    }))
    monkeypatch.setenv("DMCONF_OFFLINE", "1")  # a request to the network would fail
    return env


def test_prepare_says_what_to_download_and_where_to_put_it(manual_env, capsys) -> None:
    folder = manual_env.data / ".manual" / "test.manual"
    with pytest.raises(ManualDownloadRequired) as caught:
        dmconf.prepare("test.manual")
    assert caught.value.folder == str(folder)
    assert main(["prepare", "test.manual"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"dmconf: error: test.manual: resource 'images' must be downloaded by hand: "
        f"{INSTRUCTIONS} -- then put the file as {folder}/images.gz and run `dmconf prepare "
        "test.manual` again, or run `dmconf add-file test.manual images PATH`")
    assert not manual_env.folder("test.manual").exists()  # nothing half-made


def test_a_file_put_in_the_folder_is_verified_and_unpacked(manual_env) -> None:
    folder = manual_env.data / ".manual" / "test.manual"
    folder.mkdir(parents=True)
    (folder / "images.gz").write_bytes(ARCHIVE)
    assert dmconf.prepare("test.manual").path.read_bytes() == CONTENT
    assert (folder / "images.gz").read_bytes() == ARCHIVE  # the user's file is left alone


def test_add_file_refuses_a_wrong_file_then_prepares_the_right_one(
        manual_env, tmp_path, capsys) -> None:
    short = tmp_path / "short.gz"
    short.write_bytes(ARCHIVE[:-1])
    with pytest.raises(DownloadError, match=r"has \d+ bytes, resource 'images' has \d+: not "
                       "the file"):
        dmconf.manual.add_file("test.manual", "images", short)
    wrong = tmp_path / "wrong.gz"
    wrong.write_bytes(os.urandom(len(ARCHIVE)))
    with pytest.raises(ChecksumMismatch, match=f"expected sha256 {sha256(ARCHIVE)}"):
        dmconf.manual.add_file("test.manual", "images", wrong)
    assert list((manual_env.data / ".manual" / "test.manual").iterdir()) == []
    assert not dmconf.is_prepared("test.manual")
    right = tmp_path / "downloaded.gz"
    right.write_bytes(ARCHIVE)
    assert main(["add-file", "test.manual", "images", str(right)]) == 0
    prepared = json.loads(capsys.readouterr().out)
    assert Path(prepared["path"]).read_bytes() == CONTENT
    assert right.read_bytes() == ARCHIVE
    assert list((manual_env.data / ".manual" / "test.manual").iterdir()) == []  # no 2nd copy
    assert dmconf.prepare("test.manual").path.read_bytes() == CONTENT  # prepared, offline


def test_add_file_works_for_a_resource_with_a_url_too(env, server, tmp_path) -> None:
    from resources import serve_dataset

    serve_dataset(env, server, "test.blocked", CONTENT)
    path = tmp_path / "got-it-elsewhere.bin"
    path.write_bytes(CONTENT)
    assert dmconf.manual.add_file("test.blocked", "payload", path).path.read_bytes() == CONTENT
    assert server.log == []


def test_a_manual_resource_with_a_url_or_no_filename_is_refused(env) -> None:
    env.define("test.both", "resources: {f: {manual: x, filename: f, url: 'https://a.b/f'}}\n"
               "type: file\ndata: {path: f}\n")
    with pytest.raises(dmconf.DefinitionError, match="never downloaded: leave out url"):
        dmconf.find("test.both")
    env.define("test.noname", "resources: {f: {manual: x}}\ntype: file\ndata: {path: f}\n")
    with pytest.raises(dmconf.DefinitionError, match="needs the `filename`"):
        dmconf.find("test.noname")
