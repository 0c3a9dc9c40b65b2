"""Figures for the lazy data readers (not a test: it prints, it asserts nothing).

Writes a BEIR-style ``corpus.jsonl`` of SIZE MB (default 300) and CIFAR-style records, then
measures against a physical reference measured in the same run (reading the whole file once):
- ``Documents.head(10)``: the promise is milliseconds, whatever the corpus size;
- ``Documents.lookup()``: the one-time index scan, then one lookup;
- ``ImageRecords.images()``: mapping the records, against reading them into memory.

Run: python benchmarks/bench_data.py [SIZE_MB]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dmconf.data.image import ImageRecords
from dmconf.data.ir import Documents


def timed(action):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    work = Path(tempfile.mkdtemp(prefix="dmconf-bench-data-"))
    corpus = work / "corpus.jsonl"
    text = "lorem ipsum dolor sit amet " * 40
    with open(corpus, "w") as out:
        count = 0
        while out.tell() < size_mb * 1_000_000:
            out.write(json.dumps({"_id": f"d{count}", "title": "t", "text": text}) + "\n")
            count += 1
    docs = Documents(path=corpus)

    read_all, _ = timed(corpus.read_bytes)
    head, rows = timed(lambda: docs.head(10))
    lookup = docs.lookup()
    index, _ = timed(lambda: len(lookup))
    one, row = timed(lambda: lookup[f"d{count // 2}"])
    assert len(rows) == 10 and row["id"] == f"d{count // 2}"
    mb = corpus.stat().st_size / 1e6
    print(f"corpus: {mb:.0f} MB, {count:,} documents")
    print(f"  reference, read the whole file once : {read_all * 1000:9.1f} ms "
          f"({mb / read_all:.0f} MB/s)")
    print(f"  head(10)                            : {head * 1000:9.3f} ms")
    print(f"  lookup(): index scan (once)         : {index * 1000:9.1f} ms "
          f"({mb / index:.0f} MB/s, {index / read_all:.1f}x the reference)")
    print(f"  lookup(): one document afterwards   : {one * 1000:9.3f} ms")

    records = work / "data_batch_1.bin"
    images = np.random.default_rng(0).integers(0, 256, (50_000, 3073), dtype=np.uint8)
    images.tofile(records)
    read_records, _ = timed(lambda: np.fromfile(records, dtype=np.uint8))
    mapped, array = timed(lambda: ImageRecords(paths=[records]).images())
    print(f"CIFAR-style records: {records.stat().st_size / 1e6:.0f} MB, {len(array):,} images")
    print(f"  reference, np.fromfile              : {read_records * 1000:9.1f} ms")
    print(f"  ImageRecords.images() (memory map)  : {mapped * 1000:9.3f} ms")


if __name__ == "__main__":
    main()
