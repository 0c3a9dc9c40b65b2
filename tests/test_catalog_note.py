"""Notes of the catalogue commands (dmconf/catalog_note.py, dmconf/info_note.py): `list`,
`search` and `info` answer without the settings model or the entry-point scan when `stat` calls
vouch that nothing changed, and see every change at once.

Each test ages what the note depends on (files changed within the last two seconds are not
trusted, so no note would be taken), takes a note, checks that it is used, then changes one
input and checks that the answer follows. The commands run in this process (`main`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from test_plugins import install_fake_distribution, site  # noqa: F401 (a fixture)

from dmconf.catalog_note import noted_catalog, remember
from dmconf.cli import main
from dmconf.info_note import recall_info

DEFINITION = "name: {name}\ndescription: {words}\ntags: [text]\ntype: file\ndata: {{path: f}}\n"


def age(*paths: Path, ago: float = 3600) -> None:
    old = time.time() - ago
    for path in paths:
        for folder, dirs, files in os.walk(path) if path.is_dir() else [(None, [], [])]:
            for name in [*dirs, *files]:
                os.utime(Path(folder, name), (old, old))  # type: ignore[arg-type]
        os.utime(path, (old, old))


def run(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def noted() -> bool:
    """Whether the catalogue comes from its note (the full one was never built)."""
    catalog = noted_catalog()
    catalog.ids()
    remember(catalog)
    return catalog._noting[1].catalog is None  # type: ignore[attr-defined]


def define(env, dataset_id: str, name: str, words: str = "") -> Path:
    return env.define(dataset_id, DEFINITION.format(name=name, words=words or name))


def test_list_and_search_use_the_note_and_see_definitions_added_and_edited(env, capsys):
    first = define(env, "org.lab.first", "First corpus", "about juniper")
    age(env.catalog, env.settings)
    assert not noted()  # the first command builds the catalogue in full and notes it
    assert noted()
    assert "org.lab.first" in run(capsys, "list").split()
    define(env, "org.lab.second", "Second corpus", "about juniper too")
    assert noted()  # the roots are listed as always: the note holds where they are
    assert "org.lab.second" in run(capsys, "list").split()
    assert run(capsys, "search", "juniper").split() == ["org.lab.first", "org.lab.second"]
    first.write_text(DEFINITION.format(name="First corpus", words="about cedar"))
    assert run(capsys, "search", "juniper").split() == ["org.lab.second"]
    rows = json.loads(run(capsys, "search", "cedar", "--json"))
    assert [row["id"] for row in rows] == ["org.lab.first"]


def test_a_changed_settings_file_is_read_again(env, tmp_path, capsys):
    other = tmp_path / "other"
    (other / "org" / "elsewhere").mkdir(parents=True)
    (other / "org" / "elsewhere" / "corpus.yaml").write_text(
        DEFINITION.format(name="Elsewhere", words="zanzibarish"))
    age(env.catalog, env.settings, other)
    noted()
    assert noted()
    assert "org.elsewhere.corpus" not in run(capsys, "list").split()
    env.settings.write_text(f"catalogs: [{other}]\n")
    assert "org.elsewhere.corpus" in run(capsys, "list").split()
    assert run(capsys, "search", "zanzibarish").split() == ["org.elsewhere.corpus"]


def test_a_plugin_installed_then_removed_shows_at_once(env, site, capsys):  # noqa: F811
    age(env.catalog, env.settings, site)
    noted()
    assert noted()
    package = site / "lab_datasets"
    (package / "org" / "lab").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "org" / "lab" / "corpus.yaml").write_text(DEFINITION.format(
        name="Lab corpus", words="pluggedinzz"))
    install_fake_distribution(site, "lab_datasets", "[dmconf.catalogs]\nlab = lab_datasets\n")
    assert "org.lab.corpus" in run(capsys, "list").split()
    # installed a while ago: the next command notes it (a time not seen before: importlib's
    # caches of a folder's listing are keyed by its modification time)
    age(site, ago=1800)
    noted()
    assert noted()
    assert run(capsys, "search", "pluggedinzz").split() == ["org.lab.corpus"]
    shutil.rmtree(site / "lab_datasets-1.0.dist-info")
    assert "org.lab.corpus" not in run(capsys, "list").split()
    assert run(capsys, "search", "pluggedinzz").split() == []


def test_info_answers_from_its_note_and_follows_an_edit(env, capsys):
    path = define(env, "org.lab.first", "First corpus")
    age(env.catalog, env.settings)
    first = run(capsys, "info", "org.lab.first")
    assert "prepared:  no" in first
    assert recall_info("org.lab.first", "text") == first.rstrip("\n")
    assert run(capsys, "info", "org.lab.first") == first
    as_json = run(capsys, "info", "org.lab.first", "--json")
    assert recall_info("org.lab.first", "json") == as_json.rstrip("\n")
    path.write_text(DEFINITION.format(name="Renamed corpus", words="x"))
    assert recall_info("org.lab.first", "text") is None
    assert "Renamed corpus" in run(capsys, "info", "org.lab.first")
    assert json.loads(run(capsys, "info", "org.lab.first", "--json"))["name"] == "Renamed corpus"


def test_info_of_an_id_defined_twice_is_never_noted(env, tmp_path, capsys):
    other = tmp_path / "other"
    (other / "org" / "lab").mkdir(parents=True)
    path = define(env, "org.lab.first", "First corpus")
    shutil.copy(path, other / "org" / "lab" / "first.yaml")
    env.settings.write_text(f"catalogs: [{other}]\n")
    age(env.catalog, env.settings, other)
    out = run(capsys, "info", "org.lab.first")
    assert "hides:" in out
    assert recall_info("org.lab.first", "text") is None


def test_a_noted_list_imports_neither_logging_nor_dataclasses(env):
    """Both cost ~8-10 ms of `dmconf list`'s start-up: a noted `list` logs nothing and makes
    no dataclass (its modules log through dmconf.logs.logger())."""
    define(env, "org.lab.first", "First corpus")
    age(env.catalog, env.settings)
    code = ("import sys\nfrom dmconf.cli import main\ncode = main(['list'])\n"
            "print('LOADED', *(m for m in ('logging', 'dataclasses') if m in sys.modules), "
            "file=sys.stderr)\nsys.exit(code)\n")
    for _ in range(2):  # the first one notes the catalogue (if this process has not)
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
    assert "org.lab.first" in result.stdout.split()
    assert result.stderr.splitlines() == ["LOADED"]


def test_list_logs_what_it_skips_on_stderr_as_every_command(env, capsys):
    """The stderr handler of `list` is added when its catalogue first logs (dmconf.logs), at
    the level asked for, and removed after the command."""
    define(env, "org.lab.first", "First corpus")
    bad = env.define("org.lab.Not an id", DEFINITION.format(name="Bad", words="bad"))
    skipped = (f"WARNING skipped: {bad}: its place in {env.catalog} does not make a dataset id "
               "(letters, digits, '_' and '-' between dots); rename it")
    for argv in (["list"], ["-q", "list"], ["--debug", "list"]):
        capsys.readouterr()
        assert main(argv) == 0
        out, err = capsys.readouterr()
        assert "org.lab.first" in out.split()
        assert err.splitlines() == [skipped], argv
        assert logging.getLogger("dmconf").handlers == []
