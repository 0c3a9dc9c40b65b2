"""What each check of dmconf's extraction costs (not a test: it prints figures).

One archive like ``compare.py``'s untar fixture (a tar.gz of small files in 100 folders, plus
a symlink every 100 files), extracted in this process by each variant below, interleaved
(each repetition runs every variant once, in a rotating order), medians printed beside
``tar xzf`` of the same file measured in the same run. Variants switch one check off at a
time, so each row's difference to "all checks" is what that check costs; the switches exist
only here (``Untar`` has no way to turn a check off but the data filter's second opinion).

Run: python benchmarks/bench_untar.py [--files 10000] [--reps 5] [--before DIR]
``--before DIR`` adds the Untar found in DIR (for example an export of main's ``dmconf``:
``git archive main dmconf | tar x -C DIR``), run in a subprocess, timed inside it.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dmconf.checksum import tree_sha256
from dmconf.unpack import extraction, tar
from dmconf.unpack.limits import Limits
from dmconf.unpack.tar import HAS_DATA_FILTER, Untar

BEFORE = """
import sys, time
sys.path.insert(0, sys.argv[1])
from dmconf.unpack.tar import Untar
from pathlib import Path
start = time.perf_counter()
Untar().unpack(Path(sys.argv[2]), Path(sys.argv[3]))
print(time.perf_counter() - start)
"""


def archive(path: Path, files: int) -> None:
    rng = random.Random(1)
    with tarfile.open(path, mode="w:gz", compresslevel=6) as out:
        for index in range(files):
            data = bytes(rng.choices(b"abcdefgh \n", k=rng.randint(200, 3000)))
            info = tarfile.TarInfo(f"tree/d{index % 100:02d}/f{index:05d}.txt")
            info.size, info.mtime = len(data), 1_700_000_000
            out.addfile(info, io.BytesIO(data))
            if index % 100 == 99:
                link = tarfile.TarInfo(f"tree/d{index % 100:02d}/latest{index}")
                link.type, link.linkname = tarfile.SYMTYPE, f"f{index:05d}.txt"
                out.addfile(link)


@contextmanager
def patched(owner: object, name: str, value: object) -> Iterator[None]:
    old = vars(owner)[name] if isinstance(owner, type) else getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, old)


class NoLimits(Limits):
    def check(self, what: str, produced: int, consumed: int, members: int = 0) -> None:
        pass


def every_member(archive: Path, member: tarfile.TarInfo, dest: str, vouched: set[str]
                 ) -> Callable[[], object]:
    """The data filter on every member, as before the per-folder verdict."""
    tarfile.data_filter(member, dest)
    return lambda: None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--before", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dmconf-bench-untar-"))
    out = work / "out"
    source = work / "a.tar.gz"
    archive(source, args.files)
    print(f"{args.files} files, {source.stat().st_size / 1e6:.1f} MB tar.gz, Python "
          f"{sys.version.split()[0]}, data filter: {HAS_DATA_FILTER}, load "
          f"{os.getloadavg()[0]:.1f}", flush=True)

    def untar(**kwargs: object) -> Callable[[], float]:
        return lambda: timed(lambda: Untar(**kwargs).unpack(source, out))  # type: ignore[arg-type]

    def without(owner: object, name: str, value: object) -> Callable[[], float]:
        def run() -> float:
            with patched(owner, name, value):
                return timed(lambda: Untar().unpack(source, out))
        return run

    def parse_only() -> float:
        def go() -> None:
            with tarfile.open(source, "r|gz") as stream:
                for member in stream:
                    if member.isfile():
                        data = stream.extractfile(member)
                        assert data is not None
                        data.read()
        return timed(go)

    def parse_libarchive() -> float:
        from dmconf.unpack.tar import decompressed
        from dmconf.unpack.tar_libarchive import LibarchiveTar

        def go() -> None:
            with open(source, "rb") as raw, decompressed(raw) as stream, LibarchiveTar(
                    stream) as archive:
                for member in archive:
                    if member.isfile():
                        archive.extractfile(member).read(member.size)
        return timed(go)

    def tree_walk() -> float:  # the second pass the digest taken while writing replaces
        Untar().unpack(source, out)
        os.sync()
        return timed(lambda: tree_sha256(out))

    def tar_xzf() -> float:
        out.mkdir()
        return timed(lambda: subprocess.run(["tar", "xzf", str(source), "-C", str(out)],
                                            check=True))

    variants: dict[str, Callable[[], float]] = {
        "tar xzf (reference)": tar_xzf,
        "tarfile: parse and read the members only": parse_only,
        "libarchive: parse and read the members only": parse_libarchive,
        "dmconf Untar, every check": untar(),
        "  with tarfile's parser instead of libarchive's": untar(parser="tarfile"),
        "  without the data filter's second opinion": untar(use_data_filter=False),
        "  data filter on every member (before)": without(Untar, "_second_opinion",
                                                          staticmethod(every_member)),
        "  without the name checks": without(extraction, "check_name", lambda *a: None),
        "  without the limits": untar(limits=NoLimits()),
        "  without the final link check": without(extraction.Extraction, "finish",
                                                  lambda self: None),
        "tree_sha256 of the result (second pass, before)": tree_walk,
    }
    if args.before:
        def before() -> float:
            start = _cpu()
            inside = float(subprocess.run(
                [sys.executable, "-c", BEFORE, str(args.before), str(source), str(out)],
                check=True, capture_output=True, text=True).stdout)
            CPU.append(_cpu() - start)  # with the interpreter's start: a little more
            return inside
        variants["Untar of --before (subprocess, timed inside)"] = before
    assert tar.check_name is not None
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpus: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    try:
        for rep in range(args.reps):
            for name in names[rep % len(names):] + names[:rep % len(names)]:
                shutil.rmtree(out, ignore_errors=True)
                os.sync()  # the removal's journal and discards, before the clock starts
                times[name].append(variants[name]())
                cpus[name].append(CPU[-1])
            print(f"  rep {rep + 1}/{args.reps}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    every = statistics.median(times["dmconf Untar, every check"])
    every_cpu = statistics.median(cpus["dmconf Untar, every check"])
    reference = statistics.median(times["tar xzf (reference)"])
    print(f"{'variant':50s} {'wall':>7s} {'min-max':>13s} {'vs tar':>6s} {'vs every':>8s} "
          f"{'CPU':>7s} {'vs every':>8s}")
    for name, values in times.items():
        median, cpu = statistics.median(values), statistics.median(cpus[name])
        print(f"{name:50s} {median * 1e3:5.0f}ms {min(values) * 1e3:5.0f}-"
              f"{max(values) * 1e3:<5.0f}ms {median / reference:5.2f}x {median - every:+7.2f}s "
              f"{cpu:6.2f}s {cpu - every_cpu:+7.2f}s")


CPU: list[float] = []  # CPU seconds of the last timed run (this process and its children)


def timed(run: Callable[[], object]) -> float:
    before = _cpu()
    start = time.perf_counter()
    run()
    elapsed = time.perf_counter() - start
    CPU.append(_cpu() - before)
    return elapsed


def _cpu() -> float:
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
