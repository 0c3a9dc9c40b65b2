"""Datasets from the hubs: Croissant in and out, Hugging Face files pinned by revision and sha256.

Real files nobody here wrote: Croissant examples vendored from mlcommons/croissant
(``tests/data/croissant``, Apache-2.0, licence beside them), imported, exported and re-validated
with mlcroissant; a generated Hugging Face repository served by the loopback server on the hub's
own paths, pointed at with HF_ENDPOINT.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
import yaml
from conftest import Env
from hfhub import mnist_like_repo, parquet_bytes, serve_repo
from httpserver import FileServer

from dmconf.cli import main

CROISSANT = Path(__file__).parent / "data" / "croissant"
EXAMPLES = sorted(CROISSANT.glob("1.*/*/metadata.json"))
# Examples that use a construct dmconf cannot fetch: the one line must name it.
UNSUPPORTED = {"commoncrawl-CC-MAIN-2025-43-draft": "URL scheme of s3://"}


@pytest.fixture
def hub(env: Env, server: FileServer, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> FileServer:
    """The loopback server as the hub: HF_ENDPOINT points at it, no token anywhere."""
    monkeypatch.setenv("HF_ENDPOINT", server.url(""))
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    return server


def _validate(document: dict) -> None:
    mlc = pytest.importorskip("mlcroissant")
    with warnings.catch_warnings():  # rdflib, under mlcroissant, warns of its own deprecations
        warnings.simplefilter("ignore", DeprecationWarning)
        mlc.Dataset(jsonld=document)  # raises ValidationError on any error


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_every_vendored_example_imports_and_exports(
    path: Path, hub: FileServer, env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_repo(hub, "ylecun/mnist", mnist_like_repo())
    serve_repo(hub, "guymorlan/levanti", {"levanti_v1.csv": b"a,b\n1,2\n"})
    code = main(["-q", "import", "croissant", str(path), "--id", "test.imported",
                 "--out", str(env.catalog)])
    err = capsys.readouterr().err
    expected = UNSUPPORTED.get(path.parent.name)
    if expected:
        assert code == 1 and expected in err and len(err.strip().splitlines()) == 1, err
        return
    assert code == 0, err
    written = env.catalog / "test" / "imported.yaml"
    assert yaml.safe_load(written.read_text())["resources"]
    assert main(["info", "test.imported"]) == 0  # the catalogue reads and validates it
    assert main(["export", "croissant", "test.imported", "--out", str(env.catalog / "x.json")]) == 0
    _validate(json.loads((env.catalog / "x.json").read_text()))


@pytest.mark.slow
def test_every_bundled_dataset_exports_valid_croissant() -> None:
    from dmconf.catalog import Catalog
    from dmconf.croissant.writer import to_croissant

    catalog = Catalog.from_settings()
    assert len(catalog.ids()) > 40
    for dataset_id in catalog.ids():
        document = to_croissant(catalog.find(dataset_id))
        assert document["conformsTo"] == "http://mlcommons.org/croissant/1.1"
        assert all(d.get("sha256") for d in document["distribution"]
                   if d["@type"] == "cr:FileObject")
        _validate(document)


def _serve_titanic(server: FileServer) -> str:
    folder = CROISSANT / "1.0" / "titanic"
    for file in [folder / "metadata.json", *sorted((folder / "data").iterdir())]:
        server.files[f"titanic/{file.relative_to(folder).as_posix()}"] = file.read_bytes()
    return server.url("titanic/metadata.json")


def test_imported_croissant_prepares_from_loopback_and_loads_typed(
    env: Env, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _serve_titanic(server)
    assert main(["-q", "import", "croissant", url]) == 0
    assert "id: org.openml.titanic\n" in capsys.readouterr().out  # from homepage and name
    dataset_id = "test.titanic"  # the bundled catalogue has org.openml.titanic
    assert main(["-q", "import", "croissant", url, "--id", dataset_id,
                 "--out", str(env.catalog)]) == 0
    text = (env.catalog / "test" / "titanic.yaml").read_text()
    assert "sha256: c617db2c7470716250f6f001be51304c76bcc8815527ab8bae734bdca0735737" in text
    from dmconf import prepare_dataset

    ds = prepare_dataset(dataset_id)
    passengers = list(ds.passengers.records())
    assert len(passengers) == 1309
    assert passengers[0]["survived"] in (0, 1) and isinstance(passengers[0]["pclass"], int)
    assert {r["label"] for r in ds.genders.records()} == {"male", "female"}
    assert server.requests_for("titanic/data/titanic.csv")


def test_croissant_url_in_a_definition_resolves_at_prepare(
    env: Env, server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _serve_titanic(server)
    env.define("test.titanic", f"name: Titanic by reference\ncroissant: {url}\n")
    from dmconf import prepare_dataset

    ds = prepare_dataset("test.titanic")
    assert len(list(ds.passengers.records())) == 1309
    assert main(["verify", "test.titanic"]) == 0  # the resources the metadata lists
    from dmconf.api import find
    from dmconf.preparation import resolve_definition
    from dmconf.xpm import content_digest

    resolved = resolve_definition("test.titanic")  # experimaestro identities: the files' sha256
    assert len(resolved.resources) == 3
    assert content_digest(find("test.titanic")) == resolved.content_digest()
    server.reset()
    monkeypatch.setenv("DMCONF_OFFLINE", "1")  # prepared: the cached metadata is enough
    assert len(list(prepare_dataset("test.titanic").genders.records())) == 2
    import dmconf
    from dmconf.hydra.node import definition_node

    node = definition_node(dmconf.find("test.titanic"))  # as a Hydra app's cfg.dataset holds it
    assert node["resources"]["passengers.csv"]["sha256"].startswith("c617db2c")  # --cfg job
    assert len(list(dmconf.load(node).embarkation_ports.records())) == 4
    assert len(list(dmconf.load({"id": "test.titanic", "croissant": url}).genders.records())) == 2
    assert not server.log


def test_hf_import_prepares_from_loopback_hub_as_parquet_tables(
    hub: FileServer, env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = serve_repo(hub, "someone/digits", mnist_like_repo())
    assert main(["-q", "import", "hf", "someone/digits", "--out", str(env.catalog)]) == 0
    definition = yaml.safe_load(
        (env.catalog / "co" / "huggingface" / "someone" / "digits.yaml").read_text())
    resource = definition["resources"]["mnist_train-00000-of-00001.parquet"]
    assert resource["revision"] == repo.commit and len(resource["sha256"]) == 64
    from dmconf import prepare_dataset

    ds = prepare_dataset("co.huggingface.someone.digits")
    assert [r["label"] for r in ds.train.records()] == [0, 1, 2, 3, 4, 5]
    assert len(ds.test) == 3 and ds.test.to_arrow().num_rows == 3
    resolved = hub.requests_for(
        f"datasets/someone/digits/resolve/{repo.commit}/mnist/test-00000-of-00001.parquet")
    assert len(resolved) == 1 and "Authorization" not in resolved[0].headers


def test_hf_croissant_example_imports_through_the_tree_api(
    hub: FileServer, env: Env) -> None:
    repo = serve_repo(hub, "ylecun/mnist", mnist_like_repo())
    path = CROISSANT / "1.1" / "huggingface-mnist-from-main-branch" / "metadata.json"
    assert main(["-q", "import", "croissant", str(path), "--id", "test.hfmnist",
                 "--out", str(env.catalog)]) == 0
    from dmconf import prepare_dataset

    ds = prepare_dataset("test.hfmnist")
    labels = sorted(r["label"] for r in ds.default.records())
    assert labels == [0, 1, 2, 3, 4, 5, 7, 8, 9]
    assert next(ds.default.records())["image"] == b"\x89PNG fake"
    assert hub.requests_for(f"api/datasets/ylecun/mnist/tree/{repo.commit}")


def test_hf_token_from_env_then_file(hub: FileServer, env: Env, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from dmconf.huggingface.hub import token

    assert token() is None
    (tmp_path / "hf-home").mkdir()
    (tmp_path / "hf-home" / "token").write_text("hf_file\n")
    assert token() == "hf_file"
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "elsewhere"))
    (tmp_path / "elsewhere").write_text("hf_path")
    assert token() == "hf_path"
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "hf_old_env")
    assert token() == "hf_old_env"
    monkeypatch.setenv("HF_TOKEN", "hf_env")
    assert token() == "hf_env"
    repo = serve_repo(hub, "someone/private", {"data/train.csv": b"a\n1\n"})
    assert main(["-q", "import", "hf", "someone/private", "--out", str(env.catalog)]) == 0
    from dmconf import prepare_dataset

    prepare_dataset("co.huggingface.someone.private")
    got = hub.requests_for(f"datasets/someone/private/resolve/{repo.commit}/data/train.csv")
    assert got[0].headers["Authorization"] == "Bearer hf_env"


def test_gated_repo_without_token_is_one_line(
    hub: FileServer, env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    from httpserver import Fault

    repo = serve_repo(hub, "someone/gated", {"data/train.csv": b"a\n1\n"})
    assert main(["-q", "import", "hf", "someone/gated", "--out", str(env.catalog)]) == 0
    capsys.readouterr()
    hub.faults[f"datasets/someone/gated/resolve/{repo.commit}/data/train.csv"] = Fault(
        status=401, headers={"X-Error-Code": "GatedRepo"})
    assert main(["-q", "prepare", "co.huggingface.someone.gated"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    page = f"{hub.url('').rstrip('/')}/datasets/someone/gated"
    assert "gated" in err and page in err and "HF_TOKEN" in err


def test_wrong_bytes_from_the_hub_are_refused(hub: FileServer, env: Env,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from httpserver import Fault

    repo = serve_repo(hub, "someone/changed", {"data/train.parquet": parquet_bytes({"a": [1]})})
    assert main(["-q", "import", "hf", "someone/changed", "--out", str(env.catalog)]) == 0
    hub.faults[f"datasets/someone/changed/resolve/{repo.commit}/data/train.parquet"] = Fault(
        body=parquet_bytes({"a": [2]}))
    assert main(["-q", "prepare", "co.huggingface.someone.changed"]) == 1
    assert "sha256" in capsys.readouterr().err


def test_hostile_tree_paths_are_refused(hub: FileServer, env: Env,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    repo = serve_repo(hub, "someone/evil", {"data/x.csv": b"a\n"})
    hub.files[f"api/datasets/someone/evil/tree/{repo.commit}"] = json.dumps(
        [{"type": "file", "path": "../../etc/passwd.csv", "size": 1}]).encode()
    assert main(["-q", "import", "hf", "someone/evil"]) == 1
    assert "not a plain path" in capsys.readouterr().err


def test_revision_must_be_a_commit_and_only_for_hf(env: Env) -> None:
    from dmconf.definition import Resource
    from dmconf.errors import DefinitionError

    good = Resource(url="hf://datasets/a/b/x.csv", revision="0" * 40)
    assert good.urls[0] == f"hf://datasets/a/b@{'0' * 40}/x.csv"
    for bad in ({"url": "hf://datasets/a/b/x.csv", "revision": "main"},
                {"url": "https://example.org/x", "revision": "0" * 40}):
        with pytest.raises(ValueError):
            Resource(**bad)
    from dmconf.huggingface.hub import parse_hf_url

    for url in ("hf://datasets/a/b/../x", "hf://datasets/a/../b/x", "hf://models/a/b/x"):
        with pytest.raises(DefinitionError):
            parse_hf_url(url)


def test_live_croissant_is_marked_unpinned(env: Env, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    source = json.loads((CROISSANT / "1.0" / "simple-parquet" / "metadata.json").read_text())
    source["isLiveDataset"] = True
    folder = tmp_path / "live"
    shutil.copytree(CROISSANT / "1.0" / "simple-parquet" / "data", folder / "data")
    (folder / "metadata.json").write_text(json.dumps(source))
    assert main(["import", "croissant", str(folder / "metadata.json"), "--id", "t.live"]) == 0
    out, err = capsys.readouterr()
    assert "# UNPINNED" in out and "isLiveDataset" in out and "unpinned" in err
    definition = yaml.safe_load(out)
    assert "sha256" not in definition["resources"]["dataframe"]


def test_token_never_follows_a_redirect_off_the_hub(
    hub: FileServer, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from httpserver import Fault

    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    data = parquet_bytes({"a": [1, 2]})
    repo = serve_repo(hub, "someone/cdn", {"data/train.parquet": data})
    assert main(["-q", "import", "hf", "someone/cdn", "--out", str(env.catalog)]) == 0
    hub.files["cdn/blob"] = data  # the hub's storage, on another host name
    storage = f"http://localhost:{hub.port}/cdn/blob"
    hub.faults[f"datasets/someone/cdn/resolve/{repo.commit}/data/train.parquet"] = Fault(
        status=302, headers={"Location": storage})
    from dmconf import prepare_dataset

    assert len(prepare_dataset("co.huggingface.someone.cdn").train) == 2
    resolve = hub.requests_for(f"datasets/someone/cdn/resolve/{repo.commit}/data/train.parquet")
    assert resolve[0].headers["Authorization"] == "Bearer hf_secret"
    blob = hub.requests_for("cdn/blob")
    assert blob and all("Authorization" not in r.headers for r in blob)


def test_hub_download_cut_midway_resumes(hub: FileServer, env: Env) -> None:
    import random

    from httpserver import Fault

    noise = random.Random(16)  # incompressible, > 1 MiB: the cut falls after a whole chunk
    data = parquet_bytes({"a": [noise.randbytes(1000) for _ in range(3000)]})
    repo = serve_repo(hub, "someone/big", {"data/train.parquet": data})
    assert main(["-q", "import", "hf", "someone/big", "--out", str(env.catalog)]) == 0
    path = f"datasets/someone/big/resolve/{repo.commit}/data/train.parquet"
    hub.faults[path] = Fault(cut_after=2 << 20, times=1)
    from dmconf import prepare_dataset

    assert len(prepare_dataset("co.huggingface.someone.big").train) == 3000
    first, second = hub.requests_for(path)
    assert second.headers["Range"] == f"bytes={2 << 20}-"
    assert first.sent + second.sent == len(data)


def test_metadata_from_the_network_may_not_name_local_files(
    env: Env, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads((CROISSANT / "1.0" / "simple-parquet" / "metadata.json").read_text())
    document["distribution"][0]["contentUrl"] = "file:///etc/passwd"
    server.files["evil/metadata.json"] = json.dumps(document).encode()
    assert main(["-q", "import", "croissant", server.url("evil/metadata.json")]) == 1
    err = capsys.readouterr().err
    assert "may not name local files" in err and len(err.strip().splitlines()) == 1


def test_import_never_replaces_a_definition_silently(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    path = CROISSANT / "1.0" / "simple-parquet" / "metadata.json"
    args = ["-q", "import", "croissant", str(path), "--id", "t.simple", "--out", str(env.catalog)]
    assert main(args) == 0
    assert main(args) == 1 and "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_offline_croissant_reference_not_cached_is_one_line(
    env: Env, server: FileServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _serve_titanic(server)
    env.define("test.titanic", f"croissant: {url}\n")
    monkeypatch.setenv("DMCONF_OFFLINE", "1")
    assert main(["-q", "prepare", "test.titanic"]) == 1
    err = capsys.readouterr().err
    assert "not cached" in err and "DMCONF_OFFLINE" in err and not server.log


def test_a_python_definition_exports_valid_croissant(env: Env) -> None:
    from dmconf.croissant.writer import to_croissant
    from dmconf.data.tensor import IDX
    from dmconf.definitions import dataset
    from dmconf.download.single import filedownloader

    @filedownloader("labels.idx", "http://127.0.0.1:1/labels.gz")
    @dataset(IDX, id="org.example.python")
    def python(labels):
        return IDX(path=labels)

    document = to_croissant(python.definition())
    assert document["distribution"][0]["contentUrl"] == "http://127.0.0.1:1/labels.gz"
    assert document["isLiveDataset"] is True  # no sha256: Croissant's way to say unpinned
    _validate(document)


def test_file_set_inside_an_archive_prepares_and_reads_its_members(
    env: Env, server: FileServer
) -> None:
    import hashlib
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("scores/train.csv", "name,score\na,1\nb,2\n")
        archive.writestr("scores/test.csv", "name,score\nc,3\n")
        archive.writestr("README.txt", "not a record\n")
    data = buffer.getvalue()
    server.files["zipped/scores.zip"] = data
    field = {"@type": "cr:Field", "dataType": "sc:Integer", "name": "scores/score",
             "source": {"fileSet": {"@id": "csvs"}, "extract": {"column": "score"}}}
    split = {"@type": "cr:Field", "dataType": "sc:Text", "name": "scores/split",
             "source": {"fileSet": {"@id": "csvs"}, "extract": {"fileProperty": "filename"},
                        "transform": {"regex": "^(train|test)\\.csv$"}}}
    document = {
        "@context": {"@vocab": "https://schema.org/", "cr": "http://mlcommons.org/croissant/"},
        "@type": "sc:Dataset", "name": "scores", "license": "cc-by-4.0",
        "distribution": [
            {"@type": "cr:FileObject", "@id": "archive", "name": "archive",
             "contentUrl": "scores.zip", "encodingFormat": "application/zip",
             "sha256": hashlib.sha256(data).hexdigest(), "contentSize": f"{len(data)} B"},
            {"@type": "cr:FileSet", "@id": "csvs", "name": "csvs",
             "containedIn": {"@id": "archive"}, "includes": "scores/*.csv",
             "encodingFormat": "text/csv"},
        ],
        "recordSet": [{"@type": "cr:RecordSet", "@id": "scores", "name": "scores",
                       "field": [field, split]}],
    }
    server.files["zipped/metadata.json"] = json.dumps(document).encode()
    url = server.url("zipped/metadata.json")
    assert main(["-q", "import", "croissant", url, "--id", "t.scores",
                 "--out", str(env.catalog)]) == 0
    from dmconf import prepare_dataset

    ds = prepare_dataset("t.scores")
    assert sorted((r["split"], r["score"]) for r in ds.scores.records()) == [
        ("test", 3), ("train", 1), ("train", 2)]
    assert [p.name for p in ds.files.csvs.files()] == ["test.csv", "train.csv"]


def test_croissant_reference_to_a_hub_dataset_lists_it_once(
    hub: FileServer, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = serve_repo(hub, "ylecun/mnist", mnist_like_repo())
    path = CROISSANT / "1.1" / "huggingface-mnist-from-main-branch" / "metadata.json"
    hub.files["hf-croissant/metadata.json"] = path.read_bytes()
    env.define("test.hubref", f"croissant: {hub.url('hf-croissant/metadata.json')}\n")
    from dmconf import find, prepare_dataset

    assert len(list(prepare_dataset("test.hubref").default.records())) == 9
    resources = find("test.hubref").resources.values()
    assert {r.revision for r in resources} == {repo.commit}  # `main` pinned at first read
    hub.reset()
    monkeypatch.setenv("DMCONF_OFFLINE", "1")  # neither the metadata nor the tree again
    assert len(prepare_dataset("test.hubref").files.parquet_files) == 9
    assert not hub.log
