"""The warm path of prepare (dmconf/warm.py): fast when nothing changed, never stale.

Command-line tests call `main` in this process (one test runs two processes of its own, to
see what a warm process imports).

Every test prepares for real (served by the suite's HTTP server), ages the files the answer
depends on (so the note is taken: files changed within the last two seconds are not trusted),
then changes one input and checks that the answer follows the change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import MNIST_ID
from resources import serve_dataset, write_settings
from test_derive import DERIVED_ID, SOURCE_ID, derived_env  # noqa: F401 (a fixture)
from test_plugins import install_fake_distribution
from versioned import CONTENT, VERSIONED_ID, versioned_definition

import dmconf
from dmconf import warm
from dmconf.cli import _main, main, to_json
from dmconf.errors import AgreementRequired, DatasetNotFound, DefinitionError, StorageError
from dmconf.info_note import recall_info

OLD = time.time() - 3600


def age(*paths: Path) -> None:
    for path in paths:
        os.utime(path, (OLD, OLD))


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """The command line, in a process of its own, reporting which heavy modules it imported."""
    code = (
        "import sys\nfrom dmconf.cli import main\ncode = main(sys.argv[1:])\n"
        "heavy = [m for m in ('pydantic', 'yaml', 'importlib.metadata') if m in sys.modules]\n"
        "print('HEAVY', *heavy, file=sys.stderr)\nsys.exit(code)\n"
    )
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=120)


def heavy(result: subprocess.CompletedProcess[str]) -> list[str]:
    line = next(x for x in result.stderr.splitlines() if x.startswith("HEAVY"))
    return line.split()[1:]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """The command line in this process (``main`` tries the warm path first, as installed)."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def aged(mnist_env, server, capsys):
    """test.mnist prepared once from the command line, its definition and settings aged."""
    definition = mnist_env.catalog / "test" / "mnist.yaml"
    age(definition, mnist_env.settings)
    code, out, err = run(capsys, "prepare", MNIST_ID)
    assert code == 0, err
    assert warm.recall_json(MNIST_ID) == out.strip()
    return mnist_env, definition, json.loads(out)


def test_cli_answers_a_prepared_dataset_without_models_yaml_or_entry_points(aged, server):
    _env, _, first = aged
    gets = len(server.log)
    # Processes of their own (what one imports); a note holds sys.path, this process's differs
    assert cli("prepare", MNIST_ID).returncode == 0
    again = cli("prepare", MNIST_ID)
    assert again.returncode == 0, again.stderr
    assert heavy(again) == []
    assert json.loads(again.stdout) == first
    assert len(server.log) == gets


def test_an_edited_definition_is_read_again(aged, capsys):
    _env, definition, _ = aged
    text = definition.read_text().replace("path: train_images", "path: train_imagex")
    definition.write_text(text)
    assert warm.recall_json(MNIST_ID) is None
    code, _, err = run(capsys, "prepare", MNIST_ID)
    assert code == 1 and "train_imagex" in err


def test_an_edit_of_the_same_size_within_the_same_tick_is_seen(aged, capsys):
    """The mtime is put back as it was: the inode or the size must still differ... unless
    nothing does; here the content changes and so does the answer."""
    _env, definition, _first = aged
    text = definition.read_text().replace("path: train_images", "path: train_imagex")
    replacement = definition.with_suffix(".new")
    replacement.write_text(text)
    age(replacement)
    os.replace(replacement, definition)  # same size, same mtime, another inode
    code, _, err = run(capsys, "prepare", MNIST_ID)
    assert code == 1 and "train_imagex" in err


def test_a_removed_definition_is_not_found(aged, capsys):
    _env, definition, _ = aged
    definition.unlink()
    assert warm.recall_json(MNIST_ID) is None
    code, _, err = run(capsys, "prepare", MNIST_ID)
    assert code == 1 and "test.mnist" in err


def test_a_duplicate_appearing_is_reported(aged, capsys):
    """Two places defining one id: the first is used and a warning names both (issue 12)."""
    _env, definition, _ = aged
    twin = definition.with_suffix(".yml")
    twin.write_text(definition.read_text())
    age(twin)
    code, _, err = run(capsys, "prepare", MNIST_ID)
    assert code == 0, err
    assert "several places" in err and str(twin) in err
    assert warm.recall_json(MNIST_ID) is None  # no note is taken while the warning is due


def test_a_plugin_installed_is_seen(aged, tmp_path, monkeypatch, capsys):
    _env, definition, _ = aged
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    age(site)
    assert warm.recall_json(MNIST_ID) is None  # sys.path changed
    assert run(capsys, "prepare", MNIST_ID)[0] == 0  # noted with the new sys.path
    assert warm.recall_json(MNIST_ID) is not None
    package = site / "clash_pkg"
    (package / "test").mkdir(parents=True)
    (package / "test" / "mnist.yaml").write_text(definition.read_text())
    install_fake_distribution(site, "clash_pkg", "[dmconf.catalogs]\nclash = clash_pkg\n")
    assert warm.recall_json(MNIST_ID) is None
    code, _, err = run(capsys, "prepare", MNIST_ID)
    assert code == 0 and "several places" in err and "clash_pkg" in err


def test_settings_changed_are_read_again(aged, capsys):
    env, _, _ = aged
    env.settings.write_text("offline: maybe\n")
    code, _, err = run(capsys, "prepare", MNIST_ID)
    assert code == 1 and "offline" in err


def test_removed_data_is_prepared_again(aged, server, capsys):
    _env, _, first = aged
    gets = len(server.log)
    os.unlink(first["train"]["images"]["path"])
    assert warm.recall_json(MNIST_ID) is None
    assert run(capsys, "prepare", MNIST_ID)[0] == 0
    assert len(server.log) == gets + 1
    assert os.path.exists(first["train"]["images"]["path"])


def test_a_state_file_naming_another_digest_is_not_prepared(aged, server, capsys):
    _env, _, first = aged
    folder = Path(first["train"]["images"]["path"]).parent
    state = folder / ".dmconf-state.json"
    content = json.loads(state.read_text())
    state.write_text(json.dumps({**content, "digest": "0" * 64}))
    gets = len(server.log)
    assert warm.recall_json(MNIST_ID) is None
    assert run(capsys, "prepare", MNIST_ID)[0] == 0
    assert json.loads(state.read_text())["digest"] == content["digest"]
    assert len(server.log) == gets  # verified files are kept, the marker rewritten


def test_a_resource_replaced_by_a_link_is_refused(aged, tmp_path, capsys):
    _env, _, first = aged
    path = Path(first["train"]["images"]["path"])
    elsewhere = tmp_path / "elsewhere"
    os.replace(path, elsewhere)
    path.symlink_to(elsewhere)
    code, _, err = run(capsys, "prepare", MNIST_ID)
    assert code == 1 and "symbolic link" in err


def test_a_planted_cache_link_is_not_followed(aged, tmp_path, capsys):
    _env, _, _ = aged
    notes = list((tmp_path / "cache" / "prepared").glob("*.json"))
    assert len(notes) == 1
    fake = tmp_path / "fake.json"
    fake.write_text(notes[0].read_text().replace('"output": "', '"output": "PLANTED '))
    notes[0].unlink()
    notes[0].symlink_to(fake)
    assert warm.recall_json(MNIST_ID) is None
    code, out, _ = run(capsys, "prepare", MNIST_ID)
    assert code == 0 and "PLANTED" not in out


def test_a_just_written_definition_is_not_trusted(mnist_env, capsys):
    assert run(capsys, "prepare", MNIST_ID)[0] == 0
    assert not list((mnist_env.data.parent / "cache").glob("prepared/*.json"))


# --- the Python API ---------------------------------------------------------------------------

@pytest.fixture
def api_aged(mnist_env):
    age(mnist_env.catalog / "test" / "mnist.yaml", mnist_env.settings)
    first = dmconf.prepare(MNIST_ID)
    return mnist_env, first


def test_the_api_answers_from_memory_a_copy(api_aged, monkeypatch):
    _env, first = api_aged
    from dmconf.catalog import Catalog

    def no_catalog(*args, **kwargs):
        raise AssertionError("the warm path read the catalogue")

    monkeypatch.setattr(Catalog, "from_settings", no_catalog)
    again = dmconf.prepare(MNIST_ID)
    assert again == first and again is not first
    assert again.train is not first.train


def test_the_api_sees_an_edit(api_aged):
    env, _first = api_aged
    definition = env.catalog / "test" / "mnist.yaml"
    definition.write_text(definition.read_text().replace("path: test_labels", "path: nothere"))
    with pytest.raises(DefinitionError, match="nothere"):
        dmconf.prepare(MNIST_ID)


def test_the_api_sees_a_removal_and_a_new_plugin(api_aged, tmp_path, monkeypatch, caplog):
    env, _ = api_aged
    site = tmp_path / "site"
    (site / "clash_pkg" / "test").mkdir(parents=True)
    (site / "clash_pkg" / "test" / "mnist.yaml").write_text("type: file\ndata: {path: x}\n")
    install_fake_distribution(site, "clash_pkg", "[dmconf.catalogs]\nclash = clash_pkg\n")
    monkeypatch.syspath_prepend(str(site))
    with caplog.at_level("WARNING", logger="dmconf"):
        dmconf.prepare(MNIST_ID)
    assert any("several places" in r.getMessage() and "clash_pkg" in r.getMessage()
               for r in caplog.records)
    monkeypatch.undo()
    (env.catalog / "test" / "mnist.yaml").unlink()
    with pytest.raises(DatasetNotFound):
        dmconf.prepare(MNIST_ID)


def test_the_api_refuses_a_linked_resource(api_aged, tmp_path):
    _env, first = api_aged
    path = first.train.labels.path
    os.replace(path, tmp_path / "moved")
    path.symlink_to(tmp_path / "moved")
    with pytest.raises(StorageError, match="symbolic link"):
        dmconf.prepare(MNIST_ID)


def test_settings_given_explicitly_bypass_the_memory(api_aged):
    env, first = api_aged
    notes = dict(warm._MEMORY)
    settings = dmconf.load_settings(data=str(env.data.parent / "other"))
    assert dmconf.prepare(MNIST_ID, settings=settings).train.images.path != \
        first.train.images.path
    assert notes == warm._MEMORY  # nothing noted: the environment did not decide this one


# --- what main brought since: stores, terms, refs, derived, settings, rm ----------------------
# Each case prepares for real, ages what a note depends on (so one *would* be taken), changes
# one thing, then checks the warm answer is the full path's answer, or that there is none.

def cold(ref: str):
    """The full path's answer: explicit settings never read or write a note."""
    return dmconf.prepare(ref, settings=dmconf.load_settings())


def warm_agrees(ref: str) -> bool:
    """Whether the API's note answers ``ref``; when it does, it is what the full path gives."""
    hit = warm.recall(ref)
    assert hit is None or hit == cold(ref)
    return hit is not None


@pytest.fixture(autouse=True)
def _forget_notes():
    yield
    warm._MEMORY.clear()
    warm.release_claims()


def test_a_read_only_store_is_never_noted_and_wins_once_it_holds_the_dataset(
        mnist_env, server, tmp_path, monkeypatch, capsys):
    lab = tmp_path / "lab"
    write_settings(mnist_env, read_only=[str(lab)])  # data: DMCONF_DATA, after the lab store
    age(mnist_env.settings, mnist_env.catalog / "test" / "mnist.yaml")
    mine = dmconf.prepare(MNIST_ID)  # the lab store lacks it: fetched into DMCONF_DATA
    assert mine.train.images.path.is_relative_to(mnist_env.data)
    assert main(["prepare", MNIST_ID]) == 0
    assert warm.recall(MNIST_ID) is None and warm.recall_json(MNIST_ID) is None
    shutil.copytree(mnist_env.data / MNIST_ID, lab / MNIST_ID)  # another user fills the lab
    gets = len(server.log)
    theirs = dmconf.prepare(MNIST_ID)
    assert theirs.train.images.path.is_relative_to(lab) and theirs == cold(MNIST_ID)
    capsys.readouterr()
    assert main(["prepare", MNIST_ID]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(to_json(theirs))
    assert len(server.log) == gets


def test_a_dataset_moved_to_another_store_is_answered_from_there(mnist_env, server, tmp_path,
                                                                    monkeypatch):
    age(mnist_env.settings, mnist_env.catalog / "test" / "mnist.yaml")
    first = dmconf.prepare(MNIST_ID)
    assert warm_agrees(MNIST_ID)  # one store: noted
    other = tmp_path / "other"
    other.mkdir()
    os.rename(mnist_env.data / MNIST_ID, other / MNIST_ID)
    monkeypatch.setenv("DMCONF_DATA", str(other))
    gets = len(server.log)
    assert not warm_agrees(MNIST_ID)
    moved = dmconf.prepare(MNIST_ID)
    assert moved.train.images.path == other / first.train.images.path.relative_to(mnist_env.data)
    monkeypatch.setenv("DMCONF_DATA", str(mnist_env.data))  # the store it was noted in
    assert warm.recall(MNIST_ID) is None
    assert dmconf.prepare(MNIST_ID) == first and len(server.log) == gets + 4  # fetched again


def test_terms_are_checked_on_every_prepare_and_revoking_is_seen(env, server, tmp_path,
                                                                 monkeypatch, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    write_settings(env)
    serve_dataset(env, server, "test.terms", b"agreed")
    path = env.catalog / "test" / "terms.yaml"
    path.write_text(path.read_text() + "terms: Research use only.\n")
    age(env.settings, path)
    with pytest.raises(AgreementRequired):
        dmconf.prepare("test.terms")
    assert main(["accept", "test.terms"]) == 0
    assert dmconf.prepare("test.terms").path.read_bytes() == b"agreed"
    assert main(["prepare", "test.terms"]) == 0
    assert warm.recall("test.terms") is None and warm.recall_json("test.terms") is None
    (tmp_path / "config" / "dmconf" / "agreements.json").write_text("{}")  # revoked
    with pytest.raises(AgreementRequired):
        dmconf.prepare("test.terms")
    capsys.readouterr()
    assert main(["prepare", "test.terms"]) == 1
    assert "dmconf accept test.terms" in capsys.readouterr().err


def test_a_version_and_variant_ref_is_noted_apart_and_follows_its_definition(env, server):
    write_settings(env)
    path = env.define(VERSIONED_ID, versioned_definition(server))
    age(env.settings, path)
    ref = f"{VERSIONED_ID}@2.0.0:small"
    small, plain = dmconf.prepare(ref), dmconf.prepare(VERSIONED_ID)
    assert small.path.read_bytes() == CONTENT["small"]
    assert plain.path.read_bytes() == CONTENT["2.1.0"]
    assert warm_agrees(ref) and warm_agrees(VERSIONED_ID)
    assert warm.recall(ref) == small and warm.recall(VERSIONED_ID) == plain
    assert warm.recall(f"{VERSIONED_ID}:small") is None  # another ref, another note
    edited = yaml.safe_load(path.read_text())
    edited["variants"]["small"]["data"] = {"path": "text"}  # the variant now hands `text`
    path.write_text(yaml.safe_dump(edited, sort_keys=False))
    assert not warm_agrees(ref) and not warm_agrees(VERSIONED_ID)
    assert dmconf.prepare(ref).path.name == "text"


def test_a_derived_dataset_is_never_noted_and_follows_its_input(
        derived_env, server, tmp_path):  # noqa: F811 (the fixture imported above)
    age(derived_env.settings, *derived_env.catalog.rglob("*.yaml"))
    first = dmconf.prepare(DERIVED_ID)
    assert dmconf.prepare(DERIVED_ID) == first and warm.recall(DERIVED_ID) is None
    serve_dataset(derived_env, server, SOURCE_ID, b"other bytes\n")  # only the input changes
    age(*derived_env.catalog.rglob("*.yaml"))
    again = dmconf.prepare(DERIVED_ID)
    assert again.path.read_bytes() == b"other bytes\n" and again == cold(DERIVED_ID)


@pytest.mark.parametrize("settings", [
    {"credentials": {"lab": {"match": "http://127.0.0.1/", "username": "me",
                             "password_env": "LAB_PASSWORD"}}},
    {"mirrors": {"http://127.0.0.1/": "http://localhost/"}},
])
def test_credentials_or_mirrors_changed_in_the_settings_are_read_again(mnist_env, settings):
    write_settings(mnist_env)
    age(mnist_env.settings, mnist_env.catalog / "test" / "mnist.yaml")
    assert main(["prepare", MNIST_ID]) == 0
    assert warm.recall_json(MNIST_ID) is not None and warm_agrees(MNIST_ID)
    write_settings(mnist_env, **settings)
    age(mnist_env.settings)  # even an edit with an old time: the size changed
    assert warm.recall_json(MNIST_ID) is None and not warm_agrees(MNIST_ID)


def test_rm_then_prepare_downloads_again(mnist_env, server, capsys):
    age(mnist_env.settings, mnist_env.catalog / "test" / "mnist.yaml")
    assert main(["prepare", MNIST_ID]) == 0
    first = capsys.readouterr().out
    assert warm.recall_json(MNIST_ID) == first.strip()
    assert main(["rm", MNIST_ID]) == 0
    assert warm.recall_json(MNIST_ID) is None and warm.recall(MNIST_ID) is None
    gets = len(server.log)
    capsys.readouterr()
    assert main(["prepare", MNIST_ID]) == 0
    assert capsys.readouterr().out == first
    assert len(server.log) == gets + 4


def test_a_process_waits_for_the_claim_then_answers_from_the_note(aged, capsys):
    """8 jobs preparing one id at once: the first claims it, the others wait (no import) and
    answer from its note. Threads stand for processes: each opens its own lock file."""
    env, _, first = aged
    env.data.joinpath(MNIST_ID).rename(env.data.parent / "gone")  # the note misses
    said: list[str] = []
    answers: list[str | None] = []

    def waiter() -> threading.Thread:
        """Another job, started once this one holds the claim; returns when it waits."""
        thread = threading.Thread(
            target=lambda: answers.append(warm.claim_or_wait(MNIST_ID, said.append)))
        before = len(said)
        thread.start()
        deadline = time.monotonic() + 30
        while len(said) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert said[-1].startswith(f"waiting for another process to finish preparing {MNIST_ID}")
        return thread

    assert warm.claim_or_wait(MNIST_ID) is None and len(warm._CLAIMS) == 1  # claimed
    thread = waiter()
    assert _main(["prepare", MNIST_ID]) == 0  # the full path, holding the claim: notes
    out = capsys.readouterr().out
    warm.release_claims()
    thread.join(30)
    assert json.loads(answers[0] or "") == json.loads(out) == first
    # the holder failed (no note): the full path
    assert warm.claim_or_wait(MNIST_ID) is None and len(warm._CLAIMS) == 1
    env.data.joinpath(MNIST_ID).rename(env.data.parent / "gone2")
    thread = waiter()
    warm.release_claims()
    thread.join(30)
    assert answers[1] is None and warm._CLAIMS == []
    # the holder's settings say jobs do not wait forever: the full path at once
    assert warm.claim_or_wait(MNIST_ID) is None and len(warm._CLAIMS) == 1
    warm.claimed(0.5)
    assert warm.claim_or_wait(MNIST_ID) is None and len(warm._CLAIMS) == 1
    warm.release_claims()


def test_info_and_list_answer_without_models_yaml_or_entry_points(aged):
    """`info` and `list` in processes of their own: the second of each answers from notes
    (dmconf/info_note.py, dmconf/catalog_note.py), with what the first printed."""
    for argv in (("info", MNIST_ID), ("list",)):
        first = cli(*argv)
        assert first.returncode == 0, first.stderr
        again = cli(*argv)
        assert again.returncode == 0, again.stderr
        assert heavy(again) == [] and again.stdout == first.stdout


def test_info_says_whether_prepared_from_its_note(aged, capsys):
    code, first, err = run(capsys, "info", MNIST_ID)
    assert code == 0, err
    assert "prepared:  yes" in first
    assert recall_info(MNIST_ID, "text") == first.rstrip("\n")
    assert main(["rm", MNIST_ID]) == 0
    noted = recall_info(MNIST_ID, "text")
    assert noted is not None and "prepared:  no" in noted
    assert noted == first.rstrip("\n").replace("prepared:  yes", "prepared:  no")
    code, out, err = run(capsys, "info", MNIST_ID)
    assert out == noted + "\n"
