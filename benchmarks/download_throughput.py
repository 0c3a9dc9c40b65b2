"""Throughput of ``dmconf.prepare`` on a loopback server, against physical references.

Prints MB/s for: sha256 of bytes in memory (the ceiling of any verified download), a plain
``requests`` download to nowhere, ``prepare`` of a raw file, ``prepare`` of a gzip file
(decompressed while downloading) against zlib alone and against downloading then decompressing,
on loopback and with the server limited to 100 MB/s, and a resumed download (the replay of the
partial file). Run: ``python benchmarks/download_throughput.py [MiB]``. Figures, not
assertions: the machine is shared and noisy.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import requests
import yaml
from httpserver import Fault, Running

import dmconf
from dmconf.settings import load_settings


def timed(label: str, size: int, run) -> None:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<48} {size / best / 1e6:8.0f} MB/s  ({best:.2f} s, best of 3)")


def main() -> None:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    raw = os.urandom(mib << 20)
    # Compressible like image data: mostly zeros with random bytes.
    text = bytes(b if b > 200 else 0 for b in os.urandom(mib << 20))
    packed = gzip.compress(text, compresslevel=1)
    server = Running().state
    server.files.update({"raw.bin": raw, "text.gz": packed})
    work = Path(tempfile.mkdtemp(prefix="dmconf-bench-"))
    (work / "catalog" / "bench").mkdir(parents=True)
    for name, data, unpack in (("raw", raw, "none"), ("gz", packed, "gunzip"),
                               ("gzfile", packed, "none")):
        resource = {"url": server.url("raw.bin" if name == "raw" else "text.gz"),
                    "sha256": hashlib.sha256(data).hexdigest(), "unpack": unpack}
        (work / "catalog" / "bench" / f"{name}.yaml").write_text(yaml.safe_dump(
            {"resources": {"payload": resource}, "type": "file", "data": {"path": "payload"}}))
    settings = load_settings(data=work / "data", catalogs=[work / "catalog"], progress=False)

    def fresh(dataset_id: str):
        def run() -> None:
            dmconf.prepare(dataset_id, settings=settings)
            import shutil

            shutil.rmtree(settings.dataset_folder(dmconf.find(dataset_id, settings=settings)))
        return run

    def plain() -> None:
        with requests.get(server.url("raw.bin"), stream=True) as response:
            for _chunk in response.iter_content(1 << 20):
                pass

    print(f"{mib} MiB files, loopback HTTP, {os.cpu_count()} CPUs")
    timed("sha256 in memory", len(raw), lambda: hashlib.sha256(raw).hexdigest())
    timed("requests download, 1 MiB chunks, no disk", len(raw), plain)
    timed("prepare, unpack: none (download+hash+write)", len(raw), fresh("bench.raw"))
    timed("zlib gunzip alone (output MB/s)", len(text),
          lambda: zlib.decompress(packed, wbits=31))
    timed("prepare, unpack: gunzip (output MB/s)", len(text), fresh("bench.gz"))

    def two_passes() -> None:  # what a download-then-decompress engine would do
        dmconf.prepare("bench.gzfile", settings=settings)
        folder = settings.dataset_folder(dmconf.find("bench.gzfile", settings=settings))
        with gzip.open(folder / "payload") as source, open(folder / "out", "wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        import shutil

        shutil.rmtree(folder)

    timed("download, then gunzip the file (output MB/s)", len(text), two_passes)

    rate = 100e6
    server.faults["text.gz"] = Fault(rate=rate)
    print(f"with the server sending at most {rate / 1e6:.0f} MB/s "
          f"({len(packed) / 1e6:.0f} MB compressed, {len(text) / 1e6:.0f} MB decompressed):")
    timed("  prepare, unpack: gunzip (output MB/s)", len(text), fresh("bench.gz"))
    timed("  download, then gunzip the file (output MB/s)", len(text), two_passes)
    del server.faults["text.gz"]

    # Resume: cut at half, then prepare again (replays the half on disk, fetches the rest).
    server.faults["raw.bin"] = Fault(cut_after=len(raw) // 2, times=1)
    cut = load_settings(data=work / "data", catalogs=[work / "catalog"], progress=False,
                        retries=0)
    with contextlib.suppress(dmconf.DownloadError):
        dmconf.prepare("bench.raw", settings=cut)
    start = time.perf_counter()
    dmconf.prepare("bench.raw", settings=settings)
    elapsed = time.perf_counter() - start
    print(f"{'resume from half (replay + rest), whole file':<48} "
          f"{len(raw) / elapsed / 1e6:8.0f} MB/s  ({elapsed:.2f} s, once)")


if __name__ == "__main__":
    main()
