"""Figures for push and pull on a folder remote (not a test: it prints, it asserts nothing).

Prepares two generated datasets from the test suite's HTTP server on 127.0.0.1, one big file
(256 MiB) and a tree of 2,000 small files (4 KiB each, one tar), then measures `push` to an
empty folder remote, `push` again (nothing to send) and `pull` into an empty data folder, beside
the physical reference: copying and hashing the same bytes with shutil and hashlib.

Run: python benchmarks/bench_remote.py
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import yaml  # noqa: E402
from httpserver import Running  # noqa: E402


def _tree() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for index in range(2000):
            content = os.urandom(4096)
            info = tarfile.TarInfo(f"files/{index:05d}.bin")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _reference(files: list[Path], target: Path) -> float:
    """Copy each file to ``target`` and hash the copy: the floor for a verified push or pull."""
    start = time.perf_counter()
    for number, source in enumerate(files):
        copy = target / str(number)
        shutil.copyfile(source, copy)
        digest = hashlib.sha256()
        with open(copy, "rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    return time.perf_counter() - start


def main() -> None:
    from dmconf import find, prepare
    from dmconf.remote import open_remote
    from dmconf.remote.transfer import pull, push
    from dmconf.settings import load_settings

    server = Running()
    work = Path(tempfile.mkdtemp(prefix="dmconf-bench-remote-"))
    try:
        catalog = work / "catalog" / "bench"
        catalog.mkdir(parents=True)
        payloads = {"big": (os.urandom(256 << 20), "none"), "tree": (_tree(), "untar")}
        for name, (data, unpack) in payloads.items():
            server.state.files[name] = data
            definition = {"resources": {"payload": {
                "url": server.state.url(name), "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data), "unpack": unpack}}, "type": "file", "data": {"path": "payload"}}
            (catalog / f"{name}.yaml").write_text(yaml.safe_dump(definition))
        os.environ.update(DMCONF_CATALOG=str(work / "catalog"), DMCONF_SETTINGS="/dev/null",
                          DMCONF_DATA=str(work / "data"))
        print(f"{'dataset':8} {'MB':>6} {'push s':>7} {'again s':>8} {'pull s':>7} "
              f"{'copy+hash s':>12}")
        for name in payloads:
            dataset_id = f"bench.{name}"
            prepare(dataset_id)
            settings = load_settings()
            definition = find(dataset_id)
            folder = settings.dataset_folder(definition)
            files = [p for p in (folder / "payload").rglob("*") if p.is_file()] if (
                folder / "payload").is_dir() else [folder / "payload"]
            size = sum(p.stat().st_size for p in files)
            remote = open_remote(str(work / f"remote-{name}"), settings)
            start = time.perf_counter()
            push(definition, settings, remote)
            pushed = time.perf_counter() - start
            start = time.perf_counter()
            push(definition, settings, remote)
            again = time.perf_counter() - start
            fresh = load_settings(data=work / f"fresh-{name}")
            start = time.perf_counter()
            pull(dataset_id, None, fresh, open_remote(str(work / f"remote-{name}"), fresh))
            pulled = time.perf_counter() - start
            target = work / f"reference-{name}"
            target.mkdir()
            reference = _reference(files, target)
            print(f"{name:8} {size / 1e6:6.0f} {pushed:7.2f} {again:8.2f} {pulled:7.2f} "
                  f"{reference:12.2f}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
