"""Seed-style Python definitions build the one definition model, and say clearly what is wrong."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from conftest import Env, MnistFiles
from httpserver import FileServer

from dmconf.data import File, Folder, Generic
from dmconf.data.image import ImageClassification, LabelledImages
from dmconf.data.tensor import IDX
from dmconf.definition import DatasetDefinition
from dmconf.definitions import PythonDataset, argument, data, dataset, datatags, datatasks
from dmconf.download.archive import tardownloader, zipdownloader
from dmconf.download.single import filedownloader
from dmconf.errors import DataTypeError, DefinitionError
from dmconf.settings import load_settings

URL = "http://example.org/files/"


def test_filedownloader_gunzips_like_datamaestro() -> None:
    @filedownloader("a.idx", URL + "a.idx.gz")  # .gz dropped: gunzip
    @filedownloader("b.gz", URL + "b.gz")  # kept: as downloaded
    @filedownloader("c.idx", URL + "c.gz", uncompress=False)
    @filedownloader("d.idx", URL + "d.gz", False)  # an older datamaestro's positional uncompress
    @filedownloader("e.txt", URL + "e.txt.bz2?raw=1", size=12)
    @dataset(Generic, id="org.example.files")
    def files(a, b, c, d, e):
        return {"a": File(path=a), "b": File(path=b), "c": File(path=c), "d": File(path=d),
                "e": File(path=e)}

    definition = files.definition()
    assert {k: r.unpack for k, r in definition.resources.items()} == {
        "a.idx": "gunzip", "b.gz": "none", "c.idx": "none", "d.idx": "none", "e.txt": "bunzip2",
    }
    assert list(definition.resources) == ["a.idx", "b.gz", "c.idx", "d.idx", "e.txt"]  # as written
    assert definition.resources["e.txt"].size == 12
    assert definition.type == "generic"
    assert definition.data["a"] == {"type": "file", "path": "a.idx"}
    assert [part["path"] for part in definition.data.values()] == list(definition.resources)


def test_metadata_comes_from_the_decorators_and_docstring() -> None:
    @datatags("digits")
    @datatasks("classification")
    @datatags("image", "digits")
    @filedownloader("x.idx", URL + "x.gz", sha256="AB" * 32, mirrors=[URL + "mirror/x.gz"])
    @dataset(url="http://example.org/", id="org.example.x")
    def x(x) -> IDX:
        """  A title

        First line.
            Indented.
        """
        return IDX(path=x)

    definition = x.definition("org.example.x")
    assert (definition.name, definition.description) == ("A title", "First line.\n    Indented.")
    assert definition.tags == ["digits", "image"] and definition.tasks == ["classification"]
    assert definition.url == "http://example.org/"
    resource = definition.resources["x.idx"]
    assert resource.sha256 == "ab" * 32 and resource.urls == [URL + "x.gz", URL + "mirror/x.gz"]
    assert (definition.type, definition.data) == ("idx", {"path": "x.idx"})


def test_nested_types_are_tagged_only_where_the_field_needs_it() -> None:
    @filedownloader("images.idx", URL + "i.gz")
    @filedownloader("labels.idx", URL + "l.gz")
    @dataset(ImageClassification, id="org.example.tags")
    def tagged(images, labels):
        return ImageClassification(test=LabelledImages(images=IDX(path=images), labels=File(
            path=labels / "inside")))

    assert tagged.definition().data == {
        "test": {  # the field admits LabelledImages only: no tag needed
            "images": {"type": "idx", "path": "images.idx"},
            "labels": {"type": "file", "path": "labels.idx/inside"},
        }
    }


def test_archives_are_folders_and_subpath_is_inside(tmp_path: Path) -> None:
    @zipdownloader("zipped", URL + "z.zip", checker="cd" * 32)
    @tardownloader("tarred", URL + "t.tar.gz", subpath="top/data/")
    @dataset(Generic, id="org.example.archives")
    def archives(zipped, tarred):
        return {"zipped": Folder(path=zipped), "tarred": Folder(path=tarred)}

    definition = archives.definition()
    assert {k: (r.unpack, r.sha256) for k, r in definition.resources.items()} == {
        "zipped": ("unzip", "cd" * 32), "tarred": ("untar", None)}
    assert definition.data == {"zipped": {"type": "folder", "path": "zipped"},
                               "tarred": {"type": "folder", "path": "tarred/top/data"}}


class _HashCheck:
    """datamaestro's ``datamaestro.utils.HashCheck``: a value and a hashlib constructor."""

    def __init__(self, hashstr: str, hasherfn=hashlib.md5) -> None:
        self.hashstr, self.hasherfn = hashstr, hasherfn


def test_a_hashcheck_pins_sha256_or_md5_and_other_checkers_are_refused() -> None:
    pinned = filedownloader("f", URL + "f", checker=_HashCheck("ef" * 32, hashlib.sha256))
    assert pinned.fields["sha256"] == "ef" * 32
    md5 = filedownloader("f", URL + "f", checker=_HashCheck("0" * 32))  # datamaestro's default
    assert md5.fields == {**md5.fields, "md5": "0" * 32} and "sha256" not in md5.fields
    with pytest.raises(DefinitionError, match=r"sha256 or md5.*sha256='\.\.\.'"):
        filedownloader("f", URL + "f", checker=_HashCheck("0" * 40, hashlib.sha1))


def test_data_and_argument_decorate_data_types() -> None:
    @argument("split", type=str, default="train", help="which part")
    @data(description="A data type declared the datamaestro way")
    class Part(File):
        pass

    assert Part.__doc__ == "A data type declared the datamaestro way"
    part = Part(path=Path("/x"))
    assert part.split == "train" and Part(path=Path("/x"), split="test").split == "test"
    assert Part.model_fields["split"].description == "which part"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda f: dataset(IDX, id="org.example.declared")(f).definition("org.example.entry"),
         r"@dataset\(id='org.example.declared'\) does not match the id 'org.example.entry'"),
        (lambda f: dataset(IDX)(f).definition(), r"has no id: register it under"),
        (lambda f: filedownloader("p.idx", URL + "p")(f), r"put it above @dataset"),
        (lambda f: datatags("a")(f), r"@datatags applies to a @dataset definition"),
        (lambda f: filedownloader("../p", URL + "p")(dataset(IDX)(f)), r"plain file name"),
        (lambda f: filedownloader("p.idx", "p")(dataset(IDX)(f)), r"is not a URL"),
        (lambda f: filedownloader("p.idx", URL)(filedownloader("p.idx", URL)(dataset(IDX)(f))),
         r"two downloaders give the file 'p.idx'"),
        (lambda f: filedownloader("p.gz", URL)(filedownloader("p.idx", URL)(dataset(IDX)(f))),
         r"two downloaders give the parameter 'p' \('p.gz', 'p.idx'\)"),
        (lambda f: filedownloader("q.idx", URL)(dataset(IDX, id="a.b")(f)).definition(),
         r"function\(path\) cannot take the resources its downloaders give \(q\)"),
        (lambda f: filedownloader("path.idx", URL)(dataset(Generic, id="a.b")(f)).definition(),
         r"returned IDX, expected Generic"),
    ],
)
def test_errors(make, message) -> None:
    def function(path):
        return IDX(path=path)

    with pytest.raises(DefinitionError, match=message):
        make(function)


def test_a_function_that_reads_files_is_told_why_it_cannot() -> None:
    @filedownloader("list.txt", URL + "list.txt")
    @dataset(Generic, id="org.example.reads")
    def reads(list):
        return {"names": list.read_text().split()}

    with pytest.raises(DefinitionError, match=r"list='list.txt'\) failed \(FileNotFoundError.*"
                       r"it may join paths but not open files"):
        reads.definition()


def test_generic_structures_come_back_typed_with_absolute_paths(tmp_path: Path) -> None:
    from dmconf.preparation import build_object

    @filedownloader("words.txt", URL + "words.txt")
    @dataset(Generic, id="org.example.generic")
    def generic(words):
        return {"words": File(path=words), "language": "en"}

    obj = build_object(generic.definition(), tmp_path)
    assert obj.words == File(path=tmp_path / "words.txt")  # type: ignore[attr-defined]
    assert obj.language == "en"  # type: ignore[attr-defined]


def test_a_bare_path_where_no_path_is_declared_is_refused() -> None:
    @filedownloader("words.txt", URL + "words.txt")
    @dataset(Generic, id="org.example.bare")
    def bare(words):
        return {"words": words}

    with pytest.raises(DataTypeError, match=r"returned data.words: a path .* File\(path=...\)"):
        bare.definition()


def test_local_data_types_cannot_be_named() -> None:
    class Local(File):
        pass

    @filedownloader("p.idx", URL)
    @dataset(Generic, id="org.example.local")
    def local(p):
        return Generic(part=Local(path=p))

    with pytest.raises(DataTypeError, match="top level of an importable module"):
        local.definition()


def test_a_definition_in_python_prepares_like_yaml(
    env: Env, server: FileServer, mnist: MnistFiles
) -> None:
    server.files["py/labels.gz"] = mnist.gz["test_labels"]

    @filedownloader("labels.idx", server.url("py/labels.gz"))
    @dataset(IDX, id="org.example.prepared")
    def prepared(labels):
        return IDX(path=labels)

    assert isinstance(prepared, PythonDataset)
    obj = prepared.prepare()
    assert obj.id == "org.example.prepared"  # type: ignore[attr-defined]
    folder = load_settings().dataset_folder(prepared.definition())
    assert folder.parent == env.data / "org.example.prepared"
    assert obj.path == folder / "labels.idx"  # type: ignore[attr-defined]
    assert obj.data().shape == (10000,)  # type: ignore[attr-defined]


def test_yaml_of_a_yaml_definition_round_trips(env: Env) -> None:
    from dmconf import find

    definition = find("com.lecun.mnist")  # the bundled one
    again = DatasetDefinition.from_mapping(yaml.safe_load(definition.to_yaml()))
    assert again.model_dump() == definition.model_dump()
    assert "description: |\n  The MNIST database" in definition.to_yaml()


def test_cli_info_yaml(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    from dmconf.cli import main

    assert main(["info", "com.lecun.mnist", "--yaml"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["id"] == "com.lecun.mnist" and printed["type"] == "image-classification"


def test_the_readme_porting_example_builds_its_definition() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Porting from datamaestro", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(code, "README.md", "exec"), namespace)
    mnist = namespace["MNIST"]
    assert isinstance(mnist, PythonDataset)
    definition = mnist.definition("org.example.mnist")
    assert definition.name == "The MNIST database" and definition.type == "image-classification"
    assert {r.unpack for r in definition.resources.values()} == {"gunzip"}
    assert definition.data["train"]["images"] == {"type": "idx-image", "path": "train_images.idx"}
    entry_points = section.split('[project.entry-points."dmconf.datasets"]\n', 1)[1]
    assert entry_points.startswith('"org.example.mnist" = "mnist_plugin.mnist:MNIST"\n')
