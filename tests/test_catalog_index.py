"""The catalogue's persistent index: right after any edit, whole for concurrent processes,
rebuilt when damaged, skipped when the cache cannot be written.

Each test compares what a catalogue built from the index says with what the files say: an
oracle walking the root with ``os.walk`` (the listing before the index existed), or a catalogue
built with the index switched off.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from test_plugins import install_fake_distribution, site  # noqa: F401 (a fixture)

from dmconf import catalog_index, catalog_stat
from dmconf.catalog import PLUGIN, USER, Catalog, Root, _plugin_roots
from dmconf.catalog_index import ENV_INDEX, RootIndex, index_folder
from dmconf.ids import ID_PATTERN

OLD_NS = 1_600_000_000 * 10**9  # 2020: older than any "racy" window


def walked(root: Path) -> list[tuple[str, str]]:
    """(id, path) by id, then in the order a sorted os.walk of the root gives (the listing
    before the index existed)."""
    found: dict[str, list[str]] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        rel = os.path.relpath(folder, root)
        prefix = "" if rel == "." else rel.replace(os.sep, ".") + "."
        for name in sorted(files):
            stem, suffix = os.path.splitext(name)
            usable = suffix in (".yaml", ".yml") and not stem.startswith((".", "_"))
            if usable and ID_PATTERN.match(prefix + stem):
                found.setdefault(prefix + stem, []).append(str(Path(folder, name)))
    return [(i, path) for i in sorted(found) for path in found[i]]


def listed(root: Path) -> list[tuple[str, str]]:
    catalog = Catalog([Root(root, "test root", USER)])
    return [(i, str(e.path)) for i in catalog.ids() for e in catalog.places(i)]


def found(root: Path, query: str, **filters: list[str]) -> list[str]:
    return Catalog([Root(root, "test root", USER)]).search(query, **filters)


def age(*paths: Path) -> None:
    """Make files and folders old, so that the index trusts their stat (not "racy")."""
    for path in paths:
        os.utime(path, ns=(OLD_NS, OLD_NS))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def root(env) -> Path:
    """A root with nested folders, a .yaml/.yml pair, hidden and private entries, a misplaced
    file, a broken file and a linked folder, all aged."""
    base = env.catalog
    write(base / "org" / "a" / "one.yaml", "name: One\ndescription: first alpha\ntags: [X]\n")
    write(base / "org" / "a" / "one.yml", "name: One again\n")
    write(base / "org" / "a" / "two.yaml", "name: Two\nlicense: MIT\ntasks: [ranking]\n")
    write(base / "org" / "b" / "c" / "deep.yaml", "name: Deep\ndescription: beta\n")
    write(base / "org" / "b" / ".hidden" / "h.yaml", "name: hidden\n")
    write(base / "org" / "_private" / "p.yaml", "name: private\n")
    write(base / "org" / "b" / "bad name.yaml", "name: misplaced\n")
    write(base / "org" / "b" / "broken.yaml", "name: [unclosed\n")
    write(base / "org" / "b" / "dated.yaml", "name: Dated\ndescription: 2024-05-01\n")
    (base / "net").mkdir()
    (base / "net" / "linked").symlink_to(base / "org" / "a", target_is_directory=True)
    age(*[p for p in base.rglob("*") if not p.is_symlink()], base)
    return base


def test_listing_equals_a_sorted_walk_and_reports_the_same_problems(root, caplog):
    assert listed(root) == walked(root)
    first = [r.getMessage() for r in caplog.records]
    assert any("bad name.yaml: its place in" in m for m in first)
    assert any("org.a.one is defined in several places" in m for m in first)
    caplog.clear()
    assert index_folder().is_dir() and list(index_folder().glob("*.sqlite"))
    assert listed(root) == walked(root)  # from the index this time: the same problems again
    again = [r.getMessage() for r in caplog.records]
    assert [m for m in again if "bad name" in m] == [m for m in first if "bad name" in m]


def test_search_from_the_index_equals_search_without_it(root, monkeypatch, caplog):
    queries = [("alpha", {}), ("", {"tags": ["x"]}), ("", {"licenses": ["mit"]}),
               ("o", {"tasks": ["ranking"]}), ("2024", {}), ("e", {}), ("zzz", {})]
    cold = [found(root, q, **f) for q, f in queries]
    warm = [found(root, q, **f) for q, f in queries]
    monkeypatch.setenv(ENV_INDEX, "off")
    without = [found(root, q, **f) for q, f in queries]
    assert cold == warm == without
    assert without[0] == ["org.a.one"] and without[4] == ["org.b.dated"]
    assert sum("broken.yaml: cannot be read as YAML" in r.getMessage()
               for r in caplog.records) >= 3  # reported by every catalogue that searched


def test_right_after_files_are_added_removed_renamed_and_edited(root):
    assert found(root, "gamma") == []
    write(root / "org" / "a" / "new.yaml", "name: New\ndescription: gamma\n")
    assert found(root, "gamma") == ["org.a.new"]
    (root / "org" / "a" / "two.yaml").unlink()
    shutil.move(root / "org" / "b" / "c", root / "org" / "b" / "moved")
    assert listed(root) == walked(root)
    assert "org.a.two" not in Catalog([Root(root, "r", USER)]).ids()
    assert found(root, "beta") == ["org.b.moved.deep"]
    shutil.rmtree(root / "org" / "b")
    assert listed(root) == walked(root)
    with closing(sqlite3.connect(RootIndex(str(root), "r").file)) as db:  # nothing of gone files
        kept = {rel for (rel,) in db.execute("SELECT rel FROM files UNION SELECT rel FROM labels")}
    assert kept and kept <= {os.path.relpath(path, root) for _, path in walked(root)}


def test_an_edit_keeping_size_and_modification_time_is_seen(root):
    path = root / "org" / "a" / "two.yaml"
    assert found(root, "", licenses=["mit"]) == ["org.a.two"]
    text = path.read_text()
    path.write_text(text.replace("MIT", "BSD"))  # same size, in place: same inode
    age(path)  # and the old modification time put back (tar, rsync -t): only ctime moved
    assert found(root, "", licenses=["mit"]) == []
    assert found(root, "", licenses=["bsd"]) == ["org.a.two"]


@pytest.mark.parametrize("clock", ["this file system", "whole seconds, no ctime"])
def test_edits_within_the_same_tick_are_seen(env, monkeypatch, clock):
    if clock != "this file system":  # as on file systems that keep whole seconds (HFS+, FAT)
        def coarse(info: os.stat_result) -> str:
            return f"{info.st_size}:{info.st_mtime_ns // 10**9}:{info.st_ino}"

        monkeypatch.setattr(catalog_index, "_key", coarse)
    path = write(env.catalog / "org" / "fast.yaml", "name: aaaa\n")
    for text in ("name: bbbb\n", "name: cccc\n", "name: dddd\n"):  # no time passes
        assert found(env.catalog, text[6:10]) == []
        path.write_text(text)
        assert found(env.catalog, text[6:10]) == ["org.fast"]
    (env.catalog / "org" / "later.yaml").write_text("name: eeee\n")
    assert found(env.catalog, "eeee") == ["org.later"]


def test_roots_added_and_removed_each_have_their_index(env, tmp_path, monkeypatch):
    other = tmp_path / "other"
    write(other / "org" / "other.yaml", "name: Other\n")
    write(env.catalog / "org" / "mine.yaml", "name: Mine\n")
    assert "org.other" not in Catalog.from_settings(plugins=False).ids()
    monkeypatch.setenv("DMCONF_CATALOG", f"{env.catalog}{os.pathsep}{other}")
    assert {"org.other", "org.mine"} <= set(Catalog.from_settings(plugins=False).ids())
    monkeypatch.setenv("DMCONF_CATALOG", str(other))
    ids = Catalog.from_settings(plugins=False).ids()
    assert "org.other" in ids and "org.mine" not in ids


def test_a_plugin_installed_upgraded_and_removed(env, site):  # noqa: F811
    def install(version: str, text: str) -> None:
        for old in site.glob("idxplug*"):
            shutil.rmtree(old)
        install_fake_distribution(
            site, f"idxplug-{version}", "[dmconf.catalogs]\nidx = idxplug_data\n")
        write(site / "idxplug_data" / "org" / "plug.yaml", text)
        write(site / "idxplug_data" / "__init__.py", "")

    def plugins() -> Catalog:  # the plugins' roots alone (no ir_datasets listing, faster)
        return Catalog(_plugin_roots())

    install("1.0", "name: plug\ndescription: plugversion1\n")
    assert plugins().search("plugversion1") == ["org.plug"]
    install("2.0", "name: plug\ndescription: plugversion2\n")  # same size, new files
    catalog = plugins()
    assert catalog.search("plugversion1") == [] and catalog.search("plugversion2") == ["org.plug"]
    assert catalog.entry("org.plug").origin == "plugin idxplug-2.0"
    for old in site.glob("idxplug*"):
        shutil.rmtree(old)
    assert "org.plug" not in plugins().ids()


def test_a_damaged_index_is_rebuilt(root):
    expected = walked(root)
    assert listed(root) == expected and found(root, "alpha") == ["org.a.one"]
    index = RootIndex(str(root), "test root").file
    for damage in (os.urandom(5000), b"SQLite format 3\x00" + os.urandom(3000), b""):
        index.write_bytes(damage)
        assert listed(root) == expected
        assert found(root, "alpha") == ["org.a.one"]
        assert index.read_bytes().startswith(b"SQLite format 3\x00")  # replaced by a whole one


def test_a_cache_that_cannot_be_written_is_only_slower(root, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("DMCONF_CACHE", str(blocker / "cache"))
    assert listed(root) == walked(root)
    assert found(root, "alpha") == ["org.a.one"]
    assert blocker.read_text() == "a file where the cache folder should be"
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    monkeypatch.setenv("DMCONF_CACHE", str(readonly))
    readonly.chmod(0o500)
    try:  # as root the folder stays writable: then this only proves nothing breaks
        assert listed(root) == walked(root)
        assert found(root, "beta") == ["org.b.c.deep"]
    finally:
        readonly.chmod(0o700)


def test_writers_at_once_each_replace_the_whole_index(root):
    first, second = RootIndex(str(root), "r"), RootIndex(str(root), "r")
    first.listing(lambda problem: None)
    second.listing(lambda problem: None)  # both found nothing stored: both write
    write(root / "org" / "a" / "late.yaml", "name: late\n")
    first.save()
    second.save()
    assert listed(root) == walked(root)
    assert not [p for p in index_folder().iterdir() if p.name.endswith(".tmp")]


def test_two_processes_building_at_once(env):
    for n in range(300):
        write(env.catalog / "org" / f"d{n % 7}" / f"set{n}.yaml", f"tags: [t{n % 3}]\n")
    code = ("from dmconf.catalog import Catalog; c = Catalog.from_settings(plugins=False); "
            "print(c.search('', tags=['t1']), c.ids())")
    runs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    catalog = Catalog.from_settings(plugins=False)  # from the index they left
    assert len(catalog.search("", tags=["t1"])) == 100
    assert outputs == [f"{catalog.search('', tags=['t1'])} {catalog.ids()}\n"] * 2
    assert not [p for p in index_folder().iterdir() if p.name.endswith(".tmp")]


def test_a_root_of_any_rank_keeps_its_precedence(env, tmp_path):
    plugin, user = tmp_path / "plugin", tmp_path / "user"
    write(plugin / "org" / "same.yaml", "name: plugin\n")
    write(user / "org" / "same.yaml", "name: user\n")
    catalog = Catalog([Root(plugin, "p", PLUGIN), Root(user, "u", USER)])
    assert [str(e.path) for e in catalog.places("org.same")] == [
        str(user / "org" / "same.yaml"), str(plugin / "org" / "same.yaml")]


def test_a_folder_stamped_whole_still_sees_each_change(tmp_path, env, monkeypatch):
    """`search` of every file trusts a folder whose files all have the `stat` they had when it
    was stamped; an edit in place keeping size and modification time still changes it."""
    monkeypatch.setattr(catalog_index, "RECENT_NS", 0)  # every file old enough to be stamped
    base = tmp_path / "stamped"
    two = write(base / "org" / "a" / "two.yaml", "name: Two\nlicense: MIT\n")
    write(base / "org" / "a" / "one.yaml", "name: One\n")
    write(base / "org" / "b" / "three.yaml", "name: Three\nlicense: MIT\n")
    age(*base.rglob("*"), base)
    assert found(base, "", licenses=["mit"]) == ["org.a.two", "org.b.three"]
    with closing(sqlite3.connect(RootIndex(str(base), "r").file)) as db:
        stamped = {rel for (rel,) in db.execute("SELECT rel FROM stamps")}
    assert stamped == {"", "org", os.path.join("org", "a"), os.path.join("org", "b")}
    assert found(base, "", licenses=["mit"]) == ["org.a.two", "org.b.three"]
    two.write_text(two.read_text().replace("MIT", "BSD"))  # same size, same inode
    age(two)  # the old modification time put back: only ctime moved
    assert found(base, "", licenses=["mit"]) == ["org.b.three"]
    write(base / "org" / "b" / "four.yaml", "name: Four\nlicense: MIT\n")
    assert found(base, "", licenses=["mit"]) == ["org.b.four", "org.b.three"]


@pytest.fixture
def forking(monkeypatch) -> list[tuple[list, list | None]]:
    """Every search stats with a forked child (FORK_FILES 1); each child's share and what it
    sent back (None: the child failed) are recorded."""
    monkeypatch.setattr(catalog_index, "RECENT_NS", 0)  # every file old enough to be stamped
    monkeypatch.setattr(catalog_stat, "FORK_FILES", 1)
    monkeypatch.setattr(catalog_stat, "_may_fork", lambda: True)  # even beside xdist's thread
    children: list[tuple[list, list | None]] = []
    forked, joined = catalog_stat._forked, catalog_stat._joined

    def fork(share: list) -> tuple[int, int] | None:
        children.append((share, None))
        return forked(share)

    def join(child: tuple[int, int]) -> list | None:
        sent = joined(child)
        children[-1] = (children[-1][0], sent)
        return sent

    monkeypatch.setattr(catalog_stat, "_forked", fork)
    monkeypatch.setattr(catalog_stat, "_joined", join)
    return children


@pytest.mark.parametrize("folders", [["a", "b"], ["a"]], ids=["between folders", "in one"])
def test_stat_calls_shared_with_a_forked_child_still_see_each_change(
        tmp_path, env, forking, folders):
    """A forked child stats the second half of the files (split between folders, or inside
    one): an edit in place keeping size and modification time, a file added and a file
    removed are seen in either half."""
    base = tmp_path / "forked"
    files = [write(base / "org" / f / f"set{n}.yaml", f"name: S{n}\nlicense: MIT\n")
             for f in folders for n in range(4)]
    age(*base.rglob("*"), base)
    ids = [f"org.{f}.set{n}" for f in folders for n in range(4)]
    assert found(base, "", licenses=["mit"]) == ids
    assert found(base, "", licenses=["mit"]) == ids  # from the stamps this time
    assert forking and all(share and sent is not None and len(sent) == len(share)
                           for share, sent in forking)  # the child did its share
    first, last = files[0], files[-1]  # stat'ed by this process, by the child
    for path in (first, last):
        path.write_text(path.read_text().replace("MIT", "BSD"))  # same size, same inode
        age(path)  # the old modification time put back: only ctime moved
    assert found(base, "", licenses=["mit"]) == ids[1:-1]
    assert found(base, "", licenses=["bsd"]) == [ids[0], ids[-1]]
    files[-2].unlink()
    write(files[-2].with_name("set9.yaml"), "name: S9\nlicense: MIT\n")
    age(files[-2].parent)
    assert found(base, "", licenses=["mit"]) == [*ids[1:-2], f"org.{folders[-1]}.set9"]


def test_a_forked_child_that_fails_leaves_its_share_to_this_process(tmp_path, env, forking,
                                                                     monkeypatch):
    def failing(share: list) -> tuple[int, int]:
        forking.append((share, None))
        read, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os._exit(1)
        os.close(write_end)
        return pid, read

    monkeypatch.setattr(catalog_stat, "_forked", failing)
    base = tmp_path / "failing"
    for n in range(6):
        write(base / "org" / f"set{n}.yaml", f"name: S{n}\nlicense: {'MIT' if n % 2 else 'BSD'}\n")
    age(*base.rglob("*"), base)
    assert found(base, "", licenses=["mit"]) == ["org.set1", "org.set3", "org.set5"]
    path = base / "org" / "set5.yaml"
    path.write_text(path.read_text().replace("MIT", "BSD"))
    age(path)
    assert found(base, "", licenses=["mit"]) == ["org.set1", "org.set3"]
    assert forking and all(sent is None for _, sent in forking)


def test_a_program_ignoring_sigchld_still_gets_every_change(tmp_path, env, forking):
    """With SIGCHLD ignored, the child's exit cannot be known: its answer is not used."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are set from the main thread only")
    base = tmp_path / "ignoring"
    path = write(base / "org" / "set.yaml", "name: S\nlicense: MIT\n")
    write(base / "org" / "other.yaml", "name: O\nlicense: MIT\n")
    age(*base.rglob("*"), base)
    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        assert found(base, "", licenses=["mit"]) == ["org.other", "org.set"]
        path.write_text(path.read_text().replace("MIT", "BSD"))
        age(path)
        assert found(base, "", licenses=["mit"]) == ["org.other"]
    finally:
        signal.signal(signal.SIGCHLD, before)
    assert forking and all(sent is None for _, sent in forking)


def test_only_dmconf_s_own_command_forks(env, monkeypatch, capsys):
    """`dmconf search` may fork a child for its stat calls; `dmconf.search()` never forks the
    program it runs in, even past FORK_FILES with no other thread; the permission does not
    outlive the command."""
    import threading

    import dmconf
    from dmconf.cli import main

    for n in range(4):
        write(env.catalog / "zzfork" / f"set{n}.yaml", f"name: S{n}\nlicense: MIT\n")
    age(*env.catalog.rglob("*"), env.catalog)
    monkeypatch.setattr(catalog_stat, "FORK_FILES", 1)
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # as if alone, even under xdist
    forks: list[list] = []
    monkeypatch.setattr(catalog_stat, "_forked", lambda share: forks.append(share))  # no child
    ids = [f"zzfork.set{n}" for n in range(4)]
    assert dmconf.search("zzfork") == ids
    assert forks == []  # a library call: no fork
    assert main(["search", "zzfork"]) == 0
    assert capsys.readouterr().out.split() == ids
    assert forks  # the command asked for a child (and stat'ed its share itself: None came back)
    assert catalog_stat.COMMAND is False
    forks.clear()
    assert dmconf.search("zzfork") == ids
    assert forks == []
