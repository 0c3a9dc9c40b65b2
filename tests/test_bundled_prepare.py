"""Each data type through the real prepare path: a bundled definition, changed only in its URLs
and checksums, fetches generated files of the real format from the loopback server."""

from __future__ import annotations

import gzip
import json

import formats
import numpy as np
import pytest
import yaml
from mnistdata import idx_bytes
from resources import sha256

from dmconf import prepare_dataset
from dmconf.catalog import bundled_root

C10, _ = formats.cifar_records([(i % 10,) for i in range(4)])
WAVE = formats.wav((np.arange(160) * 50).astype(np.int16))


def _cifar10():
    files = {f"cifar-10-batches-bin/data_batch_{i}.bin": C10 for i in range(1, 6)}
    files["cifar-10-batches-bin/test_batch.bin"] = C10
    return {"archive": formats.tar_gz(files)}


def _check_cifar10(ds):
    assert ds.train.images().shape == (20, 3, 32, 32) and ds.test.labels().tolist() == [0, 1, 2, 3]


def _svhn():
    x = np.zeros((32, 32, 3, 2), dtype=np.uint8)
    return {p: formats.mat(X=x, y=np.array([[10], [3]], dtype=np.uint8)) for p in ("train", "test")}


def _eurosat():
    return {
        "archive": formats.zip_of(
            {"2750/Forest/Forest_1.jpg": formats.jpeg(), "2750/River/River_1.jpg": formats.jpeg()}
        )
    }


def _imdb():
    return {
        "data": formats.tar_gz(
            {
                f"aclImdb/{p}/{c}/0_{i}.txt": f"review {c}".encode()
                for p in ("train", "test")
                for i, c in enumerate(["neg", "pos"])
            }
        )
    }


def _sst2():
    return {
        "data": formats.zip_of(
            {
                "SST-2/train.tsv": b"sentence\tlabel\nit 's fun\t1\n",
                "SST-2/dev.tsv": b"sentence\tlabel\nboring\t0\n",
            }
        )
    }


def _snli():
    rows = formats.jsonl(formats.SNLI)
    return {
        "data": formats.zip_of(
            {f"snli_1.0/snli_1.0_{s}.jsonl": rows for s in ("train", "dev", "test")}
        )
    }


def _squad():
    return {p: json.dumps(formats.SQUAD).encode() for p in ("train", "validation")}


def _adult():
    return {
        "train": b"39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, "
        b"Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K\n",
        "test": b"|1x3 Cross validator\n25, Private, 226802, 11th, 7, Never-married, "
        b"Machine-op-inspct, Own-child, Black, Male, 0, 0, 40, ?, <=50K.\n",
    }


def _speech():
    return {
        "train": formats.tar_gz(
            {"yes/a.wav": WAVE, "no/b.wav": WAVE, "_background_noise_/noise.wav": WAVE}
        ),
        "test": formats.tar_gz({"yes/c.wav": WAVE, "_silence_/d.wav": WAVE}),
    }


def _ljspeech():
    return {
        "data": formats.tar_gz(
            {
                "LJSpeech-1.1/wavs/LJ001-0001.wav": WAVE,
                "LJSpeech-1.1/metadata.csv": b"LJ001-0001|Printing|printing\n",
            }
        )
    }


def _mnist():
    arrays = {
        "train_images": np.zeros((2, 28, 28), np.uint8),
        "train_labels": np.array([1, 2], np.uint8),
        "test_images": np.zeros((1, 28, 28), np.uint8),
        "test_labels": np.array([7], np.uint8),
    }
    return {k: gzip.compress(idx_bytes(v)) for k, v in arrays.items()}


def _conll2003():
    return {"data": formats.zip_of({f"{s}.txt": formats.CONLL for s in ("train", "valid", "test")})}


def _conll2002():
    spanish = "Melbourne B-LOC\n( O\n\nEl O\n".encode("latin-1")
    dutch = "-DOCSTART- -DOCSTART- O\nDe Art O\nbasket N O\n\nHé Int O\n".encode("latin-1")
    return {f"{lang}_{part}": spanish if lang == "esp" else dutch
            for lang in ("esp", "ned") for part in ("train", "testa", "testb")}


def _check_conll2002(ds):
    assert [s["token"] for s in ds.dutch.test.sentences()] == [["De", "basket"], ["Hé"]]
    assert next(ds.spanish.train.sentences())["ner"] == ["B-LOC", "O"]


def _pets():
    return {"images": formats.tar_gz({"images/Abyssinian_1.jpg": formats.jpeg(),
                                      "images/beagle_12.jpg": formats.jpeg()}),
            "annotations": formats.tar_gz({
                "annotations/trainval.txt": b"Abyssinian_1 1 1 1\n",
                "annotations/test.txt": b"beagle_12 2 2 1\n"})}


def _check_pets(ds):
    assert ds.images.labels() == ["Abyssinian", "beagle"]
    assert [label for _, label in ds.images.items()] == [0, 1]
    assert next(ds.test.rows())["image"] == "beagle_12"


def _gtzan():
    clip = formats.au((np.arange(300) * 40).astype(np.int16))
    return {"archive": formats.tar_gz({"genres/blues/blues.00000.au": clip,
                                       "genres/jazz/jazz.00000.au": clip})}


def _check_gtzan(ds):
    path, label = next(ds.train.items())
    data, rate = ds.train.clip(path)
    assert label == 0 and rate == 22050 and data.shape == (300, 1)


def _fsdd():
    root = "free-spoken-digit-dataset-1.0.9/recordings"
    return {"archive": formats.tar_gz({f"{root}/7_jackson_0.wav": WAVE,
                                       f"{root}/0_theo_3.wav": WAVE,
                                       "free-spoken-digit-dataset-1.0.9/README.md": b"x"})}


def _vectors(dimension):
    """A GloVe text file of two words with ``dimension`` values each."""
    return b"".join(
        word + b" " + b" ".join([b"0.25"] * dimension) + b"\n" for word in (b"the", b"cat")
    )


CASES = {
    "uk.ac.ox.robots.vgg.pets": (_pets, _check_pets),
    "ca.uvic.cs.opihi.gtzan": (_gtzan, _check_gtzan),
    "com.github.jakobovski.free-spoken-digit-dataset": (
        _fsdd, lambda ds: [(p.name, label) for p, label in ds.train.items()]
        == [("0_theo_3.wav", 0), ("7_jackson_0.wav", 7)]),
    "be.uantwerpen.clips.conll2003": (_conll2003, lambda ds: next(ds.test.sentences())["ner"]
                                      == ["B-ORG", "O", "B-MISC"]),
    "be.uantwerpen.clips.conll2002": (_conll2002, _check_conll2002),
    "com.lecun.mnist": (_mnist, lambda ds: ds.test.labels.data().tolist() == [7]),
    "edu.toronto.cs.kriz.cifar10": (_cifar10, _check_cifar10),
    "edu.stanford.ufldl.housenumbers": (
        _svhn,
        lambda ds: ds.train.labels.data().ravel().tolist() == [10, 3],
    ),
    "de.dfki.madm.eurosat": (
        _eurosat,
        lambda ds: (
            ds.train.labels() == ["Forest", "River"]
            and ds.train.image(next(ds.train.items())[0]).shape == (6, 8, 3)
        ),
    ),
    "edu.stanford.aclimdb": (
        _imdb,
        lambda ds: list(ds.test.texts()) == [("review neg", 0), ("review pos", 1)],
    ),
    "com.gluebenchmark.sst2": (_sst2, lambda ds: list(ds.train.examples()) == [("it 's fun", "1")]),
    "edu.stanford.nlp.snli": (_snli, lambda ds: len(list(ds.test.pairs())) == 2),
    "io.github.rajpurkar.squad": (_squad, lambda ds: next(ds.train.records())["id"] == "q1"),
    "edu.uci.ics.archive.adult": (
        _adult,
        lambda ds: (
            next(ds.test.records())["income"] == "<=50K" and next(ds.train.records())["age"] == 39
        ),
    ),
    "org.tensorflow.speech-commands": (
        _speech,
        lambda ds: (
            ds.train.labels() == ["no", "yes"]
            and ds.test.clip(next(ds.test.items())[0])[1] == 16000
        ),
    ),
    "com.keithito.ljspeech": (_ljspeech, lambda ds: [t for _, t in ds.items()] == ["printing"]),
    "org.beir.scifact": (
        # SciFact's zip holds train and test qrels (its definition names both): prepare checks
        # that every path of the typed object exists.
        lambda: {"data": formats.beir_zip("scifact", ("train", "test"))},
        lambda ds: (
            ds.documents.lookup()["d2"]["title"] == "Stars"
            and ds.qrels["test"].lookup()["q1"] == {"d1": 1}
        ),
    ),
    "edu.stanford.glove.6b": (
        lambda: {"archive": formats.zip_of({f"glove.6B.{d}d.txt": _vectors(d)
                                            for d in (50, 100, 200, 300)})},
        lambda ds: ds.d50.vocabulary() == ["the", "cat"]
        and ds.d300.lookup()["cat"].shape == (300,),
    ),
    "com.github.karpathy.tiny-shakespeare": (
        lambda: {"text": b"First Citizen:\n"},
        lambda ds: list(ds.lines()) == ["First Citizen:"],
    ),
}


@pytest.mark.parametrize("dataset_id", sorted(CASES))
def test_bundled_definition_prepares_generated_files(env, server, dataset_id):
    make, check = CASES[dataset_id]
    path = bundled_root().joinpath(*dataset_id.split(".")).with_suffix(".yaml")
    raw = yaml.safe_load(path.read_text())
    files = make()
    assert set(files) == set(raw["resources"]), "generate every resource of the definition"
    for key, data in files.items():
        name = f"{dataset_id}/{key}"
        server.files[name] = data
        raw["resources"][key].update(
            url=server.url(name), mirrors=[], sha256=sha256(data), size=len(data)
        )
    env.define(f"test.{dataset_id}", yaml.safe_dump(raw, sort_keys=False))
    ds = prepare_dataset(f"test.{dataset_id}")
    assert check(ds) is not False


def _serve(env, server, dataset_id, files, type_, data):
    resources = {}
    for key, (payload, unpack) in files.items():
        server.files[f"{dataset_id}/{key}"] = payload
        resources[key] = {"url": server.url(f"{dataset_id}/{key}"), "sha256": sha256(payload),
                          "size": len(payload), "unpack": unpack}
    env.define(dataset_id, yaml.safe_dump({"resources": resources, "type": type_, "data": data}))
    return prepare_dataset(dataset_id)


def test_types_without_a_bundled_dataset_prepare_from_generated_files(env, server):
    """TREC topics, qrels, runs and triplets, and GloVe vectors in Stanford's zip layout."""
    topics = b"<top>\n<num> Number: 301\n<title> Crime\n<desc> Description:\nFind.\n</top>\n"
    ir = _serve(env, server, "test.trec", {
        "corpus": (gzip.compress(formats.jsonl(formats.BEIR_CORPUS)), "gunzip"),
        "topics": (topics, "none"),
        "qrels": (b"301 0 d1 1\n301 0 d2 0\n", "none"),
        "run": (b"301 Q0 d2 1 3.5 bm25\n301 Q0 d1 2 2.0 bm25\n", "none"),
        "triples": (b"301\td1\td2\n", "none"),
    }, "ir-collection", {
        "documents": {"path": "corpus"}, "queries": {"path": "topics", "format": "trec"},
        "qrels": {"test": {"path": "qrels"}}, "runs": {"bm25": {"path": "run"}},
        "triplets": {"path": "triples"},
    })
    assert [q["title"] for q in ir.topics("test")] == ["Crime"]
    assert ir.runs["bm25"].lookup() == {"301": {"d2": 3.5, "d1": 2.0}}
    assert list(ir.triplets.iter()) == [("301", "d1", "d2")]
    assert ir.documents.lookup()["d1"]["title"] == "Cells"
    glove = _serve(env, server, "test.glove", {
        "archive": (formats.zip_of({"glove.6B.50d.txt": formats.GLOVE}), "unzip"),
    }, "word-vectors", {"path": "archive/glove.6B.50d.txt", "dimension": 3})
    assert glove.vocabulary() == ["the", ",", "cat"]
