"""Resources built by a plugin's code (``build:``, :mod:`dmconf.derive.resource`).

A small datamaestro-style plugin, written in datamaestro's spelling and ported with ``dmconf
port``, has a resource whose ``_download(destination)`` counts the lines of a downloaded file
and a ``FilesCopy`` of an archive's file: both are built by dmconf after what they read, from
files the loopback server serves. The real plugins' builders are prepared in
``tests/test_real_plugins.py``.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import yaml
from httpserver import FileServer
from test_plugins import install_fake_distribution

import dmconf
from dmconf.cli import main
from dmconf.compat.datamaestro.port import port
from dmconf.errors import (
    ChecksumMismatch,
    DefinitionError,
    DownloadError,
    OfflineError,
    StepFailed,
    VerificationFailed,
)
from dmconf.prepared import verify
from dmconf.settings import load_settings
from dmconf.state import DatasetState

DATASET = "org.example.built"
WORDS = b"one\ntwo\n"  # what the server gives Fetched (its md5 is the definition's checker)
_NAMES = itertools.count()

PLUGIN = '''
"""Resources made by the plugin's code."""
import os
import time
from pathlib import Path

from datamaestro.data import Base, File
from datamaestro.definitions import Dataset, dataset
from datamaestro.download import FileResource, FilesCopy, Resource, reference
from datamaestro.download.archive import TarDownloader
from datamaestro.download.single import FileDownloader
from datamaestro.utils import HashCheck
from experimaestro import Param


def _hook():
    """What the test asks of the code: a log of its runs, a failure, a pause."""
    if os.environ.get("BUILT_LOG"):
        with open(os.environ["BUILT_LOG"], "a") as out:
            out.write("count\\n")
    if os.path.exists(os.environ.get("BUILT_FAIL", "/nonexistent")):
        raise RuntimeError("the plugin's code failed on purpose")
    if os.environ.get("BUILT_PAUSE"):
        Path(os.environ["BUILT_PAUSE"]).touch()
        time.sleep(60)


class line_count(FileResource):
    """The number of lines of another resource."""

    def __init__(self, source):
        super().__init__("count.txt")
        self.source = source
        self._dependencies.append(source)

    def _download(self, destination):
        # a file beside the output (as wayback_documents' progress), then half the output:
        progress = destination.parent / ".count-progress"
        if progress.exists() and os.environ.get("BUILT_LOG"):
            with open(os.environ["BUILT_LOG"], "a") as out:
                out.write("resumed\\n")
        progress.write_text("kept for a resume")
        assert not destination.exists()  # never a half-written output from an earlier run
        destination.write_text("half-written")  # then a failure or an interruption, maybe
        _hook()
        destination.write_text(f"{len(self.source.path.read_text().splitlines())}\\n")


class older(Resource):
    """datamaestro's older API (as lz4docstore_builder): download(force) writes
    definition.datapath / varname, reading what it needs through closures."""

    def download(self, force=False):
        destination = self.definition.datapath / self.varname
        destination.mkdir(exist_ok=True)
        (destination / "done").write_text(Built.COUNT.path.read_text())


class fetching(Resource):
    """As lz4docstore_downloader: download(force) fetches its URL through the context."""

    def __init__(self, varname, url, *, checker=None, size=None):
        super().__init__(varname)
        self.url, self.checker, self.size = url, checker, size

    def download(self, force=False):
        destination = self.definition.datapath / self.varname
        destination.mkdir(exist_ok=True)
        with self.context.downloadURL(self.url, size=self.size) as file:
            self.checker.check(file.path)
            inside = file.path.parent == destination.parent  # the build's scratch folder
            (destination / "words").write_text(f"{inside} {file.path.read_text().upper()}")


@dataset(id="org.example.built.fetched")
class Fetched(Dataset):
    """Fetched by the plugin's code through datamaestro's context"""

    WORDS = fetching("words", "https://data.example.org/fetched/words.txt",
                     checker=HashCheck("WORDS_MD5"), size=8)

    def config(self) -> File:
        return File.C(path=self.WORDS.path / "words")


class Counted(Base):
    docs: Param[File]
    count: Param[File]
    kept: Param[File]


@dataset(id="org.example.built")
class Built(Dataset):
    """Lines, counted by the plugin's code"""

    ARCHIVE = TarDownloader("archive", "SERVER/archive.tar.gz")
    DOCS = FileDownloader("docs.txt", "SERVER/docs.txt")
    COUNT = line_count(DOCS)
    FILES = FilesCopy(ARCHIVE, {"kept.txt": "sub/kept.txt"})
    OLDER = older("older")

    def config(self) -> Counted:
        return Counted.C(docs=File.C(path=self.DOCS.path), count=File.C(path=self.COUNT.path),
                         kept=File.C(path=self.FILES.path / "kept.txt"))


class doubled(FileResource):
    """Twice the count of another dataset: its prepared data, through a reference."""

    def __init__(self, counted):
        super().__init__("doubled.txt")
        self.counted = counted
        self._dependencies.append(counted)

    def _download(self, destination):
        count = int(self.counted.prepare().count.path.read_text())
        destination.write_text(f"{2 * count}\\n")


@dataset(id="org.example.built.doubled")
class Doubled(Dataset):
    """Built from another dataset"""

    BUILT = reference(reference=Built)
    DOUBLED = doubled(BUILT)

    def config(self) -> File:
        return File.C(path=self.DOUBLED.path)
'''


def _archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in {"sub/kept.txt": b"kept\n", "other.txt": b"left\n"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def built(env, server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The plugin ported into a folder on sys.path (one module name per test: Python keeps
    imported modules), its files served, the code's log in ``BUILT_LOG``."""
    name = f"built{next(_NAMES)}"
    source = tmp_path / f"datamaestro_{name}"
    (source / "config" / "org" / "example").mkdir(parents=True)
    (source / "__init__.py").write_text("")
    (source / "config" / "__init__.py").write_text("")
    (source / "config" / "org" / "example" / "built.py").write_text(
        PLUGIN.replace("SERVER", server.url("built").rstrip("/")).replace(
            "WORDS_MD5", hashlib.md5(WORDS).hexdigest()))
    project = port(str(source), tmp_path / "ported").project
    site = tmp_path / "site"
    site.mkdir()
    (project / "src" / f"dmconf_{name}").rename(site / f"dmconf_{name}")
    install_fake_distribution(site, f"dmconf_{name}",
                              f"[dmconf.repositories]\n{name} = dmconf_{name}.config\n",
                              distribution=f"dmconf-{name}")
    server.files["built/archive.tar.gz"] = _archive()
    server.files["built/docs.txt"] = b"one\ntwo\n"
    server.files["built/words.txt"] = WORDS
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("BUILT_LOG", str(tmp_path / "runs.log"))
    env.site, env.runs = site, tmp_path / "runs.log"
    return env


def _runs(env, what: str = "count") -> int:  # type: ignore[no-untyped-def]
    """How many times the code ran (or resumed what a failed run kept)."""
    lines = env.runs.read_text().splitlines() if env.runs.exists() else []
    return lines.count(what)


def _kept(folder: Path) -> list[str]:
    """The scratch folders kept to resume: never with a half-written output."""
    kept = _leftovers(folder)
    assert all(not (folder / name / "count.txt").exists() for name in kept), kept
    return kept


def _leftovers(folder: Path) -> list[str]:
    """Temporaries of the built resources (their lock files stay, as a download's do)."""
    return sorted(p.name for p in folder.iterdir()
                  if p.name.startswith((".count", ".FILES")) and not p.name.endswith(".lock"))


def test_plugin_code_builds_after_its_inputs_and_the_result_is_recorded_and_verified(
    built, capsys
) -> None:
    definition = dmconf.find(DATASET)
    count = definition.resources["count.txt"].build
    assert count is not None and count.code.endswith(":line_count")
    assert (count.step, count.plugin.startswith("dmconf-built"), count.version) == (
        "plugin-code", True, "1.0")
    assert count.inputs == ["docs.txt"] and count.params == {"source": {"resource": "docs.txt"}}
    files = definition.resources["FILES"].build
    assert files is not None and files.plugin == "dmconf" and files.inputs == ["archive"]
    older = definition.resources["older"].build  # no declared input: what is written before
    assert older is not None and older.inputs == ["archive", "docs.txt", "count.txt", "FILES"]
    data = dmconf.prepare(DATASET)
    assert data.count.path.read_text() == "2\n" and data.kept.path.read_text() == "kept\n"
    folder = built.folder(DATASET)
    assert (folder / "older" / "done").read_text() == "2\n"
    recorded = DatasetState(folder).resources["count.txt"]
    assert recorded["unpack"] == "build" and _runs(built) == 1
    assert main(["verify", DATASET]) == 0
    dmconf.prepare(DATASET)  # prepared: the code does not run again
    assert _runs(built) == 1
    assert main(["info", DATASET]) == 0
    assert "count.txt: built by dmconf_built" in capsys.readouterr().out
    data.count.path.write_text("tampered\n")
    with pytest.raises(VerificationFailed, match=r"count\.txt.* changed"):
        verify(definition, load_settings())


def test_code_reading_another_dataset_gets_its_prepared_data(built) -> None:
    build = dmconf.find(f"{DATASET}.doubled").resources["doubled.txt"].build
    assert build is not None and (build.inputs, build.datasets) == ([], [DATASET])
    assert dmconf.prepare(f"{DATASET}.doubled").path.read_text() == "4\n"
    assert _runs(built) == 1  # the other dataset was prepared first, as usual


def test_a_changed_input_builds_it_again(built, server: FileServer) -> None:
    data = dmconf.prepare(DATASET)
    folder = built.folder(DATASET)
    (folder / "docs.txt").unlink()  # fetched anew: the server now has three lines
    server.files["built/docs.txt"] = b"one\ntwo\nthree\n"
    assert dmconf.prepare(DATASET).count.path.read_text() == "3\n"
    assert _runs(built) == 2 and data.count.path == folder / "count.txt"
    assert _leftovers(folder) == []


def test_plugin_code_raising_names_dataset_and_resource_keeps_nothing_and_is_retried(
    built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail = tmp_path / "fail"
    fail.touch()
    monkeypatch.setenv("BUILT_FAIL", str(fail))
    with pytest.raises(StepFailed, match=rf"{DATASET}: building resource 'count.txt' failed in "
                       r"dmconf_built\w+\.config\.org\.example\.built:line_count of dmconf-built"
                       r"\w+ 1\.0 \(RuntimeError: the plugin's code failed on purpose\); nothing "
                       r"was kept, and preparing again builds it again"):
        dmconf.prepare(DATASET)
    folder = built.folder(DATASET)
    assert not (folder / "count.txt").exists() and len(_kept(folder)) == 1  # its progress
    assert "count.txt" not in DatasetState(folder).resources
    assert (folder / "docs.txt").exists()  # what was fetched stays: the next run has less to do
    fail.unlink()
    assert dmconf.prepare(DATASET).count.path.read_text() == "2\n"
    assert (_runs(built), _runs(built, "resumed")) == (2, 1) and _leftovers(folder) == []


def test_a_missing_input_stops_before_the_code_runs(built, server: FileServer) -> None:
    del server.files["built/docs.txt"]
    with pytest.raises(DownloadError, match=r"docs\.txt"):
        dmconf.prepare(DATASET)
    folder = built.folder(DATASET)
    assert _runs(built) == 0 and not (folder / "count.txt").exists()
    assert _leftovers(folder) == []


def test_a_yaml_definition_cannot_make_dmconf_run_code(built, server: FileServer) -> None:
    # The plugin's own definition written as YAML (what `info --yaml` prints), under another
    # id and under the plugin's id (a user's root comes first): nothing runs, nothing is fetched.
    text = yaml.safe_dump(json.loads(dmconf.find(DATASET).model_dump_json(exclude={"id"})))
    for dataset_id in ("org.example.copy", DATASET):
        path = built.define(dataset_id, text)
        with pytest.raises(DefinitionError, match=rf"{path}, field resources\.(\w+)\.build: "
                           r"resource '\1' is built by plugin code .* only for a "
                           r"definition an installed plugin's Python module makes"):
            dmconf.prepare(dataset_id)
        path.unlink()
    assert _runs(built) == 0 and server.log == []
    # A block naming another step (an import path) is not a definition at all.
    hostile = yaml.safe_load(text)
    hostile["resources"]["count.txt"]["build"]["step"] = "os:system"
    built.define("org.example.hostile", yaml.safe_dump(hostile))
    with pytest.raises(DefinitionError, match=r"resources\.count\.txt\.build\.step"):
        dmconf.find("org.example.hostile")


def test_a_hydra_node_of_the_plugins_definition_runs_the_plugins_own_code(built) -> None:
    # dmconf.load of a node (what Hydra instantiates) gets the code of the catalogue's
    # definition of that id, only when the node's build block is exactly that definition's.
    node = {"_target_": "dmconf.hydra.load_dataset",
            **json.loads(dmconf.find(DATASET).model_dump_json())}
    assert dmconf.load(node).count.path.read_text() == "2\n"
    node["resources"]["count.txt"]["build"]["params"]["source"] = {"resource": "archive"}
    with pytest.raises(DefinitionError, match=r"resources\.count\.txt\.build: .*<memory>"):
        dmconf.load(node)
    assert _runs(built) == 1


def _prepare_in(env_extra: dict[str, str]) -> subprocess.Popen:
    # Ctrl-C raises KeyboardInterrupt in the child even where SIGINT is ignored by the parent
    # (pytest-xdist's workers ignore it, and children inherit that)
    code = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
            f"import dmconf; print(dmconf.prepare({DATASET!r}).count.path.read_text().strip())")
    return subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **env_extra},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_eight_processes_build_it_once(built) -> None:
    processes = [_prepare_in({}) for _ in range(8)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0] * 8, [err[-2000:] for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["2"] * 8
    assert _runs(built) == 1


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_an_interrupted_build_leaves_nothing_half_written(built, tmp_path: Path, sent) -> None:
    started = tmp_path / "started"
    process = _prepare_in({"BUILT_PAUSE": str(started)})
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), process.communicate()[1][-2000:]
        process.send_signal(sent)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    folder = built.folder(DATASET)
    assert process.returncode != 0 and not (folder / "count.txt").exists()
    if sent == signal.SIGINT:  # the half-written output is removed on the way out
        assert "KeyboardInterrupt" in err and len(_kept(folder)) == 1  # with its progress
    else:  # a killed process cannot: the next run removes it, and resumes from its progress
        assert len(_leftovers(folder)) == 1
    assert dmconf.prepare(DATASET).count.path.read_text() == "2\n"
    assert (_runs(built), _runs(built, "resumed")) == (2, 1) and _leftovers(folder) == []


FETCHED = "org.example.built.fetched"


def _fetching(built, server: FileServer, offline: bool = False) -> Path:  # type: ignore[no-untyped-def]
    """The settings mapping Fetched's URL to the server; the folder of Fetched."""
    built.settings.write_text(yaml.safe_dump({
        "mirrors": {"https://data.example.org/fetched/": server.url("built/")}, "retries": 1,
        "offline": offline}))
    return built.folder(FETCHED)


def _left(folder: Path) -> list[str]:
    """What a build left in the dataset's folder, lock and state files aside."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock")
                  and not p.name.startswith(".dmconf-state")) if folder.is_dir() else []


def test_context_download_url_is_dmconfs_fetcher_inside_the_build(built, server) -> None:
    # lz4docstore_downloader's way: download(force) asks self.context.downloadURL(url, size)
    build = dmconf.find(FETCHED).resources["words"].build
    assert build is not None and build.params["url"] == "https://data.example.org/fetched/words.txt"
    folder = _fetching(built, server)
    data = dmconf.prepare(FETCHED)
    # through the mirror, into the build's scratch folder, then removed with it
    assert data.path.read_text() == "True ONE\nTWO\n"
    assert [r.path for r in server.log] == ["/built/words.txt"]
    assert _left(folder) == ["words"]


def test_context_download_url_verifies_the_resources_checker(built, server) -> None:
    folder = _fetching(built, server)
    server.files["built/words.txt"] = b"one\ntow\n"  # the size is right, the md5 is not
    with pytest.raises(ChecksumMismatch) as raised:
        dmconf.prepare(FETCHED)
    assert raised.value.fields["dataset"] == FETCHED and "expected md5" in str(raised.value)
    assert server.url("built/words.txt") in str(raised.value)
    assert _left(folder) == []  # no download, no scratch folder, no output


def test_context_download_url_offline_is_refused(built, server) -> None:
    folder = _fetching(built, server, offline=True)
    with pytest.raises(OfflineError, match="DMCONF_OFFLINE forbids the network") as raised:
        dmconf.prepare(FETCHED)
    assert raised.value.fields["dataset"] == FETCHED and server.log == []
    assert _left(folder) == []


def test_context_download_url_outside_a_build_is_refused() -> None:
    from dmconf.compat.datamaestro.context import Context

    with pytest.raises(StepFailed, match="outside a resource's build"), \
            Context().downloadURL("https://example.org/x"):
        pass
