"""Small files in the real formats of the bundled datasets, written independently of dmconf.

Each function returns bytes (a file, or an archive laid out like the publisher's) so tests can
serve them from the loopback server, or write them to a folder.
"""

from __future__ import annotations

import io
import json
import tarfile
import wave
import zipfile

import numpy as np

RNG = np.random.default_rng(7)


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def cifar_records(labels: list[tuple[int, ...]]) -> tuple[bytes, np.ndarray]:
    """CIFAR binary records: label bytes then 3x32x32 uint8 pixels, channels first."""
    images = RNG.integers(0, 256, size=(len(labels), 3, 32, 32), dtype=np.uint8)
    pairs = zip(labels, images, strict=True)
    data = b"".join(bytes(label) + image.tobytes() for label, image in pairs)
    return data, images


def png(size: tuple[int, int] = (8, 6), colour: int = 0) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (colour, 255 - colour, 7)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(size: tuple[int, int] = (8, 6)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


def wav(samples: np.ndarray, rate: int = 16000) -> bytes:
    """16-bit PCM mono WAV."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def flac(samples: np.ndarray, rate: int = 22050) -> bytes:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, samples.astype("<i2"), rate, format="FLAC")
    return buffer.getvalue()


def au(samples: np.ndarray, rate: int = 22050) -> bytes:
    """Sun AU, 16-bit PCM (GTZAN's format)."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, samples.astype("<i2"), rate, format="AU", subtype="PCM_16")
    return buffer.getvalue()


def mat(**arrays: np.ndarray) -> bytes:
    from scipy.io import savemat

    buffer = io.BytesIO()
    savemat(buffer, arrays)
    return buffer.getvalue()


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


CONLL = b"""-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""

SQUAD = {
    "version": "1.1",
    "data": [{"title": "Normans", "paragraphs": [{
        "context": "The Normans were in Normandy.",
        "qas": [{"id": "q1", "question": "Where were the Normans?",
                 "answers": [{"text": "Normandy", "answer_start": 20}]}],
    }]}],
}

SNLI = [
    {"gold_label": "entailment", "sentence1": "A man plays.", "sentence2": "Someone plays."},
    {"gold_label": "-", "sentence1": "A dog runs.", "sentence2": "A cat sleeps."},
    {"gold_label": "contradiction", "sentence1": "A boy sits.", "sentence2": "A boy runs."},
]

BEIR_CORPUS = [
    {"_id": "d1", "title": "Cells", "text": "Cells divide."},
    {"_id": "d2", "title": "Stars", "text": "Stars shine.", "metadata": {}},
    {"_id": "d3", "title": "", "text": "Rain falls."},
]
BEIR_QUERIES = [{"_id": "q1", "text": "do cells divide", "metadata": {}},
                {"_id": "q2", "text": "why stars shine"}]
BEIR_QRELS = b"query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\n"


def beir_zip(name: str, splits: tuple[str, ...] = ("test",)) -> bytes:
    """A BEIR collection as published: NAME/corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv."""
    return zip_of({
        f"{name}/corpus.jsonl": jsonl(BEIR_CORPUS),
        f"{name}/queries.jsonl": jsonl(BEIR_QUERIES),
        **{f"{name}/qrels/{split}.tsv": BEIR_QRELS for split in splits},
    })


GLOVE = b"the 0.1 0.2 0.3\n, -0.5 0.25 1\ncat 1.5 -2 0\n"
