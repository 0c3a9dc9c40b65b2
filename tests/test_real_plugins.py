"""The real datamaestro plugins, from the package index, ported with ``dmconf port``.

Pinned releases of datamaestro-image, -text, -ml and -ir are downloaded with pip, ported,
installed into a temporary folder (``--no-deps``: their own dependencies, such as ir_datasets,
are not installed), and checked against the ids datamaestro itself lists for them
(``tests/data/datamaestro_ids.txt``). Then one real definition per downloader kind that dmconf
fetches is prepared, its URLs mapped by the settings' ``mirrors:`` to the loopback server.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest
from httpserver import FileServer
from mnistdata import MnistFiles

# One worker runs this file: its fixtures are built once, not once per worker.
pytestmark = pytest.mark.xdist_group("real-plugins")

PINNED = [
    "datamaestro-image==2025.9.21.1", "datamaestro-text==2026.4.22",
    "datamaestro-ml==2021.10.5", "datamaestro-ir==0.5.0",
]
EXPECTED = [
    line.strip()
    for line in (Path(__file__).parent / "data" / "datamaestro_ids.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
ROOT = Path(__file__).resolve().parent.parent

# Runs in the plugins' environment: each id through `dmconf info` and `info --yaml`, the YAML
# read back into the same definition. Prints {id: error} as JSON.
CHECK = textwrap.dedent("""
    import contextlib, io, json, logging, sys
    import yaml
    from dmconf.catalog import Catalog
    from dmconf.cli import main
    from dmconf.definition import DatasetDefinition
    catalog, failed = Catalog.from_settings(), {}
    for dataset_id in sys.stdin.read().split():
        outputs = []
        for extra in ([], ["--yaml"]):
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["info", dataset_id, *extra])
            outputs.append(out.getvalue())
            if code:
                failed[dataset_id] = err.getvalue().strip().splitlines()[-1]
                break
        else:
            raw = yaml.safe_load(outputs[1])
            again = DatasetDefinition.from_mapping(raw, dataset_id=dataset_id)
            if again.model_dump() != catalog.find(dataset_id).model_dump():
                failed[dataset_id] = "the --yaml output does not give the definition back"
    print(json.dumps(failed))
""")


def _run(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, env=env, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{args}: {result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four plugins, ported and installed into one folder for PYTHONPATH."""
    base = tmp_path_factory.mktemp("real-plugins")
    env = dict(os.environ)
    _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(base / "dl"),
          *PINNED], env)
    dmconf_cli = str(Path(sys.executable).with_name("dmconf"))
    for archive in sorted((base / "dl").iterdir()):
        _run([dmconf_cli, "port", str(archive), "--out", str(base / "ported")], env)
    projects = sorted(str(p) for p in (base / "ported").iterdir())
    assert len(projects) == 4
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
          "--target", str(base / "site"), *projects], env)
    return base / "site"


def _env(site: Path, tmp_path: Path, mirrors: dict[str, str] | None = None) -> dict[str, str]:
    settings = tmp_path / "settings.yaml"
    settings.write_text(json.dumps({"mirrors": mirrors or {}, "progress": False}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMCONF_")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]), DMCONF_DATA=str(tmp_path / "data"),
        DMCONF_CACHE=str(tmp_path / "cache"), DMCONF_SETTINGS=str(settings),
    )
    return env


@pytest.mark.slow
def test_at_least_95_percent_of_their_ids_are_listed_and_described(plugins, tmp_path) -> None:
    env = _env(plugins, tmp_path)
    dmconf_cli = str(Path(sys.executable).with_name("dmconf"))
    listed = set(_run([dmconf_cli, "list"], env).stdout.split())
    missing = sorted(set(EXPECTED) - listed)
    assert len(missing) <= 0.05 * len(EXPECTED), missing
    found = "\n".join(sorted(set(EXPECTED) & listed))
    checked = _run([sys.executable, "-c", CHECK], env, input=found)
    failed = json.loads(checked.stdout.strip().splitlines()[-1])
    passing = len(set(EXPECTED) & listed) - len(failed)
    print(f"{len(listed & set(EXPECTED))}/{len(EXPECTED)} listed, {passing} described")
    for dataset_id, reason in sorted(failed.items()):
        print(f"  {dataset_id}: {reason}")
    assert passing >= 0.95 * len(EXPECTED), failed
    # The plugin's definition of com.lecun.mnist hides the bundled one, and says so.
    info = _run([dmconf_cli, "info", "com.lecun.mnist"], env).stdout
    assert "defined:   dmconf_image.config.com.lecun:mnist" in info
    assert "hides:" in info and "mnist.yaml" in info


@pytest.mark.slow
def test_one_broken_module_breaks_neither_list_nor_search_nor_hydra(plugins, tmp_path) -> None:
    broken = plugins / "dmconf_ml" / "config" / "org"
    broken.mkdir(parents=True, exist_ok=True)
    (broken / "broken_module.py").write_text("@dataset(\nclass\n")
    try:
        env = _env(plugins, tmp_path)
        dmconf_cli = str(Path(sys.executable).with_name("dmconf"))
        listing = _run([dmconf_cli, "list"], env)
        assert "edu.uci.boston" in listing.stdout.split()
        assert listing.stderr.count("broken_module.py") == 1
        assert "edu.uci.boston" in _run([dmconf_cli, "search", "boston"], env).stdout.split()
        helped = _run([sys.executable, str(ROOT / "examples" / "hydra_train.py"), "--help"], env)
        assert "edu.uci.boston" in helped.stdout
    finally:
        (broken / "broken_module.py").unlink()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


TOPICS = b"""<top>
<num> Number: 151
<title> Topic: Coping with overcrowded prisons
<desc> Description:
The document will provide information on jail and prison overcrowding.
<narr> Narrative:
A relevant document will describe scenarios.
</top>
"""


@pytest.mark.slow
def test_one_real_definition_per_downloader_kind_is_prepared(
    plugins: Path, tmp_path: Path, http: FileServer, mnist: MnistFiles
) -> None:
    http.reset()
    # FileDownloader with a Gunzip transform (class-based), gov.nist.trec.adhoc.3.topics
    http.files["trec/topics.151-200.gz"] = gzip.compress(TOPICS)
    # filedownloader as a decorator (function-based), com.lecun.mnist
    for key, data in mnist.gz.items():
        name = {"train_images": "train-images-idx3", "train_labels": "train-labels-idx1",
                "test_images": "t10k-images-idx3", "test_labels": "t10k-labels-idx1"}[key]
        http.files[f"mnist/{name}-ubyte.gz"] = data
    # TarDownloader (one top folder, unwrapped as datamaestro does), edu.stanford.aclimdb
    http.files["imdb/aclImdb_v1.tar.gz"] = _tar_gz({
        f"aclImdb/{part}/{label}/{n}_7.txt": b"A review." for part in ("train", "test")
        for label in ("pos", "neg") for n in range(3)
    })
    # ZipDownloader, edu.stanford.glove.6b
    http.files["glove/glove.6B.zip"] = _zip({"glove.6B.50d.txt": b"the 0.1 0.2\nof 0.3 0.4\n"})
    env = _env(plugins, tmp_path, {
        "http://trec.nist.gov/data/topics_eng/": http.url("trec/"),
        "https://ossci-datasets.s3.amazonaws.com/mnist/": http.url("mnist/"),
        "http://ai.stanford.edu/~amaas/data/sentiment/": http.url("imdb/"),
        "http://nlp.stanford.edu/data/": http.url("glove/"),
    })
    script = textwrap.dedent("""
        import dmconf
        topics = dmconf.prepare("gov.nist.trec.adhoc.3.topics")
        assert topics.path.read_bytes().startswith(b"<top>"), topics.path
        mnist = dmconf.prepare("com.lecun.mnist")
        assert mnist.train.images.data().shape == (60000, 28, 28)
        assert mnist.test.labels.data().shape == (10000,)
        imdb = dmconf.prepare("edu.stanford.aclimdb")
        assert sorted(p.name for p in (imdb.train.path / "pos").iterdir())[0] == "0_7.txt"
        glove = dmconf.prepare("edu.stanford.glove.6b")
        assert (glove.path / "glove.6B.50d.txt").read_text().startswith("the 0.1")
        print("prepared", type(topics).__name__, type(mnist).__name__, type(imdb).__name__,
              type(glove).__name__)
    """)
    result = _run([sys.executable, "-c", script], env)
    assert result.stdout.split() == [
        "prepared", "TrecTopics", "ImageClassification", "Supervised", "WordEmbeddingsText"
    ]
    served = {request.path for request in http.log}
    assert {"/trec/topics.151-200.gz", "/imdb/aclImdb_v1.tar.gz", "/glove/glove.6B.zip"} <= served
