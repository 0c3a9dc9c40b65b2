"""Figures for derived datasets on this machine (not a test: it prints, it asserts nothing).

Serves generated MNIST-format files from the test suite's HTTP server on 127.0.0.1, prepares
them, then measures the bundled step ``idx-to-npy`` (float32, scaled by 1/255):
- the first build of the derived dataset (inputs already prepared): wall time and MB/s of output,
  against the physical reference of numpy doing the same conversion in memory and ``np.save``;
- an already-built derived dataset: time per ``prepare`` call in-process (the key is computed
  once per call from the catalogue: the inputs' digests, the step's import), against a plain
  downloaded dataset's.

Run: python benchmarks/bench_derive.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import numpy as np  # noqa: E402
from conftest import mnist_definition  # noqa: E402
from httpserver import Running  # noqa: E402
from mnistdata import make_mnist  # noqa: E402

DERIVED = """
derive:
  inputs:
    images: {dataset: bench.mnist, part: train.images}
    labels: {dataset: bench.mnist, part: train.labels}
  step: idx-to-npy
  params: {dtype: float32, scale: 0.00392156862745098}
type: generic
data:
  images: {type: npy, path: images.npy}
  labels: {type: npy, path: labels.npy}
"""


def main() -> None:
    mnist = make_mnist(seed=0, compresslevel=6)
    server = Running()
    work = Path(tempfile.mkdtemp(prefix="dmconf-bench-"))
    try:
        (work / "cat" / "bench").mkdir(parents=True)
        (work / "cat" / "bench" / "mnist.yaml").write_text(mnist_definition(server.state, mnist))
        (work / "cat" / "bench" / "mnist-float.yaml").write_text(DERIVED)
        (work / "settings.yaml").write_text("{}\n")
        os.environ.update(DMCONF_DATA=str(work / "data"), DMCONF_CATALOG=str(work / "cat"),
                          DMCONF_SETTINGS=str(work / "settings.yaml"))
        import dmconf

        dmconf.prepare("bench.mnist")
        start = time.perf_counter()
        built = dmconf.prepare("bench.mnist-float")
        first = time.perf_counter() - start
        written = built.images.path.stat().st_size + built.labels.path.stat().st_size
        print(f"first build (idx-to-npy, float32 / 255): {first:.3f} s for {written / 1e6:.1f} MB "
              f"written ({written / first / 1e6:.0f} MB/s)")

        start = time.perf_counter()
        for name in ("train_images", "train_labels"):
            array = mnist.arrays[name].astype(np.float64) * (1 / 255)
            np.save(work / f"{name}.npy", array.astype(np.float32))
        reference = time.perf_counter() - start
        print(f"  reference, numpy in memory + np.save: {reference:.3f} s "
              f"(the build costs {first / reference:.2f}x that)")

        for dataset_id in ("bench.mnist-float", "bench.mnist"):
            calls = 50
            start = time.perf_counter()
            for _ in range(calls):
                dmconf.prepare(dataset_id)
            again = (time.perf_counter() - start) / calls
            print(f"prepared again, {dataset_id}: {again * 1e3:.1f} ms per call in-process")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
