"""The datamaestro compatibility layer: ids, class-based datasets, references, md5, repositories.

A small datamaestro-style plugin is written in datamaestro's spelling, ported with ``dmconf
port``, registered as an installed distribution, and prepared from the loopback server.
"""

from __future__ import annotations

import hashlib
import logging
import textwrap
from pathlib import Path

import pytest
from httpserver import FileServer
from test_plugins import install_fake_distribution

import dmconf
from dmconf.cli import main
from dmconf.compat.datamaestro import ids
from dmconf.compat.datamaestro.port import port
from dmconf.compat.experimaestro import Config, Meta, Param, field
from dmconf.errors import AgreementRequired, ChecksumMismatch, DownloadError

PLUGIN = '''
"""A corpus and a task built from it."""
from hashlib import md5
from typing import Optional

from datamaestro.annotations.agreement import useragreement
from datamaestro.data import Base, File
from datamaestro.definitions import Dataset, dataset, datatasks
from datamaestro.download import reference
from datamaestro.download.single import ConcatDownloader, FileDownloader
from datamaestro.stream import Transform, TransformList
from datamaestro.stream.compress import Gunzip
from datamaestro.stream.lines import Filter
from datamaestro.utils import HashCheck
from experimaestro import Meta, Param


class Task(Base):
    documents: Param[File]
    count: Meta[Optional[int]]


lua = useragreement("""Use for research only.
Cite the authors.""", id="org.example")


@lua
@dataset(url="https://example.org/corpus")
class Collection(Dataset):
    """The collection

    Lines of text."""

    DATA = FileDownloader("docs.txt", "URL", checker=HashCheck("MD5", md5))

    def config(self) -> File:
        return File.C(path=self.DATA.path)


class Shuffle(Transform):
    """A transform of the plugin's own: only datamaestro runs it"""


@dataset()
class Joined(Dataset):
    """Files of an archive joined, filtered and shuffled: datamaestro's code makes it"""

    DATA = ConcatDownloader("joined.txt", "https://example.org/parts.tar.gz",
                            transforms=TransformList(Gunzip(), Filter(r"^1"), Shuffle()))

    def config(self) -> File:
        return File.C(path=self.DATA.path)


@datatasks("retrieval")
@dataset(id="")
class TrainWithRun(Dataset):
    """The task"""

    COLLECTION = reference(Collection)

    def config(self) -> Task:
        return Task.C(documents=self.COLLECTION.prepare())
'''


def test_the_id_rule_is_datamaestros() -> None:
    assert ids.camel_to_dots("TrainTexttripleFull") == "train.texttriple.full"
    assert ids.camel_to_dots("ProcessedMNIST") == "processed.mnist"
    assert ids.camel_to_dots("Trec2019Withrun") == "trec2019.withrun"
    assert ids.dataset_id("com.microsoft.msmarco.passage", "TrainRun") == (
        "com.microsoft.msmarco.passage.train.run"
    )
    assert ids.dataset_id("com.Lecun", "MNIST", "") == "com.lecun"
    assert ids.dataset_id("gov.nist.trec.adhoc", "X", ".2.topics") == "gov.nist.trec.adhoc.2.topics"
    assert ids.dataset_id("com.github.apple.ml-qrecc", "Main", "qrecc") == (
        "com.github.apple.ml-qrecc.qrecc"
    )
    assert ids.dataset_id("a.b", "X", "org.example.whole") == "org.example.whole"


def _plugin(
    tmp_path: Path, server: FileServer, payload: bytes, md5: str, name: str = "fake"
) -> Path:
    """The plugin ported and installed in a folder to put on sys.path (one name per test:
    Python keeps imported modules)."""
    source = tmp_path / f"datamaestro_{name}"
    (source / "config" / "org" / "example").mkdir(parents=True)
    (source / "__init__.py").write_text("")
    (source / "config" / "__init__.py").write_text("")
    text = PLUGIN.replace("URL", server.url("docs.txt")).replace("MD5", md5)
    (source / "config" / "org" / "example" / "corpus.py").write_text(text)
    (source / "config" / "org" / "example" / "broken-module.py").write_text("def (:\n")
    server.files["docs.txt"] = payload
    project = port(str(source), tmp_path / "ported").project
    site = tmp_path / "site"
    site.mkdir()
    (project / "src" / f"dmconf_{name}").rename(site / f"dmconf_{name}")
    install_fake_distribution(site, f"dmconf_{name}",
                              f"[dmconf.repositories]\n{name} = dmconf_{name}.config\n",
                              distribution=f"dmconf-{name}")
    return site


@pytest.fixture
def ported(env, server, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    payload = b"one\ntwo\n"
    site = _plugin(tmp_path, server, payload, hashlib.md5(payload).hexdigest())
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("DMCONF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # this user's agreements
    return env


def test_a_ported_class_based_plugin_is_listed_described_and_prepared(ported, caplog) -> None:
    caplog.set_level(logging.INFO, logger="dmconf")
    assert {"org.example.corpus", "org.example.corpus.collection"} <= set(dmconf.list_ids())
    warnings = [r.getMessage() for r in caplog.records if "broken-module.py" in r.getMessage()]
    assert len(warnings) == 1 and "cannot be parsed" in warnings[0]
    assert dmconf.search("task:retrieval") == ["org.example.corpus"]
    task = dmconf.find("org.example.corpus")
    assert task.data == {"documents": {"_dataset": "org.example.corpus.collection"}}
    assert task.tasks == ["retrieval"] and task.name == "The task"
    collection = dmconf.find("org.example.corpus.collection")
    assert collection.resources["docs.txt"].md5 == hashlib.md5(b"one\ntwo\n").hexdigest()
    assert collection.agreement == "Use for research only.\nCite the authors."
    with pytest.raises(AgreementRequired, match=r"research only\. Cite .*dmconf accept org"):
        dmconf.prepare("org.example.corpus")  # its collection asks for an agreement
    assert not ported.folder("org.example.corpus.collection").exists()  # nothing fetched
    assert main(["accept", "org.example.corpus.collection"]) == 0
    prepared = dmconf.prepare("org.example.corpus")
    assert prepared.documents.path == ported.folder("org.example.corpus.collection") / "docs.txt"
    assert prepared.documents.path.read_bytes() == b"one\ntwo\n"
    assert any("matches its published md5" in r.getMessage() for r in caplog.records)


def test_a_wrong_md5_deletes_the_download(env, server, tmp_path, monkeypatch) -> None:
    site = _plugin(tmp_path, server, b"one\ntwo\n", "0" * 32, name="wrongmd5")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("DMCONF_CACHE", str(tmp_path / "cache"))
    (tmp_path / "settings.yaml").write_text("accepted: [org.example.corpus.collection]\n")
    monkeypatch.setenv("DMCONF_SETTINGS", str(tmp_path / "settings.yaml"))
    with pytest.raises(ChecksumMismatch, match=r"expected md5 0{32}, got "):
        dmconf.prepare("org.example.corpus.collection")
    assert not (env.folder("org.example.corpus.collection") / "docs.txt").exists()


def test_port_rewrites_imports_and_writes_the_entry_point(tmp_path) -> None:
    source = tmp_path / "datamaestro_fake"
    (source / "config").mkdir(parents=True)
    (source / "__init__.py").write_text("import datamaestro\nfrom experimaestro.xyz import a\n")
    (source / "config" / "x.py").write_text(textwrap.dedent("""\
        from datamaestro.definitions import dataset
        import datamaestro.data.csv as csv
        from datamaestro_fake.data import T
    """))
    result = port(str(source), tmp_path / "out")
    text = (result.project / "src" / "dmconf_fake" / "config" / "x.py").read_text()
    assert text == textwrap.dedent("""\
        from dmconf.compat.datamaestro.definitions import dataset
        import dmconf.compat.datamaestro.data.csv as csv
        from dmconf_fake.data import T
    """)
    init = (result.project / "src" / "dmconf_fake" / "__init__.py").read_text()
    assert init.startswith("import dmconf.compat.datamaestro as datamaestro\n")
    assert 'fake = "dmconf_fake.config"' in (result.project / "pyproject.toml").read_text()
    assert len(result.problems) == 1 and "experimaestro.xyz" in result.problems[0]


def test_a_resource_only_datamaestro_makes_is_named_and_mirrors_can_provide_it(
    env, server, tmp_path, monkeypatch
) -> None:
    site = _plugin(tmp_path, server, b"x", hashlib.md5(b"x").hexdigest(), name="joined")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("DMCONF_CACHE", str(tmp_path / "cache"))
    url = "datamaestro://ConcatDownloader/org.example.corpus.joined/joined.txt"
    assert dmconf.find("org.example.corpus.joined").resources["joined.txt"].url == url
    with pytest.raises(DownloadError, match=r"datamaestro code that dmconf does not run.*mirrors"):
        dmconf.prepare("org.example.corpus.joined")
    copy = tmp_path / "copies" / "org.example.corpus.joined" / "joined.txt"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"made elsewhere\n")
    env.settings.write_text(
        f'mirrors: {{"datamaestro://ConcatDownloader/": "{(tmp_path / "copies").as_uri()}/"}}\n'
        "accepted: [org.example.corpus.collection]\n"
    )
    joined = dmconf.prepare("org.example.corpus.joined")
    assert joined.path.read_bytes() == b"made elsewhere\n"


def test_experimaestro_style_types_are_pydantic_models_with_its_defaults() -> None:
    class Lines(Config):
        path: Param[Path]
        sep: Meta[str] = field(ignore_default="\t")  # experimaestro's older spelling
        ids: Meta[bool] = field(ignore_default=False)
        count: Meta[int | None]  # admits None: defaults to None
        size: Meta[int] = field(default=3, ignore_default=True)

    class Shorter(Lines):
        size = 5  # a new default, written without the annotation

    lines = Lines.C(path=Path("x"))
    assert (lines.sep, lines.ids, lines.count, lines.size) == ("\t", False, None, 3)
    assert lines.__arguments__() == {"path": Path("x")}
    assert Shorter.C(path=Path("y")).size == 5
    with pytest.raises(ValueError, match="path"):
        Lines.C(sep=",")  # required fields stay required
