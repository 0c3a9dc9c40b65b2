"""A verified copy replaces another at its final name with no moment where the name is missing
(where locks do not work, another process may be handing that path out)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dmconf.store.swap import exchange, replace_in_place

POLL = """
import os, sys
target, stop = sys.argv[1], sys.argv[2]
missing = polls = 0
print("ready", flush=True)
while not os.path.exists(stop):
    polls += 1
    try:
        os.lstat(target)
    except FileNotFoundError:
        missing += 1
print(missing, polls)
"""


def _folder(path: Path, text: str) -> Path:
    path.mkdir()
    (path / "payload").write_text(text)
    return path


def test_a_folder_is_swapped_in_and_the_old_copy_removed(tmp_path: Path) -> None:
    target = _folder(tmp_path / "archive", "old")
    new = _folder(tmp_path / ".archive.new", "new")
    replace_in_place(new, target)
    assert (target / "payload").read_text() == "new" and not new.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]


def test_a_file_replaces_a_folder_and_a_folder_a_file(tmp_path: Path) -> None:
    target = _folder(tmp_path / "x", "old")
    new = tmp_path / ".x.new"
    new.write_text("file")
    replace_in_place(new, target)
    assert target.read_text() == "file" and not new.exists()
    replace_in_place(_folder(tmp_path / ".x.again", "folder"), target)
    assert (target / "payload").read_text() == "folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


def test_the_final_name_never_goes_missing_while_copies_are_swapped(tmp_path: Path) -> None:
    if not exchange(_folder(tmp_path / "a", "a"), _folder(tmp_path / "b", "b")):
        pytest.skip("this file system cannot exchange names (renameat2)")
    target = _folder(tmp_path / "archive", "0")
    stop = tmp_path / "stop"
    poller = subprocess.Popen([sys.executable, "-c", POLL, str(target / "payload"), str(stop)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert poller.stdout is not None and poller.stdout.readline().strip() == "ready"
        for i in range(1, 400):
            replace_in_place(_folder(tmp_path / f".archive.{i}", str(i)), target)
    finally:
        stop.touch()
        out, _ = poller.communicate(timeout=60)
    missing, polls = map(int, out.split())
    assert polls > 0 and missing == 0, f"{target} was missing at {missing} of {polls} looks"
    assert (target / "payload").read_text() == "399"
