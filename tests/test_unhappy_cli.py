"""Every unhappy path through the CLI: one ``dmconf: error:`` line, exit 1, no traceback,
nothing under the final name and no temporary left behind."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest
from httpserver import Fault
from resources import leftovers, serve_dataset, write_settings

from dmconf.cli import main


def _hostile_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("../../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    return buffer.getvalue()


CASES = {
    # name: (bytes served, unpack, fault, settings, words the error line must hold)
    "404": (b"x" * 100, "none", Fault(status=404), {}, ["HTTP 404"]),
    "503 for ever": (b"x" * 100, "none", Fault(status=503), {}, ["HTTP 503"]),
    "error page": (b"x" * 100, "none", Fault(body=b"<html>login</html>"), {},
                   ["checksum mismatch", "expected sha256", "18 bytes"]),
    "stalled server": (b"x" * 100, "none", Fault(stall=3), {"read_timeout": 0.3},
                       ["read timeout"]),
    "corrupt gzip": (b"not gzip at all", "gunzip", None, {}, ["cannot gunzip"]),
    "hostile tar": (_hostile_tar(), "untar", None, {}, ["refusing", "../../escape.txt"]),
    "corrupt zip": (b"PK\x03\x04garbage", "unzip", None, {}, ["not a valid zip archive"]),
    "truncated xz": (b"\xfd7zXZ\x00\x00", "unxz", None, {}, ["cannot unxz"]),
    "more than size": (gzip.compress(b"a" * 1000), "gunzip", Fault(body=b"b" * 5000),
                       {}, ["more than the"]),
}


@pytest.mark.parametrize("case", CASES)
def test_one_clear_line(env, server, capsys, case):
    data, unpack, fault, settings, words = CASES[case]
    write_settings(env, retries=1, **settings)
    extra = {"size": len(data)} if case == "more than size" else {}
    name = serve_dataset(env, server, "test.unhappy", data, unpack=unpack,
                         type_="folder" if unpack in ("untar", "unzip") else "file", **extra)
    if fault:
        server.faults[name] = fault
    assert main(["prepare", "test.unhappy"]) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("dmconf: error: ")]
    assert len(errors) == 1 and captured.err.rstrip().endswith(errors[0])
    assert all(word in errors[0] for word in words), errors[0]
    assert "Traceback" not in captured.err and captured.out == ""
    folder = env.folder("test.unhappy")
    assert not (folder / "payload").exists() and leftovers(folder) == []
