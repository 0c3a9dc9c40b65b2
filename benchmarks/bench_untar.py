"""What dmconf's own extraction costs against tarfile's (not a test: it prints figures).

dmconf writes every member itself (lstat walk of parents, O_EXCL|O_NOFOLLOW files, links
resolved by hand, the whole tree checked again; see dmconf/unpack/extraction.py). The
reference, measured in the same run on the same archive: ``tarfile.extractall`` with the
``data`` filter where the interpreter has it, and a plain ``cat`` of the archive's bytes.

Run: python benchmarks/bench_untar.py [members]
"""

from __future__ import annotations

import io
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from dmconf.unpack.tar import Untar


def archive(members: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for index in range(members):
            data = (b"member %d\n" % index) * 100
            info = tarfile.TarInfo(f"corpus/part{index % 50:02d}/m{index:06d}.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            if index % 100 == 0:
                link = tarfile.TarInfo(f"corpus/latest{index}")
                link.type, link.linkname = tarfile.SYMTYPE, f"part{index % 50:02d}"
                tar.addfile(link)
    return buffer.getvalue()


def timed(label: str, run, repeat: int = 3) -> None:  # type: ignore[no-untyped-def]
    best = min(_once(run) for _ in range(repeat))
    print(f"{label:55s} {best:7.3f} s")


def _once(run) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    work = Path(tempfile.mkdtemp(prefix="dmconf-bench-untar-"))
    try:
        source = work / "a.tar"
        source.write_bytes(archive(members))
        print(f"{members} members, {source.stat().st_size / 1e6:.1f} MB, Python "
              f"{sys.version.split()[0]}")
        out = work / "out"

        def ours() -> None:
            shutil.rmtree(out, ignore_errors=True)
            Untar(use_data_filter=False).unpack(source, out)

        def ours_with_filter() -> None:
            shutil.rmtree(out, ignore_errors=True)
            Untar(use_data_filter=True).unpack(source, out)

        def reference() -> None:
            shutil.rmtree(out, ignore_errors=True)
            with tarfile.open(source) as tar:
                extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(out, **extra)

        def read() -> None:
            with open(source, "rb") as stream:
                while stream.read(1 << 20):
                    pass

        timed("read the archive (reference)", read)
        timed("tarfile.extractall, data filter (reference)", reference)
        timed("dmconf Untar: own checks + tree check + digest", ours)
        timed("dmconf Untar: same, plus the data filter", ours_with_filter)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
