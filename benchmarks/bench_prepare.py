"""Figures for the prepare flow on this machine (not a test: it prints, it asserts nothing).

Serves generated MNIST-format files from a real HTTP server on 127.0.0.1 (the test suite's
server) and measures:
- the first prepare of MNIST (4 resources, 11.6 MB gzipped, 55 MB unpacked): wall time and MB/s
  of output, against the physical reference of sha256 and gunzip alone on the same bytes;
- an already-prepared dataset: time per `prepare` call in-process (the promise: a few stat
  calls, no network, no hashing) and the startup of `dmconf list` / `dmconf prepare` as commands.

Run: python benchmarks/bench_prepare.py
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import yaml  # noqa: E402
from httpserver import Running  # noqa: E402
from mnistdata import make_mnist  # noqa: E402


def served_definition(server: Running, gz: dict[str, bytes]) -> dict:
    """An MNIST-like definition whose gzipped files ``server`` serves under ``m/``."""
    resources = {}
    for key, data in gz.items():
        server.state.files[f"m/{key}.gz"] = data
        resources[key] = {"url": server.state.url(f"m/{key}.gz"), "unpack": "gunzip",
                          "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    return {
        "resources": resources, "type": "image-classification",
        "data": {p: {"images": {"type": "idx", "path": f"{p}_images"},
                     "labels": {"type": "idx", "path": f"{p}_labels"}}
                 for p in ("train", "test")},
    }


def main() -> None:
    mnist = make_mnist(seed=0, compresslevel=6)
    arrays, gz = mnist.arrays, mnist.gz
    raw_total = sum(a.nbytes + 16 for a in arrays.values())
    gz_total = sum(len(b) for b in gz.values())

    server = Running()
    work = Path(tempfile.mkdtemp(prefix="dmconf-bench-"))
    try:
        definition = served_definition(server, gz)
        (work / "cat" / "bench").mkdir(parents=True)
        (work / "cat" / "bench" / "mnist.yaml").write_text(yaml.safe_dump(definition))
        (work / "settings.yaml").write_text("{}\n")
        os.environ.update(DMCONF_DATA=str(work / "data"), DMCONF_CATALOG=str(work / "cat"),
                          DMCONF_SETTINGS=str(work / "settings.yaml"))

        start = time.perf_counter()
        for data in gz.values():
            hashlib.sha256(data).hexdigest()
            gzip.decompress(data)
        reference = time.perf_counter() - start

        import dmconf

        start = time.perf_counter()
        dmconf.prepare("bench.mnist")
        first = time.perf_counter() - start
        print(f"first prepare: {first:.3f} s for {gz_total / 1e6:.1f} MB downloaded, "
              f"{raw_total / 1e6:.1f} MB written ({raw_total / first / 1e6:.0f} MB/s of output)")
        print(f"  reference, sha256 + gunzip of the same bytes in memory: {reference:.3f} s "
              f"(prepare costs {first / reference:.2f}x that)")

        calls = 200
        start = time.perf_counter()
        for _ in range(calls):
            dmconf.prepare("bench.mnist")
        again = (time.perf_counter() - start) / calls
        requests_after = len(server.state.log)
        print(f"prepared again: {again * 1e3:.2f} ms per call in-process "
              f"({requests_after - 4} extra HTTP requests over {calls} calls)")

        exe = shutil.which("dmconf", path=os.path.dirname(sys.executable)) or "dmconf"
        for argv in (["list"], ["prepare", "bench.mnist"], ["--version"]):
            runs = []
            for _ in range(5):
                start = time.perf_counter()
                subprocess.run([exe, *argv], check=True, capture_output=True)
                runs.append(time.perf_counter() - start)
            print(f"`dmconf {' '.join(argv)}` (prepared): best {min(runs) * 1e3:.0f} ms "
                  f"of 5 runs")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        print(f"  reference, `python -c pass`: {(time.perf_counter() - start) * 1e3:.0f} ms")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
