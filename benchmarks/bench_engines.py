"""Figures for handing data to engines (not a test: it prints, it asserts nothing).

Writes an IDX file of SIZE MB (default 200; MNIST's train images are 47 MB) and measures, against
references measured in the same run:
- building ``IDX.to_dask()``: the promise is milliseconds and a graph of kilobytes, whatever the
  file's size (reference: ``IDX.data()``, mapping the file, and the file's size);
- summing it with Dask's threads, against summing the ``numpy.memmap`` (the same bytes read);
- parsing and resolving ``ID@VERSION:VARIANT`` against looking the plain id up.

Run: python benchmarks/bench_engines.py [SIZE_MB]
"""

from __future__ import annotations

import pickle
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def timed(action):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    from dmconf.data.tensor import IDX
    from dmconf.definition import DatasetDefinition

    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    work = Path(tempfile.mkdtemp(prefix="dmconf-bench-engines-"))
    try:
        rows = size_mb * 1_000_000 // 784
        path = work / "images.idx"
        with open(path, "wb") as out:
            out.write(bytes([0, 0, 0x08, 3]) + b"".join(n.to_bytes(4, "big") for n in
                                                          (rows, 28, 28)))
            rng = np.random.default_rng(0)
            for start in range(0, rows, 10_000):
                out.write(rng.integers(0, 256, (min(10_000, rows - start), 28, 28),
                                       dtype=np.uint8).tobytes())
        idx = IDX(path=path)
        print(f"IDX file: {path.stat().st_size / 1e6:.0f} MB, {rows} rows of 28x28 uint8")
        mapped_s, mapped = timed(idx.data)
        import_s, _ = timed(lambda: __import__("dask.array"))
        build_s, lazy = timed(idx.to_dask)
        graph = len(pickle.dumps(lazy))
        print(f"build to_dask(): {build_s * 1e3:8.2f} ms, graph {graph / 1e3:.1f} kB pickled, "
              f"{lazy.numblocks[0]} chunks   (reference: IDX.data() {mapped_s * 1e3:.2f} ms; "
              f"file {path.stat().st_size / 1e6:.0f} MB; importing dask.array {import_s:.2f} s)")
        numpy_s, expected = timed(lambda: int(mapped.sum(dtype=np.int64)))
        dask_s, total = timed(lambda: int(lazy.sum(dtype=np.int64).compute()))
        print(f"sum with dask threads: {dask_s:.2f} s   (reference: numpy on the memmap "
              f"{numpy_s:.2f} s; equal: {total == expected})")
        raw = {"version": "2.1.0", "variant": "full", "type": "file", "data": {"path": "f"},
               "versions": {"2.1.0": {}, "2.0.0": {"notes": "old"}},
               "variants": {"full": {}, "small": {"data": {"path": "g"}}}}
        definition = DatasetDefinition.from_mapping(raw, dataset_id="org.x.ds")
        n = 2000
        plain_s, _ = timed(lambda: [definition.select("org.x.ds") for _ in range(n)])
        ref_s, _ = timed(lambda: [definition.select("org.x.ds@2.0:small") for _ in range(n)])
        load_s, _ = timed(lambda: [DatasetDefinition.from_mapping(raw, dataset_id="org.x.ds")
                                   for _ in range(n // 10)])
        print(f"select(ID@2.0:small): {ref_s / n * 1e6:.0f} µs   (reference: select(ID) "
              f"{plain_s / n * 1e6:.1f} µs; validating the definition "
              f"{load_s / (n // 10) * 1e6:.0f} µs)")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
