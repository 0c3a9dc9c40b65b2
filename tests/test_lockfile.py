"""Experiment lock files: `dmconf lock`, `lock --check`, `prepare --locked`, and Hydra runs
that keep the lock entries of their datasets next to `.hydra/config.yaml`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import yaml
from remotes import TREE_ID, define_tree, other_machine
from resources import sha256

from dmconf import find
from dmconf.cli import main
from dmconf.settings import load_settings
from dmconf.store.manifest import manifest_of


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(env, server, tmp_path, monkeypatch):
    """The tree dataset defined, and the current folder an experiment's folder."""
    define_tree(env, server)
    folder = tmp_path / "experiment"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def _change_tree(env, server):
    """Publish other bytes for the single file and update its definition."""
    new = b"a corrected file\n"
    server.files[f"{TREE_ID}/single.txt"] = new
    path = env.catalog / "test" / "tree.yaml"
    definition = yaml.safe_load(path.read_text())
    definition["resources"]["single"].update(sha256=sha256(new), size=len(new))
    path.write_text(yaml.safe_dump(definition))


def test_lock_writes_a_readable_file_and_check_passes(project, env, server, capsys):
    code, out, err = run(capsys, "lock", TREE_ID)
    assert code == 0, err
    text = (project / "dmconf.lock").read_text()
    assert text.startswith("# dmconf.lock")
    entry = yaml.safe_load(text)["datasets"][TREE_ID]
    definition = find(TREE_ID)
    assert entry["definition"] == definition.content_digest()
    assert entry["manifest"] == manifest_of(definition, env.folder(TREE_ID)).digest()
    assert out.strip() == f"{TREE_ID}@{entry['manifest']}"
    single = definition.resources["single"]
    assert entry["resources"]["single"] == {"url": single.url, "sha256": single.sha256,
                                            "size": single.size}
    assert run(capsys, "lock", "--check")[0] == 0


def test_check_fails_when_a_definition_changed(project, env, server, capsys):
    assert run(capsys, "lock", TREE_ID)[0] == 0
    _change_tree(env, server)
    code, _, err = run(capsys, "lock", "--check")
    assert code == 1
    assert f"{TREE_ID}: the definition" in err and "resource 'single' sha256" in err
    code, _, err = run(capsys, "prepare", "--locked")
    assert code == 1 and "resource 'single' sha256" in err


def test_prepare_locked_pulls_exactly_the_locked_data(project, env, server, capsys, tmp_path,
                                                       monkeypatch):
    store = tmp_path / "store"
    assert run(capsys, "remote", "add", "lab", str(store), "--use")[0] == 0
    assert run(capsys, "lock", TREE_ID)[0] == 0
    assert run(capsys, "push", TREE_ID)[0] == 0
    other_machine(monkeypatch, tmp_path / "fresh")
    server.log.clear()
    code, out, err = run(capsys, "prepare", "--locked")
    assert code == 0, err
    assert server.log == []  # from the remote, by the locked manifest digest
    assert json.loads(out)["id"] == TREE_ID


def test_prepare_locked_without_a_remote_prepares_and_checks_the_manifest(
        project, env, server, capsys, tmp_path, monkeypatch):
    assert run(capsys, "lock", TREE_ID)[0] == 0
    other_machine(monkeypatch, tmp_path / "fresh")
    code, _, err = run(capsys, "prepare", "--locked", TREE_ID)
    assert code == 0, err
    # prepared data that differs from the locked manifest is named, not used silently
    lock = yaml.safe_load((project / "dmconf.lock").read_text())
    lock["datasets"][TREE_ID]["manifest"] = "0" * 64
    (project / "dmconf.lock").write_text(yaml.safe_dump(lock))
    code, _, err = run(capsys, "prepare", "--locked")
    assert code == 1 and "is not the locked data" in err and f"{TREE_ID}@{'0' * 64}" in err


def test_prepare_locked_names_what_is_not_locked(project, capsys):
    code, _, err = run(capsys, "prepare", "--locked")
    assert code == 1 and "dmconf.lock" in err and "dmconf lock ID" in err
    assert run(capsys, "lock", TREE_ID)[0] == 0
    code, _, err = run(capsys, "prepare", "--locked", "test.other")
    assert code == 1 and "test.other not locked" in err


APP = """
import hydra
import dmconf

@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg):
    dmconf.load(cfg.dataset)

main()
"""


def test_a_hydra_run_keeps_the_lock_entries_next_to_its_config(project, env, server, capsys,
                                                               tmp_path):
    (project / "app.py").write_text(APP)
    (project / "conf").mkdir()
    (project / "conf" / "config.yaml").write_text(
        textwrap.dedent(f"""\
            defaults:
              - dataset: {TREE_ID}
              - _self_
            """))
    run_dir = tmp_path / "run"
    done = subprocess.run([sys.executable, "app.py", f"hydra.run.dir={run_dir}"],
                          capture_output=True, text=True, timeout=180, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    hydra = run_dir / ".hydra"
    assert (hydra / "config.yaml").is_file()
    entries = yaml.safe_load((hydra / "dmconf.lock").read_text())["datasets"]
    definition = find(TREE_ID)
    assert entries[TREE_ID]["definition"] == definition.content_digest()
    folder = load_settings().dataset_folder(definition)
    assert entries[TREE_ID]["manifest"] == manifest_of(definition, folder).digest()
    # the run's config can be locked for the project as it ran
    code, out, err = run(capsys, "lock", "--from-hydra", str(hydra))
    assert code == 0, err
    assert out.strip() == f"{TREE_ID}@{entries[TREE_ID]['manifest']}"


@pytest.mark.parametrize("text", ["- a list\n", "datasets: [1, 2]\n", "datasets: {a.b: {x: 1}}\n",
                                  "datasets: {\n"])
def test_a_malformed_lock_file_is_one_clear_error(project, capsys, text):
    (project / "dmconf.lock").write_text(text)
    for argv in (("lock", "--check"), ("prepare", "--locked")):
        code, _, err = run(capsys, *argv)
        assert code == 1 and err.startswith("dmconf: error: dmconf.lock") and "Traceback" not in err
