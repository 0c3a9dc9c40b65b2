"""What is specific to the two tar parsers: libarchive reads tar and nothing else, its errors
name the archive, whatever it would read otherwise than ``tarfile`` is read by ``tarfile``, and
without libarchive-c or the library ``tarfile`` reads every archive. Every other tar test runs
with both parsers (the ``tar_parser`` fixture)."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from resources import leftovers, serve_dataset, write_settings

import dmconf
import dmconf.unpack.tar
from dmconf.checksum import tree_sha256
from dmconf.errors import UnpackError
from dmconf.unpack import tar_libarchive
from dmconf.unpack.tar import Untar


def _tar(*members: tuple[str, bytes, bytes | str], format: int = tarfile.PAX_FORMAT,
         pax: dict[str, str] | None = None) -> bytes:
    """members: (name, tar type, content or link target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=format, pax_headers=pax) as tar:
        for name, kind, value in members:
            info = tarfile.TarInfo(name)
            info.type, info.mode = kind, 0o644
            if isinstance(value, str):
                info.linkname = value
                tar.addfile(info)
            else:
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
    return buffer.getvalue()


def _other_formats() -> dict[str, bytes]:
    """The same file in every format libarchive reads besides tar (written by libarchive)."""
    import libarchive

    made = {}
    for name in ("zip", "cpio", "7zip", "iso9660", "xar", "ar_bsd", "warc"):
        if name not in libarchive.ffi.WRITE_FORMATS:
            continue
        written = bytearray()

        def write(data: bytes) -> int:
            written.extend(data)  # noqa: B023 - used at once
            return len(data)

        with libarchive.custom_writer(write, name) as archive:
            archive.add_file_from_memory("a.txt", 5, b"hello")
        made[name] = bytes(written)
    made["zip inside gzip"] = gzip.compress(made["zip"])
    made["tar inside gzip inside gzip"] = gzip.compress(gzip.compress(_tar(("a", b"0", b"x"))))
    return made


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which parser read each archive, as Untar saw it."""
    read: list[str] = []
    libarchive_tar, tarfile_tar = dmconf.unpack.tar.LibarchiveTar, dmconf.unpack.tar._tarfile

    def by_libarchive(stream):  # type: ignore[no-untyped-def]
        read.append("libarchive")
        return libarchive_tar(stream)

    def by_tarfile(stream):  # type: ignore[no-untyped-def]
        read.append("tarfile")
        return tarfile_tar(stream)

    monkeypatch.setattr(dmconf.unpack.tar, "LibarchiveTar", by_libarchive)
    monkeypatch.setattr(dmconf.unpack.tar, "_tarfile", by_tarfile)
    return read


def test_only_tar_is_read(tmp_path, tar_parser):
    """libarchive would read zip, cpio, ISO, 7z... by itself: here it is told tar only."""
    for case, data in _other_formats().items():
        source = tmp_path / f"{case}.bin"
        source.write_bytes(data)
        if case == "iso9660":  # 32 KiB of zeros first: to tar, the end of an empty archive
            Untar().unpack(source, tmp_path / case)
            assert list((tmp_path / case).iterdir()) == []
            continue
        with pytest.raises(UnpackError, match=rf"{source.name}: not a valid tar archive"):
            Untar().unpack(source, tmp_path / case)
    assert len(_other_formats()) >= 5


def test_libarchive_errors_name_the_archive_and_leave_nothing(env, server, tmp_path):
    """A header damaged in the middle of an archive (libarchive's own error; tarfile would stop
    there, silently, and call the half archive whole), and data shorter than its header says."""
    whole = _tar(*[(f"m{i}.txt", tarfile.REGTYPE, os.urandom(3000)) for i in range(6)],
                 format=tarfile.USTAR_FORMAT)
    damaged = bytearray(whole)
    damaged[7 * 512 + 148] ^= 0x07  # the checksum of the second header (3000 bytes: 6 blocks)
    cut = whole[: 512 * 3 + 100]  # in the first member's data
    write_settings(env)
    for index, (data, says) in enumerate([(bytes(damaged), "Damaged tar archive"),
                                          (cut, "Truncated tar archive")]):
        source = tmp_path / f"bad{index}.tar"
        source.write_bytes(data)
        with pytest.raises(UnpackError, match=rf"bad{index}.tar: not a valid tar archive "
                                              rf"\({says}"):
            Untar(parser="libarchive").unpack(source, tmp_path / f"out{index}")
        serve_dataset(env, server, f"test.bad{index}", data, unpack="untar", type_="folder")
        with pytest.raises(UnpackError, match=says) as caught:
            dmconf.prepare(f"test.bad{index}")
        assert f"test.bad{index}: resource 'payload' from http://127.0.0.1" in str(caught.value)
        folder = env.folder(f"test.bad{index}")
        assert not (folder / "payload").exists() and leftovers(folder) == []


def test_what_libarchive_reads_otherwise_is_read_by_tarfile(tmp_path, spied):
    """Each archive here is read differently by the two parsers if nothing is done (a name
    libarchive cannot convert, a NUL byte in a pax name, a global pax header, an unknown type,
    a pax hard link with data): libarchive's reading is dropped, tarfile's is the outcome."""
    long = "é" * 60
    bad_utf8 = _tar((f"d/{long}.txt", tarfile.REGTYPE, b"x")).replace(
        long.encode(), b"\xff\xfe" * 60, 1)
    name = "a" + "b" * 120 + "/../../evil.txt"
    nul = _tar((name, tarfile.REGTYPE, b"x")).replace(name[:2].encode(), b"a\0", 1)
    hard = _tar(("f", tarfile.REGTYPE, b"data"), ("h" * 120, tarfile.LNKTYPE, "f"))
    at = next(at for at in range(0, len(hard), 512)  # the link's header, after its pax one
              if hard.startswith(b"h" * 100, at))  # give it a size and data, as pax allows
    header = bytearray(hard[at: at + 512])
    header[124:136] = b"%011o\0" % 4
    header[148:156] = b"        "
    header[148:156] = b"%06o\0 " % sum(header)
    hard = hard[:at] + bytes(header) + b"more".ljust(512, b"\0") + hard[at + 512:]
    cases = {
        "bad utf-8": bad_utf8, "nul": nul, "hard link with data": hard,
        "global": _tar(("a", tarfile.REGTYPE, b"x"), pax={"path": "b"}),
        "unknown type": _tar(("a", tarfile.REGTYPE, b"x"), ("z", b"Z", b"z")),
        "dumpdir": _tar(("d", b"D", b""), format=tarfile.GNU_FORMAT),
    }
    for case, data in cases.items():
        (outcome, read), (other, read_other) = _by_both(tmp_path, case, data, spied)
        assert read == ["tarfile"] and read_other == ["libarchive", "tarfile"], case
        assert outcome == other, case
        if "tar archive" not in outcome and "refusing" not in outcome:
            assert tree_sha256(tmp_path / "libarchive" / case) == outcome, case


def _by_both(tmp_path: Path, case: str, data: bytes, spied: list[str]
             ) -> list[tuple[str, list[str]]]:
    """The archive ``data`` unpacked by Untar told to use tarfile, then libarchive, into
    ``tmp_path/PARSER/case``: each outcome (the tree's digest, or the error's text) and the
    parsers that read it."""
    source = tmp_path / f"{case}.tar"
    source.write_bytes(data)
    results = []
    for parser in ("tarfile", "libarchive"):
        spied.clear()
        target = tmp_path / parser / case
        target.parent.mkdir(exist_ok=True)
        try:
            outcome = Untar(parser=parser).unpack(source, target)
        except UnpackError as exc:
            outcome = str(exc)
        results.append((outcome, list(spied)))
    return results


def _sparse_archives(tmp_path: Path) -> dict[str, bytes]:
    """Sparse files as GNU tar writes them (old GNU and pax 1.0 maps), with a file whose name
    starts with ``._`` (AppleDouble metadata to libarchive on macOS, a file here)."""
    folder = tmp_path / "sparse-src"
    folder.mkdir()
    with open(folder / "holes.bin", "wb") as out:
        out.write(b"start")
        out.seek(1 << 20)
        out.write(b"middle")
        out.truncate(3 << 20)  # a hole at the end too
    (folder / "._meta").write_bytes(b"not metadata")
    made = {}
    for layout in ("gnu", "oldgnu", "pax"):
        archive = tmp_path / f"sparse-{layout}.tar"
        subprocess.run(["tar", "--sparse", f"--format={layout}", "-cf", str(archive),
                        "-C", str(folder), "holes.bin", "._meta"], check=True)
        made[f"sparse {layout}"] = archive.read_bytes()
    return made


def test_well_formed_archives_read_alike(tmp_path, spied):
    """What tar, GNU tar and Python write (long names and links in every format, sparse files,
    hard links, non-ASCII names): libarchive reads them itself, to the same tree as tarfile."""
    long = "/".join(["folder" * 10] * 3)
    members = (
        (f"{long}/a.txt", tarfile.REGTYPE, b"a" * 5000), (f"{long}/l", tarfile.SYMTYPE, "../" * 2
                                                          + "x" * 150),
        (f"{long}/h", tarfile.LNKTYPE, f"{long}/a.txt"), ("café/ü.txt", tarfile.REGTYPE, b"u"),
        ("empty", tarfile.REGTYPE, b""), ("dir/", tarfile.DIRTYPE, b""),
    )
    cases = {f"format {f}": _tar(*members, format=f)
             for f in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT)}
    cases["ustar"] = _tar(("a/b.txt", tarfile.REGTYPE, b"b"), ("a/l", tarfile.SYMTYPE, "b.txt"),
                          format=tarfile.USTAR_FORMAT)
    cases |= _sparse_archives(tmp_path)
    for case, data in cases.items():
        (digest, read), (other, read_other) = _by_both(tmp_path, case, data, spied)
        assert read == ["tarfile"] and read_other == ["libarchive"], case
        assert digest == other == tree_sha256(tmp_path / "libarchive" / case), case
    holes = (tmp_path / "libarchive/sparse pax/holes.bin").read_bytes()
    assert holes[:5] == b"start" and holes[1 << 20:(1 << 20) + 6] == b"middle"
    assert len(holes) == 3 << 20 and holes.count(0) == (3 << 20) - 11


def test_without_libarchive_tarfile_reads_every_archive(tmp_path, monkeypatch, spied):
    """libarchive-c not installed, or installed without the library: no error, tarfile reads."""
    gone = {name: module for name, module in sys.modules.items()
            if name == "libarchive" or name.startswith("libarchive.")}
    for name in gone:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "libarchive", None)  # import libarchive: ImportError
    assert tar_libarchive.binding.__wrapped__() is None
    monkeypatch.delitem(sys.modules, "libarchive")
    monkeypatch.setenv("LIBARCHIVE", str(tmp_path / "libarchive.so.13"))  # no such library
    assert tar_libarchive.binding.__wrapped__() is None
    monkeypatch.setattr(dmconf.unpack.tar, "binding", lambda: None)
    source = tmp_path / "a.tar.gz"
    source.write_bytes(gzip.compress(_tar(("a/b.txt", tarfile.REGTYPE, b"b"))))
    Untar().unpack(source, tmp_path / "out")
    assert (tmp_path / "out/a/b.txt").read_bytes() == b"b" and spied == ["tarfile"]
