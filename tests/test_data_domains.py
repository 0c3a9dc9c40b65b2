"""Each domain's data types read small files of their real format, lazily, and fail clearly."""

from __future__ import annotations

import json
import subprocess
import sys

import formats
import numpy as np
import pytest

from dmconf.data.audio import AudioFolder, AudioTranscripts, read_audio
from dmconf.data.embeddings import WordVectors
from dmconf.data.image import ImageFolder, ImageRecords
from dmconf.data.ir import Documents, IRCollection, Qrels, Queries, Run, Triplets
from dmconf.data.tabular import Table
from dmconf.data.tensor import MatArray
from dmconf.data.text import (
    CoNLL,
    PlainText,
    QuestionAnswering,
    SentencePairs,
    TextFolder,
    TextTable,
)
from dmconf.errors import DataFormatError, MissingExtra, NotPrepared


def test_cifar_records_are_memory_mapped(tmp_path):
    data, images = formats.cifar_records([(3,), (9,), (0,)])
    (tmp_path / "b1.bin").write_bytes(data)
    records = ImageRecords(paths=[tmp_path / "b1.bin"])
    mapped = records.images()
    assert isinstance(mapped.base, np.memmap) or isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(mapped, images)
    assert records.labels().tolist() == [3, 9, 0] and len(records) == 3
    labels, image = records.record(1)
    assert labels == (9,) and np.array_equal(image, images[1])


def test_cifar100_records_have_two_labels_and_several_files(tmp_path):
    first, a = formats.cifar_records([(1, 40), (2, 50)])
    second, b = formats.cifar_records([(3, 60)])
    (tmp_path / "a.bin").write_bytes(first)
    (tmp_path / "b.bin").write_bytes(second)
    records = ImageRecords(paths=[tmp_path / "a.bin", tmp_path / "b.bin"], label_bytes=2)
    assert records.labels().tolist() == [40, 50, 60]
    assert records.labels(0).tolist() == [1, 2, 3]
    np.testing.assert_array_equal(records.images(), np.concatenate([a, b]))
    assert records.record(2)[0] == (3, 60)


def test_cifar_records_errors(tmp_path):
    (tmp_path / "bad.bin").write_bytes(b"x" * 3000)
    with pytest.raises(DataFormatError, match=r"not a whole number of 3073-byte records"):
        ImageRecords(paths=[tmp_path / "bad.bin"]).images()
    with pytest.raises(NotPrepared):
        ImageRecords(paths=[tmp_path / "missing.bin"]).labels()


def test_image_folder_lists_lazily_and_decodes_with_pillow(tmp_path):
    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "1.png").write_bytes(formats.png(colour=10))
    (tmp_path / "dog" / "2.jpg").write_bytes(formats.jpeg())
    folder = ImageFolder(path=tmp_path)
    assert folder.labels() == ["cat", "dog"]
    items = list(folder.items())
    assert [(p.name, label) for p, label in items] == [("1.png", 0), ("1.png", 1), ("2.jpg", 1)]
    assert folder.image(items[0][0]).shape == (6, 8, 3)
    (tmp_path / "dog" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(DataFormatError, match=r"broken\.png: not a readable image"):
        folder.image(tmp_path / "dog" / "broken.png")
    fixed = ImageFolder(path=tmp_path, classes=["dog", "bird"])
    with pytest.raises(DataFormatError, match="class folder 'bird' is missing"):
        list(fixed.items())


def test_mat_array_reads_one_variable(tmp_path):
    path = tmp_path / "train_32x32.mat"
    x = np.arange(32 * 32 * 3 * 2, dtype=np.uint8).reshape(32, 32, 3, 2)
    path.write_bytes(formats.mat(X=x, y=np.array([[1], [10]], dtype=np.uint8)))
    assert MatArray(path=path, key="X").data().shape == (32, 32, 3, 2)
    assert MatArray(path=path, key="y").data().ravel().tolist() == [1, 10]
    with pytest.raises(DataFormatError, match=r"has no variable 'Z' \(\['X', 'y'\]\)"):
        MatArray(path=path, key="Z").data()


def test_missing_extra_names_the_extra(tmp_path):
    """Run with the optional libraries hidden: the error says which extra to install."""
    (tmp_path / "a.mat").write_bytes(b"")
    code = (
        "import sys; sys.modules['scipy'] = None; sys.modules['scipy.io'] = None\n"
        "from pathlib import Path\nfrom dmconf.data.tensor import MatArray\n"
        "from dmconf.errors import MissingExtra\n"
        f"try:\n    MatArray(path=Path({str(tmp_path / 'a.mat')!r}), key='X').data()\n"
        "except MissingExtra as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "pip install 'dmconf[mat]'" in out and "scipy" in out
    assert issubclass(MissingExtra, ImportError)


def test_text_folder_and_table(tmp_path):
    for label, text in (("neg", "bad film"), ("pos", "great film")):
        (tmp_path / "train" / label).mkdir(parents=True)
        (tmp_path / "train" / label / "0_1.txt").write_text(text)
    (tmp_path / "train" / "unsup").mkdir()
    folder = TextFolder(path=tmp_path / "train", classes=["neg", "pos"])
    assert list(folder.texts()) == [("bad film", 0), ("great film", 1)]
    (tmp_path / "ag.csv").write_text('"3","Wall St.","Stocks, up"\n"4","Tech","Chips"\n')
    table = TextTable(path=tmp_path / "ag.csv", header=False,
                      columns=["label", "title", "description"], text=["title", "description"],
                      label="label")
    assert list(table.examples()) == [("Wall St. Stocks, up", "3"), ("Tech Chips", "4")]
    (tmp_path / "sst.tsv").write_text('sentence\tlabel\nit \'s "fun"\t1\nbad\t0\tx\n')
    sst = TextTable(path=tmp_path / "sst.tsv", delimiter="\t", quoting=False)
    with pytest.raises(DataFormatError, match=r"sst.tsv, line 3: 3 fields, expected 2"):
        list(sst.rows())
    assert next(sst.rows()) == {"sentence": 'it \'s "fun"', "label": "1"}


def test_conll_sentences(tmp_path):
    (tmp_path / "train.txt").write_bytes(formats.CONLL)
    conll = CoNLL(path=tmp_path / "train.txt", columns=["token", "pos", "chunk", "ner"])
    sentences = list(conll.sentences())
    assert [s["token"] for s in sentences] == [["EU", "rejects", "German"],
                                               ["Peter", "Blackburn"]]
    assert sentences[1]["ner"] == ["B-PER", "I-PER"]
    (tmp_path / "bad.txt").write_text("EU NNP\n")
    with pytest.raises(DataFormatError, match=r"bad.txt, line 1: 2 columns, expected 4"):
        list(CoNLL(path=tmp_path / "bad.txt", columns=["token", "pos", "chunk", "ner"])
             .sentences())


def test_question_answering_and_pairs_and_plain_text(tmp_path):
    (tmp_path / "dev.json").write_text(json.dumps(formats.SQUAD))
    [record] = QuestionAnswering(path=tmp_path / "dev.json").records()
    assert record["answers"] == [{"text": "Normandy", "start": 20}]
    assert record["context"][20:28] == "Normandy"
    (tmp_path / "other.json").write_text('{"data": [{"title": "x"}]}')
    with pytest.raises(DataFormatError, match="not SQuAD's layout"):
        list(QuestionAnswering(path=tmp_path / "other.json").records())
    (tmp_path / "snli.jsonl").write_bytes(formats.jsonl(formats.SNLI))
    pairs = SentencePairs(path=tmp_path / "snli.jsonl", skip_labels=["-"])
    assert [p[2] for p in pairs.pairs()] == ["entailment", "contradiction"]
    (tmp_path / "mnli.tsv").write_text(
        "index\tsentence1\tsentence2\tgold_label\n0\ta\tb\tneutral\n")
    assert list(SentencePairs(path=tmp_path / "mnli.tsv", format="tsv").pairs()) == [
        ("a", "b", "neutral")]
    (tmp_path / "input.txt").write_text("First Citizen:\nBefore we proceed\n")
    assert list(PlainText(path=tmp_path / "input.txt").lines()) == [
        "First Citizen:", "Before we proceed"]


def test_table_types_columns_and_missing_values(tmp_path):
    (tmp_path / "adult.test").write_text(
        "|1x3 Cross validator\n25, Private, ?, <=50K.\n38, ?, 89814, >50K.\n")
    table = Table(path=tmp_path / "adult.test", header=False, skip=1, missing=["?"],
                  columns=["age", "workclass", "fnlwgt", "income"],
                  dtypes={"age": "int", "fnlwgt": "float"}, strip=" .")
    assert list(table.records()) == [
        {"age": 25, "workclass": "Private", "fnlwgt": None, "income": "<=50K"},
        {"age": 38, "workclass": None, "fnlwgt": 89814.0, "income": ">50K"},
    ]
    array = table.to_numpy()
    assert array["age"].tolist() == [25, 38] and np.isnan(array["fnlwgt"][0])
    frame = table.to_pandas()
    assert list(frame.columns) == ["age", "workclass", "fnlwgt", "income"]
    (tmp_path / "iris.csv").write_text("a,b\n1,x\n")
    with pytest.raises(DataFormatError, match=r"row 1, column 'b': 'x' is not float"):
        list(Table(path=tmp_path / "iris.csv", dtypes={"b": "float"}).records())
    with pytest.raises(ValueError, match="dtype 'complex' is not one of"):
        Table(path=tmp_path / "iris.csv", dtypes={"b": "complex"})


def test_audio_folder_and_transcripts(tmp_path):
    samples = (np.sin(np.arange(800) / 10) * 3000).astype(np.int16)
    for label in ("yes", "no", "_background_noise_"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "a.wav").write_bytes(formats.wav(samples))
    folder = AudioFolder(path=tmp_path, exclude=["_background_noise_"])
    assert folder.labels() == ["no", "yes"] and len(folder) == 2
    data, rate = folder.clip(next(folder.items())[0])
    assert rate == 16000 and data.shape == (800, 1)
    np.testing.assert_array_equal(data[:, 0], samples)
    wavs = tmp_path / "LJSpeech-1.1" / "wavs"
    wavs.mkdir(parents=True)
    (wavs / "LJ001-0001.flac").write_bytes(formats.flac(samples))
    (wavs.parent / "metadata.csv").write_text("LJ001-0001|Printing, in the|Printing, in the\n")
    speech = AudioTranscripts(clips={"path": wavs}, metadata={"path": wavs.parent /
                              "metadata.csv"}, text_column=2, suffix=".flac")
    [(path, text)] = speech.items()
    assert text == "Printing, in the" and speech.clip(path)[1] == 22050
    (tmp_path / "bad.wav").write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(DataFormatError, match=r"bad\.wav"):
        read_audio(tmp_path / "bad.wav")


def test_beir_collection_streams_and_looks_up(tmp_path):
    (tmp_path / "corpus.jsonl").write_bytes(formats.jsonl(formats.BEIR_CORPUS))
    (tmp_path / "queries.jsonl").write_bytes(formats.jsonl(formats.BEIR_QUERIES))
    (tmp_path / "test.tsv").write_bytes(formats.BEIR_QRELS)
    collection = IRCollection(documents={"path": tmp_path / "corpus.jsonl"},
                              queries={"path": tmp_path / "queries.jsonl"},
                              qrels={"test": {"path": tmp_path / "test.tsv", "format": "beir"}})
    assert [d["id"] for d in collection.documents.head(2)] == ["d1", "d2"]
    docs = collection.documents.lookup()
    assert docs["d3"]["text"] == "Rain falls." and len(docs) == 3 and "d9" not in docs
    assert collection.qrels["test"].lookup() == {"q1": {"d1": 1}, "q2": {"d2": 2}}
    assert [q["text"] for q in collection.topics("test")] == ["do cells divide",
                                                              "why stars shine"]
    with pytest.raises(KeyError, match="no qrels for split 'dev'"):
        collection.topics("dev")


def test_trec_formats_and_tsv_records(tmp_path):
    (tmp_path / "qrels").write_text("301 0 FBIS3-1 1\n301 0 FT-2 0\n302 0 LA-3 2\n")
    assert Qrels(path=tmp_path / "qrels").lookup() == {"301": {"FBIS3-1": 1, "FT-2": 0},
                                                       "302": {"LA-3": 2}}
    (tmp_path / "run").write_text("301 Q0 FT-2 1 12.5 bm25\n301 Q0 LA-3 2 11 bm25\n")
    assert Run(path=tmp_path / "run").lookup() == {"301": {"FT-2": 12.5, "LA-3": 11.0}}
    (tmp_path / "topics").write_text(
        "<top>\n<num> Number: 301\n<title> International Organized Crime\n\n<desc> Description:\n"
        "Identify organizations.\n\n<narr> Narrative:\nA relevant document...\n</top>\n")
    [topic] = Queries(path=tmp_path / "topics", format="trec").iter()
    assert topic == {"id": "301", "title": "International Organized Crime",
                     "description": "Identify organizations.",
                     "narrative": "A relevant document..."}
    (tmp_path / "collection.tsv").write_text("0\tThe presence of\n1\tThe Manhattan\n")
    passages = Documents(path=tmp_path / "collection.tsv", format="tsv")
    assert passages.lookup()["1"] == {"id": "1", "text": "The Manhattan"}
    (tmp_path / "triples.tsv").write_text("q1\td1\td2\nbad\tline\n")
    with pytest.raises(DataFormatError, match=r"line 2: expected 3 columns separated by"):
        list(Triplets(path=tmp_path / "triples.tsv").iter())
    (tmp_path / "broken.qrels").write_text("301 FT-2 1\n")
    with pytest.raises(DataFormatError, match="line 1: expected qid iter docid rel"):
        list(Qrels(path=tmp_path / "broken.qrels").iter())


def test_the_head_of_a_corpus_reads_only_the_head(tmp_path):
    """A corrupt last line does not stop head(): rows are parsed only as far as asked."""
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(formats.jsonl(formats.BEIR_CORPUS * 1000) + b"{broken\n")
    assert [d["id"] for d in Documents(path=path).head(4)] == ["d1", "d2", "d3", "d1"]
    with pytest.raises(DataFormatError, match="line 3001: not JSON"):
        Documents(path=path).count()


def test_word_vectors(tmp_path):
    (tmp_path / "glove.txt").write_bytes(formats.GLOVE)
    vectors = WordVectors(path=tmp_path / "glove.txt", dimension=3)
    assert vectors.vocabulary() == ["the", ",", "cat"]
    np.testing.assert_allclose(vectors.lookup()["cat"], [1.5, -2, 0])
    _words, matrix = vectors.matrix()
    assert matrix.shape == (3, 3) and matrix.dtype == np.float32
    (tmp_path / "wiki.vec").write_bytes(b"2 3\n" + formats.GLOVE.split(b"\n", 1)[1])
    fasttext = WordVectors(path=tmp_path / "wiki.vec", header=True)
    assert [w for w, _ in fasttext.iter()] == [",", "cat"]
    (tmp_path / "short.txt").write_bytes(b"the 0.1 0.2\n")
    with pytest.raises(DataFormatError, match=r"line 1: 2 values for 'the', expected 3"):
        WordVectors(path=tmp_path / "short.txt", dimension=3).head()


def test_lookup_finds_ids_wherever_the_row_puts_them(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(formats.jsonl([
        {"_id": 'quote"d', "text": "escaped id"},
        {"metadata": {"_id": "nested"}, "_id": "outer", "text": "id after a nested one"},
        {"text": "id last", "_id": 7},
    ]))
    docs = Documents(path=path).lookup()
    assert sorted(docs) == ["7", "outer", 'quote"d']
    assert docs["outer"]["text"] == "id after a nested one" and docs["7"]["id"] == "7"


def test_gzipped_files_are_read_transparently(tmp_path):
    import gzip

    (tmp_path / "run.gz").write_bytes(gzip.compress(b"301 Q0 FT-2 1 12.5 bm25\n"))
    assert Run(path=tmp_path / "run.gz").lookup() == {"301": {"FT-2": 12.5}}
    (tmp_path / "corpus.jsonl.gz").write_bytes(gzip.compress(formats.jsonl(formats.BEIR_CORPUS)))
    docs = Documents(path=tmp_path / "corpus.jsonl.gz")
    assert list(docs.ids()) == ["d1", "d2", "d3"] and docs.lookup()["d3"]["text"] == "Rain falls."


def test_triplets_say_whether_columns_hold_ids_or_texts(tmp_path):
    (tmp_path / "triples.tsv").write_text("what is a cell\tCells divide.\tStars shine.\n")
    triplets = Triplets(path=tmp_path / "triples.tsv", query_ids=False, document_ids=False)
    [triplet] = triplets.iter()
    assert triplet.query == "what is a cell" and triplet.negative == "Stars shine."
    (tmp_path / "ids.csv").write_text("q1,d1,d2\n")
    assert list(Triplets(path=tmp_path / "ids.csv", delimiter=",").iter()) == [("q1", "d1", "d2")]


def test_labels_from_file_names(tmp_path):
    for name in ("Abyssinian_1.jpg", "Abyssinian_2.jpg", "great_pyrenees_1.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(formats.jpeg())
    pets = ImageFolder(path=tmp_path, label_pattern=r"^(.+)_\d+\.jpg$")
    assert pets.labels() == ["Abyssinian", "great_pyrenees"]
    assert [(p.name, label) for p, label in pets.items()] == [
        ("Abyssinian_1.jpg", 0), ("Abyssinian_2.jpg", 0), ("great_pyrenees_1.jpg", 1)]
    digits = AudioFolder(path=tmp_path, pattern="*.jpg", label_pattern=r"^(\w)", classes=["g"])
    assert [p.name for p, _ in digits.items()] == ["great_pyrenees_1.jpg"]
    for bad, says in (("([", "not a regular expression"), (r"\d+", "needs a group")):
        with pytest.raises(ValueError, match=says):
            ImageFolder(path=tmp_path, label_pattern=bad)


@pytest.mark.parametrize(("field", "value"), [
    ("classes", ["../../etc"]), ("classes", ["a/b"]), ("exclude", [".."]),
    ("pattern", "../*"), ("pattern", "/etc/*"), ("pattern", "x/../../*"),
])
def test_folder_fields_cannot_reach_outside_the_folder(tmp_path, field, value):
    with pytest.raises(ValueError, match=r"not a folder name|outside the folder"):
        ImageFolder(path=tmp_path, **{field: value})


def test_transcript_ids_cannot_name_files_outside_the_clips(tmp_path):
    (tmp_path / "metadata.csv").write_text("../../secret|text|text\n")
    speech = AudioTranscripts(clips={"path": tmp_path / "wavs"},
                              metadata={"path": tmp_path / "metadata.csv"})
    with pytest.raises(DataFormatError, match=r"clip id '\.\./\.\./secret' is not a file name"):
        list(speech.items())


def test_a_hostile_table_is_a_format_error(tmp_path):
    (tmp_path / "huge.csv").write_text("a,b\n" + "x" * 200_000 + ",1\n")
    with pytest.raises(DataFormatError, match=r"huge\.csv: not a readable delimited file"):
        list(TextTable(path=tmp_path / "huge.csv").rows())
