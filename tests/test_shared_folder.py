"""Class 2: a group-writable data folder cannot be turned against its users. Another member
plants symbolic links at the names of dmconf's own files (partials, their metadata, unpacked
temporaries, the state file, locks, a resource's final name); dmconf never writes through them.
"""

from __future__ import annotations

import json
import os

import pytest
from resources import cli, serve_dataset, sha256, write_settings

import dmconf
from dmconf.errors import StorageError
from dmconf.fetch.download import HOST

PAYLOAD = os.urandom(100_000)
GONE_PID = 4_000_000  # above pid_max: no process has it


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "victim" / ".bashrc"
    path.parent.mkdir()
    path.write_text("the victim's own file\n")
    return path


def _plant(folder, name, target) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(target, folder / name)


@pytest.mark.parametrize("unpack", ["none", "gunzip"])
def test_links_at_temporary_names_are_removed_never_followed(env, server, victim, unpack):
    import gzip

    write_settings(env)
    data = gzip.compress(PAYLOAD) if unpack == "gunzip" else PAYLOAD
    serve_dataset(env, server, "test.shared", data, unpack=unpack)
    folder = env.folder("test.shared")
    me = f"{os.getpid()}@{HOST}"
    for name in (f".payload.{me}.part", f".payload.{me}.part.json", f".payload.{me}.unpack",
                 f".payload.{GONE_PID}@{HOST}.part", f".payload.{GONE_PID}@{HOST}.part.json",
                 f".dmconf-state.json.{os.getpid()}@{HOST}.tmp"):
        _plant(folder, name, victim)
    assert dmconf.prepare("test.shared").path.read_bytes() == PAYLOAD
    assert victim.read_text() == "the victim's own file\n"
    assert not [p for p in folder.iterdir() if p.is_symlink()]


@pytest.mark.parametrize("name, says", [
    ("payload", "symbolic link"),
    (".dmconf-state.json", "symbolic link"),
    (".payload.lock", "symbolic link"),
])
def test_a_link_at_a_final_name_is_refused_with_a_line_that_says_so(
        env, server, victim, name, says):
    write_settings(env)
    serve_dataset(env, server, "test.shared", PAYLOAD)
    folder = env.folder("test.shared")
    if name == "payload":  # a prepared dataset whose file was swapped for a link
        dmconf.prepare("test.shared")
        (folder / name).unlink()
    _plant(folder, name, victim)
    with pytest.raises(StorageError, match=says):
        dmconf.prepare("test.shared")
    proc = cli("prepare", "test.shared")
    _, err = proc.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, err
    assert str(folder / name) in lines[0] and "symbolic link" in lines[0]
    assert "definition" not in lines[0] and "Free some space" not in lines[0]
    assert victim.read_text() == "the victim's own file\n"


def test_a_planted_state_file_is_data_not_instructions(env, server):
    """A state file written by someone else: malformed, huge or hostile keys; never trusted
    beyond what it may say."""
    write_settings(env)
    serve_dataset(env, server, "test.shared", PAYLOAD)
    folder = env.folder("test.shared")
    folder.mkdir(parents=True)
    state = folder / ".dmconf-state.json"
    for content in ("{not json", json.dumps({"digest": 5, "resources": {"../../x": 3}}),
                    json.dumps([1, 2]), "\xff\xfe"):
        state.write_text(content, encoding="latin-1")
        assert dmconf.prepare("test.shared").path.read_bytes() == PAYLOAD
        recorded = json.loads(state.read_text())["resources"]
        assert recorded["payload"]["sha256"] == sha256(PAYLOAD)
        state.unlink()
        (folder / "payload").unlink()
