"""The real datamaestro plugins, from the package index, ported with ``dmconf port``.

Pinned releases of datamaestro-image, -text, -ml and -ir are downloaded with pip, ported,
installed into a temporary folder (``--no-deps``: their own dependencies, such as ir_datasets,
are not installed), and checked against the ids datamaestro itself lists for them
(``tests/data/datamaestro_ids.txt``). Then one real definition per downloader kind that dmconf
fetches is prepared, its URLs mapped by the settings' ``mirrors:`` to the loopback server.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest
from httpserver import FileServer
from mnistdata import MnistFiles
from realplugins import run_ok as _run
from test_plugins import install_fake_distribution

# One worker runs this file: its fixtures are built once, not once per worker.
pytestmark = pytest.mark.xdist_group("real-plugins")

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


def _env(site: Path, tmp_path: Path, mirrors: dict[str, str] | None = None,
         accepted: tuple[str, ...] = ()) -> dict[str, str]:
    settings = tmp_path / "settings.yaml"
    settings.write_text(json.dumps(
        {"mirrors": mirrors or {}, "progress": False, "accepted": list(accepted)}))
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
        from dmconf.data.ir import Queries  # the ported TrecTopics is dmconf's Queries
        assert isinstance(topics, Queries), type(topics).__mro__
        assert "overcrowded prisons" in topics.lookup()["151"]["text"], topics.lookup()
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


def _prepare_in_plugins(plugins: Path, tmp_path: Path, mirrors: dict[str, str],
                        script: str, accepted: tuple[str, ...] = ()) -> list[str]:
    """Run ``script`` in the plugins' environment, the settings mapping ``mirrors`` (and
    accepting the terms of the ``accepted`` ids)."""
    result = _run([sys.executable, "-c", textwrap.dedent(script)],
                  _env(plugins, tmp_path, mirrors, accepted))
    return result.stdout.split()


def _tipster(doc_id: str) -> bytes:
    return (f"<DOC>\n<DOCNO> {doc_id} </DOCNO>\n<TEXT>\nNews of {doc_id}.\n</TEXT>\n</DOC>\n"
            .encode())


TREC4_DISKS = {  # the TIPSTER folders of TREC-4's documents (gov.nist.trec.tipster.*)
    "Disk2/AP": "AP880212", "Disk1/AP": "AP890101", "Disk3/AP": "AP900101",
    "Disk2/FR": "FR880101", "Disk3/SJM": "SJM910101", "Disk2/WSJ/1990": "WSJ900101",
    "Disk2/WSJ/1991": "WSJ910101", "Disk2/WSJ/1992": "WSJ920101", "Disk2/ZIFF": "ZF207",
    "Disk3/ZIFF": "ZF307",
}


@pytest.mark.slow
def test_reference_links_linkfolder_and_concatdownload_of_the_real_trec_4(
    plugins: Path, tmp_path: Path, server: FileServer
) -> None:
    # gov.nist.trec.adhoc.4: reference()s to .4.documents (links of ten TIPSTER linkfolders,
    # the user's licensed copy as tar archives), .4.topics (FileDownloader) and .4.assessments
    # (ConcatDownloader of a tar.gz of qrels parts, each .gz part decompressed as datamaestro
    # does). Every URL is the real one, mapped by mirrors: to the loopback server.
    for folder, name in TREC4_DISKS.items():
        server.files[f"tipster/{folder}"] = _tar_gz({f"{folder.rsplit('/', 1)[-1]}/{name}":
                                                     _tipster(f"{name}-0001")})
    server.files["topics/topics.201-250.gz"] = gzip.compress(TOPICS.replace(b"151", b"201"))
    server.files["qrels/qrels.201-250.disk2.disk3.parts1-5.tar.gz"] = _tar_gz({
        "qrels.201-250.part1.gz": gzip.compress(b"201 0 AP880212-0001 1\n"),
        "qrels.201-250.part2": b"201 0 WSJ900101-0001 0\n202 0 FR880101-0001 1\n",
    })
    out = _prepare_in_plugins(plugins, tmp_path, {
        "datamaestro://datafolder/gov.nist.trec.tipster/": server.url("tipster/"),
        "http://trec.nist.gov/data/topics_eng/": server.url("topics/"),
        "http://trec.nist.gov/data/qrels_eng/": server.url("qrels/")}, """
        import json, dmconf
        from dmconf.data.ir import Qrels, Queries
        trec4 = dmconf.prepare("gov.nist.trec.adhoc.4")
        print(type(trec4).__name__, isinstance(trec4.assessments, Qrels),
              isinstance(trec4.topics, Queries), *trec4.topics.lookup())
        print(json.dumps(trec4.assessments.lookup(), sort_keys=True, separators=(",", ":")))
        print(*sorted(doc["id"] for doc in trec4.documents.iter()))
    """)
    assert out[:5] == ["Adhoc", "True", "True", "201", json.dumps(
        {"201": {"AP880212-0001": 1, "WSJ900101-0001": 0}, "202": {"FR880101-0001": 1}},
        sort_keys=True, separators=(",", ":"))]
    assert out[5:] == sorted(f"{name}-0001" for name in TREC4_DISKS.values())


@pytest.mark.slow
def test_line_transforms_of_the_real_trec_1_topics_and_trec_3_assessments(
    plugins: Path, tmp_path: Path, server: FileServer
) -> None:
    # gov.nist.trec.adhoc.1.topics: FileDownloader with Gunzip() then Replace(r"Number:(\s+)0",
    # r"Number: \1") (TREC-1 topic numbers are written 051); .3.assessments: ConcatDownloader
    # with Gunzip() then Filter(r"^(1\d\d|200)\s") (the archive also judges topics 201-250).
    # Both are `lines` steps now, no placeholder: their real URLs are mapped to the server.
    server.files["topics/topics.51-100.gz"] = gzip.compress(
        TOPICS.replace(b"Number: 151", b"Number: 051"))
    server.files["qrels/qrels.151-200.201-250.disks1-3.all.tar.gz"] = _tar_gz({
        "qrels.151-200.gz": gzip.compress(b"151 0 AP880212-0001 1\n200 0 FR880101-0001 0\n"),
        "qrels.201-250": b"201 0 WSJ900101-0001 1\n",
    })
    out = _prepare_in_plugins(plugins, tmp_path, {
        "http://trec.nist.gov/data/topics_eng/": server.url("topics/"),
        "http://trec.nist.gov/data/qrels_eng/": server.url("qrels/")}, """
        import json, dmconf
        from dmconf.data.ir import Qrels, Queries
        for dataset_id in ("gov.nist.trec.adhoc.1.topics", "gov.nist.trec.adhoc.3.assessments"):
            print(dmconf.find(dataset_id).resources.popitem()[1].url.split(":")[0])
        topics = dmconf.prepare("gov.nist.trec.adhoc.1.topics")
        found = topics.lookup()
        print(isinstance(topics, Queries), *found, "overcrowding." in found["51"]["text"])
        qrels = dmconf.prepare("gov.nist.trec.adhoc.3.assessments")
        print(isinstance(qrels, Qrels), json.dumps(qrels.lookup(), sort_keys=True,
                                                   separators=(",", ":")))
    """)
    assert out[:5] == ["http", "http", "True", "51", "True"]  # "051" without the Replace
    assert out[5:] == ["True", json.dumps({"151": {"AP880212-0001": 1}, "200": {
        "FR880101-0001": 0}}, sort_keys=True, separators=(",", ":"))]


@pytest.mark.slow
def test_hf_download_fetches_the_hub_file_through_dmconfs_hf_urls(
    plugins: Path, tmp_path: Path, server: FileServer
) -> None:
    # co.huggingface.datasets.sentence-transformers.msmarco-hard-negatives.ensemble:
    # hf_download of one data file, fetched as hf://datasets/... from the hub's resolve path
    # (HF_ENDPOINT: the loopback server as the hub), decompressed, its rows read through the
    # plugin's type (its iter() builds PairwiseSample(a, b, c), a keyword-only attrs class:
    # it fails the same way in datamaestro, a bug of datamaestro-ir 0.5.0).
    repo = "sentence-transformers/msmarco-hard-negatives"
    rows = [{"qid": 7, "pos": [12], "neg": {"bm25": [3, 4]}},
            {"qid": 8, "pos": [13], "neg": {"bm25": [5]}}]
    server.files[f"datasets/{repo}/resolve/main/msmarco-hard-negatives-msmarco.jsonl.gz"] = (
        gzip.compress("".join(json.dumps(row) + "\n" for row in rows).encode()))
    env = _env(plugins, tmp_path)
    env["HF_ENDPOINT"] = server.url("").rstrip("/")
    script = textwrap.dedent("""
        import dmconf
        hard = dmconf.prepare(
            "co.huggingface.datasets.sentence-transformers.msmarco-hard-negatives.ensemble")
        rows = list(hard.data)
        print(type(hard).__name__, hard.local_path.name, len(rows), rows[1][hard.query_id],
              rows[0][hard.neg_id]["bm25"], rows == list(hard.data))
    """)
    out = _run([sys.executable, "-c", script], env).stdout.split()
    assert out == ["HuggingFacePairwiseSampleDataset", "dataset", "2", "8", "[3,", "4]", "True"]
    assert {r.path for r in server.log} == {
        f"/datasets/{repo}/resolve/main/msmarco-hard-negatives-msmarco.jsonl.gz"}


@pytest.mark.slow
def test_ported_trec_types_are_the_catalogues_ir_types(plugins: Path, tmp_path: Path) -> None:
    # com.microsoft.msmarco.passage.trec2019.test.qrels, a datamaestro-text definition: its
    # TrecAdhocAssessments is dmconf's Qrels (the catalogue's methods) and still the plugin's.
    # (Its download has a published md5: the object is built over a file written here.)
    out = _prepare_in_plugins(plugins, tmp_path, {}, """
        import os, pathlib, dmconf
        from dmconf.data import ir
        from dmconf.preparation import build_object
        from dmconf_text.data.ir import AdhocAssessments
        definition = dmconf.find("com.microsoft.msmarco.passage.trec2019.test.qrels")
        qrels = build_object(definition, pathlib.Path(os.environ["DMCONF_DATA"], "by-hand"))
        qrels.path.parent.mkdir(parents=True)
        qrels.path.write_text("19335 0 1017759 0\\n19335 0 1082489 3\\n")
        catalogue = ir.Qrels(path=qrels.path)
        print(type(qrels).__module__, isinstance(qrels, ir.Qrels),
              isinstance(qrels, AdhocAssessments), type(qrels).lookup is ir.Qrels.lookup,
              qrels.lookup() == catalogue.lookup() == {"19335": {"1017759": 0, "1082489": 3}},
              list(qrels.iter()) == list(catalogue.iter()))
    """)
    assert out == ["dmconf_text.data.ir.trec", "True", "True", "True", "True", "True"]


def _parquet(rows: list[dict[str, str]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


def _jsonl(rows: list[dict[str, str]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


@pytest.mark.slow
def test_resources_built_by_the_plugins_code(
    plugins: Path, tmp_path: Path, server: FileServer
) -> None:
    # The plugins' own code builds these, once their inputs are prepared (a `build:` entry):
    # - docstore_builder (datamaestro-ir): ai.lighton.beir_decontaminated.arguana.documents, an
    #   impact_index store from a Parquet corpus (first without impact_index: the error names
    #   the pip command, nothing is kept, the next prepare builds it);
    # - docstore_builder, FilesCopy and beir_judged_qids: org.beir.scifact.test, whose
    #   collection (org.beir.scifact.collection) unpacks the BEIR zip, builds its store, copies
    #   the queries and qrels out and writes the judged query ids its topics are filtered by.
    server.files["lighton/corpus.parquet"] = _parquet([
        {"_id": "a1", "title": "Argument", "text": "Cats are better."},
        {"_id": "a2", "title": "Counter", "text": "Dogs are better."}])
    server.files["beir/scifact.zip"] = _zip({
        "scifact/corpus.jsonl": _jsonl([{"_id": "4983", "title": "Microstructural", "text": "..."},
                                        {"_id": "5836", "title": "Induction", "text": "Cells."}]),
        "scifact/queries.jsonl": _jsonl([{"_id": "1", "text": "0-dimensional biomaterials"},
                                         {"_id": "3", "text": "1 in 5 million"},
                                         {"_id": "5", "text": "never judged in test"}]),
        "scifact/qrels/train.tsv": b"query-id\tcorpus-id\tscore\n5\t4983\t1\n",
        "scifact/qrels/test.tsv": b"query-id\tcorpus-id\tscore\n1\t4983\t1\n3\t5836\t1\n",
    })
    out = _prepare_in_plugins(plugins, tmp_path, {
        "https://huggingface.co/datasets/lightonai/arguana-decontaminated/resolve/main/":
            server.url("lighton/"),
        "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/": server.url("beir/"),
        }, """
        import os, sys, dmconf
        from dmconf.errors import StepFailed
        from dmconf.settings import load_settings
        lighton = "ai.lighton.beir_decontaminated.arguana.documents"
        print(*(r.build.code.rsplit(":")[1] for r in dmconf.find(lighton).resources.values()
                if r.build))
        folder = load_settings().dataset_folder(dmconf.find(lighton))
        sys.modules["impact_index"] = None  # as if it were not installed
        try:
            dmconf.prepare(lighton)
        except StepFailed as exc:
            print(exc.dataset == lighton, exc.resource, "`pip install impact-index`" in str(exc),
                  ",".join(sorted(n for n in os.listdir(folder) if not n.endswith(".lock")
                                  and not n.startswith(".dmconf-"))))
        del sys.modules["impact_index"]
        docs = dmconf.prepare(lighton)
        print(",".join(d["id"] for d in docs.iter()), docs.document_ext("a2")["text_item"].title)
        scifact = dmconf.prepare("org.beir.scifact.test")
        print(scifact.documents.document_ext("5836")["text_item"].body,
              ",".join(sorted(t["id"] for t in scifact.topics.iter())),
              ",".join(sorted(a.topic_id for a in scifact.assessments.iter())))
    """)
    assert out == ["docstore_builder", "True", "STORE", "True", "corpus.parquet",  # no STORE
                   "a1,a2", "Counter",  # the store built by impact_index, read by the plugin
                   "Cells.", "1,3", "1,3"]  # query 5 is judged in train only: filtered out
    assert {r.path for r in server.log} == {"/lighton/corpus.parquet", "/beir/scifact.zip"}


# A plugin of the test's (ported like a user's) using datamaestro-text's real
# lz4docstore_downloader, reader and store type: the real id pins ORConvQA's md5, which a
# generated file cannot match; this one pins the generated file's md5.
ORCONVQA = '''
from dmconf.compat.datamaestro.definitions import Dataset, dataset
from dmconf.compat.datamaestro.utils import HashCheck
from dmconf_text.config.com.github.prdwb.orconvqa import orConvQADocumentReader
from dmconf_text.data.ir.stores import OrConvQADocumentStore
from dmconf_text.datasets.irds.helpers import lz4docstore_downloader


@dataset(url="https://github.com/prdwb/orconvqa-release")
class Passages(Dataset):
    """orConvQA's passages, the real downloader on a generated file"""

    ALL_BLOCKS = lz4docstore_downloader(
        "all_blocks", "https://ciir.cs.umass.edu/downloads/ORConvQA/all_blocks.txt.gz",
        orConvQADocumentReader, OrConvQADocumentStore.NAMED_TUPLE, "id",
        checker=HashCheck("MD5"), size=SIZE, count_hint=2)

    def config(self) -> OrConvQADocumentStore:
        return OrConvQADocumentStore.C(path=self.ALL_BLOCKS.path, count=2)
'''


def _orconvqa_plugin(site: Path, blocks: bytes) -> None:
    """ORCONVQA as the installed plugin ``dmconf-orcheck`` (one entry point)."""
    import hashlib

    module = site / "dmconf_orcheck" / "config" / "org" / "example"
    module.mkdir(parents=True)
    for init in (site / "dmconf_orcheck", site / "dmconf_orcheck" / "config"):
        (init / "__init__.py").write_text("")
    (module / "orconvqa.py").write_text(ORCONVQA.replace("MD5", hashlib.md5(blocks).hexdigest())
                                        .replace("SIZE", str(len(blocks))))
    install_fake_distribution(site, "dmconf_orcheck",
                              "[dmconf.repositories]\norcheck = dmconf_orcheck.config\n",
                              distribution="dmconf-orcheck")


@pytest.mark.slow
def test_context_download_and_wayback_of_the_real_orconvqa_and_qrecc(
    plugins: Path, tmp_path: Path, server: FileServer
) -> None:
    # lz4docstore_downloader (datamaestro-text) fetches its URL through datamaestro's
    # context.downloadURL, which is dmconf's fetcher: the real com.github.prdwb.orconvqa.passages
    # maps it to the loopback server and is refused by its md5 pin (the error names the dataset
    # and URL, nothing is left); the same class, reader and store type with the generated
    # file's md5 (org.example.orconvqa.passages) builds ir_datasets' PickleLz4FullStore.
    blocks = gzip.compress(_jsonl([
        {"id": "b1", "title": "Cats", "text": "Cats purr.", "aid": "a1", "bid": 0},
        {"id": "b2", "title": "Dogs", "text": "Dogs bark.", "aid": "a2", "bid": 1}]))
    server.files["orconvqa/all_blocks.txt.gz"] = blocks
    # com.github.apple.ml-qrecc.content (datamaestro-text) reads the URLs of the answers of
    # com.github.apple.ml-qrecc, whose zip is md5-pinned upstream: a generated zip cannot match.
    # dmconf's precedence puts the user's catalogue roots before the plugins, so this test
    # defines com.github.apple.ml-qrecc in its root (same data type, the generated zip's
    # sha256) and the REAL Content definition reads it through its reference, then asks the
    # loopback "Wayback Machine" (mirrors: for archive.org and web.archive.org) for the pages.
    entries = [{"Conversation_no": 1, "Turn_no": 1, "Conversation_source": "quac",
                "Question": "What purrs?", "Rewrite": "What purrs?", "Context": [],
                "Answer": "Cats", "Answer_URL": "https://example.org/cats#purr"},
               {"Conversation_no": 1, "Turn_no": 2, "Conversation_source": "quac",
                "Question": "And barks?", "Rewrite": "What barks?", "Context": ["What purrs?"],
                "Answer": "Dogs", "Answer_URL": "https://example.org/dogs"}]
    qrecc = _zip({"qrecc_train.json": json.dumps(entries[:1]).encode(),
                  "qrecc_test.json": json.dumps(entries[1:]).encode()})
    server.files["qrecc/qrecc_data.zip"] = qrecc
    catalog = tmp_path / "catalog"
    (catalog / "com" / "github" / "apple").mkdir(parents=True)
    (catalog / "com" / "github" / "apple" / "ml-qrecc.yaml").write_text(json.dumps({
        "name": "QReCC (the test's copy)", "description": "Generated QReCC conversations.",
        "resources": {"data": {"url": server.url("qrecc/qrecc_data.zip"), "unpack": "unzip",
                               "sha256": hashlib.sha256(qrecc).hexdigest()}},
        "type": "dmconf.compat.datamaestro.data.ml.Supervised",
        "data": {"train": {"type": "dmconf_text.data.conversation.qrecc.QReCCDataset",
                           "path": "data/qrecc_train.json"},
                 "test": {"type": "dmconf_text.data.conversation.qrecc.QReCCDataset",
                          "path": "data/qrecc_test.json"}}}))
    snapshot = "20191201000000"
    server.files[f"qrecc-wb/web/web/{snapshot}id_/https://example.org/cats"] = b"<p>Cats</p>"

    def availability(query: dict[str, list[str]]) -> bytes:
        link = query["url"][0]
        closest = {"available": True, "url": f"http://web.archive.org/web/{snapshot}/{link}",
                   "timestamp": snapshot, "status": "200"} if link.endswith("cats") else None
        return json.dumps({"url": link, "archived_snapshots": {"closest": closest} if closest
                           else {}}).encode()

    server.answers["qrecc-wb/archive/wayback/available"] = availability
    site = tmp_path / "site"
    _orconvqa_plugin(site, blocks)
    env = _env(plugins, tmp_path, {
        "https://ciir.cs.umass.edu/downloads/ORConvQA/": server.url("orconvqa/"),
        "https://archive.org/": server.url("qrecc-wb/archive/"),
        "https://web.archive.org/": server.url("qrecc-wb/web/")})
    env.update(PYTHONPATH=os.pathsep.join([str(site), env["PYTHONPATH"]]),
               DMCONF_CATALOG=str(catalog))
    out = _run([sys.executable, "-c", textwrap.dedent("""
        import json, os, dmconf
        from dmconf.errors import ChecksumMismatch, StepFailed
        from dmconf.settings import load_settings
        def left(dataset_id):
            folder = load_settings().dataset_folder(dmconf.find(dataset_id))
            return ",".join(sorted(n for n in os.listdir(folder) if not n.endswith(".lock")
                                   and not n.startswith(".dmconf-state"))) or "nothing"
        real = "com.github.prdwb.orconvqa.passages"
        try:
            dmconf.prepare(real)
        except ChecksumMismatch as exc:
            print(exc.fields["dataset"] == real, exc.fields["algorithm"],
                  exc.fields["url"].endswith("/orconvqa/all_blocks.txt.gz"), left(real))
        docs = dmconf.prepare("org.example.orconvqa.passages")
        from dmconf_text.data.ir.formats import OrConvQADocument
        found = docs.document_ext("b2")[OrConvQADocument]
        print(type(docs.store).__name__, found.title, found.body,
              left("org.example.orconvqa.passages"))
        main = dmconf.find("com.github.apple.ml-qrecc")
        print(main.source.startswith(os.environ["DMCONF_CATALOG"]))
        content = "com.github.apple.ml-qrecc.content"
        try:
            dmconf.prepare(content)
        except StepFailed as exc:
            print(exc.fields["resource"], "lz4docstore_builder" in str(exc),
                  "unexpected keyword argument 'link'" in str(exc))
        folder = load_settings().dataset_folder(dmconf.find(content))
        for line in (folder / "wayback.jsonl").read_text().splitlines():
            record = json.loads(line)
            print(record["link"], record.get("contents", record.get("available")))
        print(left(content))
    """)], env).stdout.split()
    assert out == [
        "True", "md5", "True", "nothing",  # the real pin refuses the generated file
        "PickleLz4FullStore", "Dogs", "Dogs", "bark.",  # built, read back
        "all_blocks.txt",  # the store; the download is gone
        "True",  # Main is the user root's
        # the plugin's own store code cannot read datamaestro's wayback records (below)
        "store", "True", "True",
        "https://example.org/cats", "<p>Cats</p>", "https://example.org/dogs", "False",
        "wayback.jsonl",
    ]
    asked = {r.path for r in server.log}
    assert {"/orconvqa/all_blocks.txt.gz", "/qrecc/qrecc_data.zip",
            f"/qrecc-wb/web/web/{snapshot}id_/https://example.org/cats"} <= asked
