"""Unpacking: streamed decompressors, tar and zip archives, and hostile members refused."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
from resources import leftovers, serve_dataset, write_settings

import dmconf
from dmconf.checksum import tree_sha256
from dmconf.errors import UnpackError
from dmconf.unpack.extraction import Extraction
from dmconf.unpack.tar import HAS_DATA_FILTER, Untar
from dmconf.unpack.zip import Unzip

TEXT = b"".join(b"line %d of a dataset file\n" % i for i in range(50000))


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("method, compress", [
    ("gunzip", gzip.compress), ("bunzip2", bz2.compress), ("unxz", lzma.compress),
])
def test_single_file_decompressors(env, server, method, compress):
    write_settings(env)
    serve_dataset(env, server, "test.packed", compress(TEXT), unpack=method)
    ds = dmconf.prepare("test.packed")
    assert Path(ds.path).read_bytes() == TEXT
    assert leftovers(env.folder("test.packed")) == []


def test_concatenated_gzip_members_are_all_decompressed(env, server):
    write_settings(env)
    data = gzip.compress(TEXT[:1000]) + gzip.compress(TEXT[1000:])
    serve_dataset(env, server, "test.packed", data, unpack="gunzip")
    assert Path(dmconf.prepare("test.packed").path).read_bytes() == TEXT


# Named ids, and mtime=0: xdist's workers each collect, and must find the same test ids.
@pytest.mark.parametrize("data, why", [
    (b"<html>not gzip</html>", "not a valid gzip stream"),
    (gzip.compress(TEXT, mtime=0)[:-100], "truncated"),
], ids=["html", "truncated"])
def test_a_bad_stream_with_a_matching_checksum_is_an_unpack_error(env, server, data, why):
    """The published file itself is broken: the sha256 matches, decompression fails."""
    write_settings(env)
    serve_dataset(env, server, "test.packed", data, unpack="gunzip")
    with pytest.raises(UnpackError, match=why):
        dmconf.prepare("test.packed")
    folder = env.folder("test.packed")
    assert not (folder / "payload").exists() and leftovers(folder) == []


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", mode: int = 0o644):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, mode
    return info


def _good_tar(mode: str) -> bytes:
    return _tar([
        (_info("data", tarfile.DIRTYPE, mode=0o700), None),
        (_info("data/train.txt", mode=0o600), TEXT),
        (_info("data/run.sh", mode=0o700), b"#!/bin/sh\n"),
        (_info("data/latest", tarfile.SYMTYPE, link="train.txt"), None),
        (_info("data/copy.txt", tarfile.LNKTYPE, link="data/train.txt"), None),
    ], mode)


@pytest.mark.usefixtures("tar_parser")
@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_untar_all_compressions_with_modes_from_the_umask(env, server, mode, umask022):
    write_settings(env)
    serve_dataset(env, server, "test.tar", _good_tar(mode), unpack="untar", type_="folder")
    root = Path(dmconf.prepare("test.tar").path)
    assert (root / "data/train.txt").read_bytes() == TEXT
    assert (root / "data/copy.txt").read_bytes() == TEXT
    assert os.readlink(root / "data/latest") == "train.txt"
    modes = {p: stat.S_IMODE(os.stat(root / p).st_mode)
             for p in ("data", "data/train.txt", "data/run.sh")}
    assert modes == {"data": 0o755, "data/train.txt": 0o644, "data/run.sh": 0o755}
    assert leftovers(env.folder("test.tar")) == []


def test_unzip(env, server, umask022):
    write_settings(env)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("corpus/a.txt", TEXT)
        archive.writestr("corpus/sub/b.txt", b"b")
        link = zipfile.ZipInfo("corpus/latest")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "a.txt")
    serve_dataset(env, server, "test.zip", buffer.getvalue(), unpack="unzip", type_="folder")
    root = Path(dmconf.prepare("test.zip").path)
    assert (root / "corpus/a.txt").read_bytes() == TEXT
    assert (root / "corpus/sub/b.txt").read_bytes() == b"b"
    assert os.readlink(root / "corpus/latest") == "a.txt"
    assert stat.S_IMODE(os.stat(root / "corpus/a.txt").st_mode) == 0o644


def _hostile_tars(outside: Path) -> dict[str, tuple[bytes, str]]:
    """name -> (archive, the member that must be named)."""
    up = os.path.relpath(outside, "/")
    return {
        "dotdot": (_tar([(_info("ok.txt"), b"ok"), (_info("../evil.txt"), b"x")]), "../evil.txt"),
        "absolute": (_tar([(_info(str(outside / "abs.txt")), b"x")]), str(outside / "abs.txt")),
        "symlink-up": (_tar([(_info("link", tarfile.SYMTYPE, link="../../outside"), None),
                             (_info("link/evil.txt"), b"x")]), "link"),
        "symlink-absolute": (_tar([(_info("link", tarfile.SYMTYPE, link=str(outside)), None),
                                   (_info("link/evil.txt"), b"x")]), "link"),
        "hardlink-out": (_tar([(_info("hard", tarfile.LNKTYPE, link="/" + up + "/secret"),
                                None)]), "hard"),
        "hardlink-up": (_tar([(_info("hard", tarfile.LNKTYPE, link="../../outside/secret"),
                               None)]), "hard"),
        "nested-symlink": (_tar([(_info("a", tarfile.DIRTYPE), None),
                                 (_info("a/link", tarfile.SYMTYPE, link="../.."), None),
                                 (_info("a/link/x/evil.txt"), b"x")]), "a/link"),
    }


def _hostile_zips(outside: Path) -> dict[str, tuple[bytes, str]]:
    def make(name: str, data: bytes = b"x", link: bool = False) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("ok.txt", b"ok")
            info = zipfile.ZipInfo(name)
            if link:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
        return buffer.getvalue()

    return {
        "dotdot": (make("../evil.txt"), "../evil.txt"),
        "absolute": (make(str(outside / "abs.txt")), str(outside / "abs.txt")),
        "backslash-dotdot": (make("..\\..\\evil.txt"), "..\\..\\evil.txt"),
        "symlink-up": (make("link", b"../../outside", link=True), "link"),
        "symlink-absolute": (make("link", str(outside).encode(), link=True), "link"),
    }


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret").write_text("secret")
    return outside


def _assert_nothing_escaped(tmp_path: Path, before: set[Path]) -> None:
    after = {p for p in tmp_path.rglob("*") if "data" not in p.relative_to(tmp_path).parts}
    assert after == before, after - before
    assert (tmp_path / "outside" / "secret").read_text() == "secret"


@pytest.mark.usefixtures("tar_parser")
@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_hostile_archives_are_refused_through_prepare(env, server, tmp_path, kind):
    write_settings(env)
    outside = _outside(tmp_path)
    cases = _hostile_tars(outside) if kind == "tar" else _hostile_zips(outside)
    before = {p for p in tmp_path.rglob("*") if "data" not in p.relative_to(tmp_path).parts}
    for index, (case, (archive, member)) in enumerate(cases.items()):
        dataset_id = f"test.hostile{index}"
        serve_dataset(env, server, dataset_id, archive, unpack=f"un{kind}", type_="folder")
        with pytest.raises(UnpackError) as caught:
            dmconf.prepare(dataset_id)
        assert repr(member) in str(caught.value), case
        assert caught.value.member == member, case
        folder = env.folder(dataset_id)
        assert not (folder / "payload").exists() and leftovers(folder) == [], case
        before |= {p for p in tmp_path.rglob("*") if "data" not in p.relative_to(tmp_path).parts}
    _assert_nothing_escaped(tmp_path, before)


@pytest.mark.usefixtures("tar_parser")
@pytest.mark.parametrize("use_data_filter", sorted({False, HAS_DATA_FILTER}))
def test_hostile_tars_are_refused_with_and_without_the_data_filter(tmp_path, use_data_filter):
    outside = _outside(tmp_path)
    for case, (archive, member) in _hostile_tars(outside).items():
        source = tmp_path / f"{case}.tar"
        source.write_bytes(archive)
        target = tmp_path / "data" / case
        target.parent.mkdir(exist_ok=True)
        with pytest.raises(UnpackError) as caught:
            Untar(use_data_filter).unpack(source, target)
        assert caught.value.member == member, case
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert not list(tmp_path.glob("*.txt")) and not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.usefixtures("tar_parser")
def test_the_fallback_checks_extract_a_good_archive(tmp_path, umask022):
    source = tmp_path / "good.tar"
    source.write_bytes(_good_tar("w:gz"))
    Untar(use_data_filter=False).unpack(source, tmp_path / "out")
    assert (tmp_path / "out/data/copy.txt").read_bytes() == TEXT
    assert stat.S_IMODE(os.stat(tmp_path / "out/data/run.sh").st_mode) == 0o755


@pytest.mark.usefixtures("tar_parser")
def test_a_corrupt_archive_is_an_unpack_error(env, server):
    write_settings(env)
    serve_dataset(env, server, "test.bad", b"PK\x03\x04 definitely not a zip", unpack="unzip",
                  type_="folder")
    with pytest.raises(UnpackError, match="not a valid zip archive"):
        dmconf.prepare("test.bad")
    serve_dataset(env, server, "test.bad2", b"not a tar at all" * 100, unpack="untar",
                  type_="folder")
    with pytest.raises(UnpackError, match="not a valid tar archive"):
        dmconf.prepare("test.bad2")
    assert leftovers(env.folder("test.bad")) == leftovers(env.folder("test.bad2")) == []


def test_zip_member_checks_run_without_zipfile_sanitising(tmp_path):
    outside = _outside(tmp_path)
    (tmp_path / "data").mkdir()
    for case, (archive, member) in _hostile_zips(outside).items():
        source = tmp_path / f"{case}.zip"
        source.write_bytes(archive)
        with pytest.raises(UnpackError) as caught:
            Unzip().unpack(source, tmp_path / "data" / case)
        assert caught.value.member == member, case
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


def _tar_of(members: list[tarfile.TarInfo], data: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info in members:
            payload = data.get(info.name)
            if payload is not None:
                info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return buffer.getvalue()


def test_concat_joins_regular_members_in_order_and_refuses_links(tmp_path: Path) -> None:
    from dmconf.unpack import unpacker_for
    from dmconf.unpack.limits import Limits

    folder, part2 = tarfile.TarInfo("parts"), tarfile.TarInfo("parts/b")
    folder.type = tarfile.DIRTYPE
    source = tmp_path / "qrels.tar.gz"
    source.write_bytes(_tar_of([tarfile.TarInfo("a.gz"), folder, part2],
                               {"a.gz": gzip.compress(b"1 0 d1 1\n"), "parts/b": b"2 0 d2 0\n"}))
    digest = unpacker_for("concat").unpack(source, tmp_path / "joined")
    assert (tmp_path / "joined").read_bytes() == b"1 0 d1 1\n2 0 d2 0\n"
    assert digest == hashlib.sha256(b"1 0 d1 1\n2 0 d2 0\n").hexdigest()

    link = tarfile.TarInfo("evil")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    source.write_bytes(_tar_of([link], {}))
    with pytest.raises(UnpackError, match="evil"):
        unpacker_for("concat").unpack(source, tmp_path / "refused")
    source.write_bytes(_tar_of([tarfile.TarInfo("big")], {"big": b"x" * 4096}))
    with pytest.raises(UnpackError, match="more than 1000 bytes"):
        unpacker_for("concat", Limits(size=1000)).unpack(source, tmp_path / "bomb")
    source.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(UnpackError, match="not a valid tar archive"):
        unpacker_for("concat").unpack(source, tmp_path / "corrupt")


@pytest.mark.usefixtures("tar_parser")
@pytest.mark.parametrize("use_data_filter", sorted({False, HAS_DATA_FILTER}))
def test_the_digest_taken_while_extracting_is_the_tree_digest(tmp_path, use_data_filter):
    """``dmconf verify`` reads the tree back with tree_sha256: the digest recorded from the
    extraction itself must be the same, whatever the members' order, overwrites and links;
    and a tree with more folders than descriptors kept open extracts whole."""
    members = [(_info(f"./many/f{i:03d}/x.txt"), b"%d" % i) for i in range(300)]
    members += [(_info("many/f001/x.txt"), b"again")]  # the last of a name wins
    source = tmp_path / "t.tar"
    source.write_bytes(_tar([
        (_info("z/later.txt"), b"z"), *members,
        (_info("data/latest", tarfile.SYMTYPE, link="train.txt"), None),
        (_info("data/latest"), b"a file now"),  # a link replaced by a file
        (_info("data/train.txt"), TEXT), (_info("data/sub/", tarfile.DIRTYPE), None),
        (_info("data/copy.txt", tarfile.LNKTYPE, link="./data/train.txt"), None),
        (_info("data/train.txt"), b"rewritten after the hard link"),
        (_info("a-link", tarfile.SYMTYPE, link="data/sub"), None),
        (_info("empty/", tarfile.DIRTYPE), None),
    ], "w:gz"))
    digest = Untar(use_data_filter).unpack(source, tmp_path / "out")
    assert digest == tree_sha256(tmp_path / "out")
    assert (tmp_path / "out/data/copy.txt").read_bytes() == TEXT
    assert (tmp_path / "out/many/f001/x.txt").read_bytes() == b"again"
    assert len(list((tmp_path / "out/many").iterdir())) == 300
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("b/2.txt", "a/1.txt", "a/", "b/c/3.txt", "top.txt"):
            archive.writestr(name, name)
    (tmp_path / "z.zip").write_bytes(buffer.getvalue())
    assert Unzip().unpack(tmp_path / "z.zip", tmp_path / "z") == tree_sha256(tmp_path / "z")


def test_a_folder_swapped_for_a_link_between_members_is_not_followed(tmp_path):
    """Another user of a shared data folder replaces an extracted folder by a link to their
    own place while the archive is being written: later members still go into the folder
    that was made (it is held open), never through the link."""
    outside = _outside(tmp_path)
    extraction = Extraction(tmp_path / "a.tar", tmp_path / "out", 1)

    class Swapping(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if not (tmp_path / "out/d").is_symlink():
                os.rename(tmp_path / "out/d", tmp_path / "moved")
                os.symlink(outside, tmp_path / "out/d")
            return super().read(size)

    with extraction:
        extraction.file("d/a.txt", Swapping(b"a"), False)
        extraction.file("d/b.txt", io.BytesIO(b"b"), False)
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert sorted(p.name for p in (tmp_path / "moved").iterdir()) == ["a.txt", "b.txt"]
