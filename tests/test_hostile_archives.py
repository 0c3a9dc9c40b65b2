"""Class 1 and the archive limits of class 6: whatever the archive, no byte lands outside the
dataset's folder, and bombs stop at a limit with one clear line.

The archives are generated: symlink chains longer than PATH_MAX (where a non-strict realpath
gives up and answers lexically), links that escape only once a later link exists, and a few
hundred random trees of links with ``..`` in their targets. Extraction runs with and without
the interpreter's ``data`` filter, so nothing depends on ``tarfile`` being patched, and with
both tar parsers (``tarfile``'s and libarchive's: the ``tar_parser`` fixture).
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import random
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
from resources import leftovers, serve_dataset, write_settings

import dmconf
from dmconf.errors import UnpackError
from dmconf.unpack.limits import Limits
from dmconf.unpack.tar import HAS_DATA_FILTER, Untar
from dmconf.unpack.zip import Unzip

FILTERS = sorted({False, HAS_DATA_FILTER})


def _tar(members: list[tuple[str, bytes, str | bytes]], mode: str = "w") -> bytes:
    """members: (name, tar type, link target or file content)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode, format=tarfile.PAX_FORMAT) as tar:
        for name, kind, value in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = str(value)
                tar.addfile(info)
            elif kind == tarfile.DIRTYPE:
                info.mode = 0o755
                tar.addfile(info)
            else:
                data = value if isinstance(value, bytes) else value.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _path_max_chain(depth: int) -> list[tuple[str, bytes, str | bytes]]:
    """The shape of CVE-2025-4517: links to long folder names, chained until the real path is
    longer than PATH_MAX, then a link that climbs out, then a file written through it."""
    long = "d" * 247
    members: list[tuple[str, bytes, str | bytes]] = []
    steps = ""
    for letter in "abcdefghijklmnop"[:depth]:
        members.append((os.path.join(steps, long), tarfile.DIRTYPE, ""))
        members.append((os.path.join(steps, letter), tarfile.SYMTYPE, long))
        steps = os.path.join(steps, letter)
    climb = os.path.join(steps, "l" * 254)
    members.append((climb, tarfile.SYMTYPE, "../" * depth))
    members.append(("escape", tarfile.SYMTYPE, climb + "/.." * 8 + "/outside"))
    members.append(("escape/evil.txt", tarfile.REGTYPE, b"evil"))
    return members


def _late_escape() -> list[tuple[str, bytes, str | bytes]]:
    """``a`` points inside while ``sub/b`` is missing; once ``sub/b -> .`` exists it is out."""
    return [("sub", tarfile.DIRTYPE, ""), ("a", tarfile.SYMTYPE, "sub/b/../.."),
            ("sub/b", tarfile.SYMTYPE, ".")]


def _random_links(rng: random.Random) -> list[tuple[str, bytes, str | bytes]]:
    names = ["x", "y", "z", "d/x", "d/y", "d/e/x"]
    parts = ["..", ".", "x", "y", "d", "e", "z"]
    members: list[tuple[str, bytes, str | bytes]] = [
        ("d", tarfile.DIRTYPE, ""), ("d/e", tarfile.DIRTYPE, "")]
    for _ in range(rng.randint(1, 6)):
        target = "/".join(rng.choice(parts) for _ in range(rng.randint(1, 5)))
        members.append((rng.choice(names), tarfile.SYMTYPE, target))
    if rng.random() < 0.5:  # and maybe a file written through whatever is there
        members.append((rng.choice(names) + "/f", tarfile.REGTYPE, b"f"))
    return members


def _outside(tmp_path: Path) -> tuple[Path, set[str]]:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("secret")
    return outside, _listing(tmp_path)


def _listing(tmp_path: Path) -> set[str]:
    return {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
            if not str(p.relative_to(tmp_path)).startswith("work")}


def _all_links_inside(root: Path) -> None:
    real_root = os.path.realpath(root)
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            if os.path.islink(path):  # short paths here: realpath is exact
                real = os.path.realpath(path)
                assert os.path.commonpath([real_root, real]) == real_root, (path, real)


@pytest.mark.usefixtures("tar_parser")
@pytest.mark.parametrize("use_data_filter", FILTERS)
@pytest.mark.parametrize("depth", [2, 8, 16])
def test_symlink_chains_past_path_max_are_refused(tmp_path, use_data_filter, depth):
    _, before = _outside(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    source = work / "chain.tar"
    source.write_bytes(_tar(_path_max_chain(depth)))
    with pytest.raises(UnpackError, match="refusing to extract member"):
        Untar(use_data_filter).unpack(source, work / "out")
    assert _listing(tmp_path) == before
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.usefixtures("tar_parser")
@pytest.mark.parametrize("use_data_filter", FILTERS)
def test_a_link_that_escapes_once_a_later_link_exists(tmp_path, use_data_filter):
    _, before = _outside(tmp_path)
    source = tmp_path / "late.tar"
    source.write_bytes(_tar(_late_escape()))
    with pytest.raises(UnpackError, match=r"'a'.*once every member is extracted"):
        Untar(use_data_filter).unpack(source, tmp_path / "work")
    assert _listing(tmp_path) == before | {"late.tar"}


@pytest.mark.usefixtures("tar_parser")
@pytest.mark.parametrize("use_data_filter", FILTERS)
def test_random_link_trees_never_escape(tmp_path, use_data_filter):
    """300 generated archives: each is refused, or extracted with every link inside."""
    rng = random.Random(9)
    _, before = _outside(tmp_path)
    refused = 0
    for index in range(300):
        work = tmp_path / "work" / str(index)
        work.mkdir(parents=True)
        source = work / "random.tar"
        source.write_bytes(_tar(_random_links(rng)))
        try:
            Untar(use_data_filter).unpack(source, work / "out")
        except UnpackError as exc:
            refused += 1
            assert exc.member, exc
        else:
            _all_links_inside(work / "out")
    assert _listing(tmp_path) == before
    assert 30 < refused < 270  # the generator makes both kinds


def test_hostile_zip_members(tmp_path):
    _, before = _outside(tmp_path)

    def zipped(*members: tuple[str, bytes, bool], flag: int = 0) -> Path:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data, link in members:
                info = zipfile.ZipInfo(name)
                if link:
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                archive.writestr(info, data)
        raw = bytearray(buffer.getvalue().replace(b"okQ/", b"ok\0/"))  # zipfile cuts at NUL
        if flag:  # set the "encrypted" bit in the local and central headers
            for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
                at = raw.find(signature)
                raw[at + offset] |= flag
        path = tmp_path / f"z{len(list(tmp_path.glob('z*')))}.zip"
        path.write_bytes(bytes(raw))
        return path

    cases = {
        "late escape": (zipped(("sub/", b"", False), ("a", b"sub/b/../..", True),
                               ("sub/b", b".", True)), "once every member"),
        "through a link": (zipped(("l", b".", True), ("l/f.txt", b"x", False)),
                           "goes through the link"),
        "NUL in a name": (zipped(("okQ/../../evil.txt", b"x", False)), "NUL"),
        "encrypted": (zipped(("secret.txt", b"x", False), flag=1), "encrypted"),
    }
    (tmp_path / "work").mkdir()
    for case, (source, says) in cases.items():
        with pytest.raises(UnpackError, match=says):
            Unzip().unpack(source, tmp_path / "work" / case)
    assert _listing(tmp_path) - {p.name for p in tmp_path.glob("z*.zip")} == before


@pytest.mark.usefixtures("tar_parser")
@pytest.mark.parametrize("compress", ["w:xz", "w:bz2", "w:gz"])
def test_a_corrupt_compressed_tar_fails_instead_of_extracting_half(env, server, compress):
    """The publisher's file is truncated: the sha256 matches, extraction must still fail."""
    write_settings(env)
    members = [(f"m{i}.txt", tarfile.REGTYPE, os.urandom(2000)) for i in range(50)]
    whole = _tar(members, compress)
    serve_dataset(env, server, "test.corrupt", whole[: len(whole) * 3 // 4], unpack="untar",
                  type_="folder")
    with pytest.raises(UnpackError) as caught:
        dmconf.prepare("test.corrupt")
    message = str(caught.value)
    assert "test.corrupt: resource 'payload' from http://127.0.0.1" in message
    assert ".part" not in message and ".unpack" not in message  # no hidden temporary named
    folder = env.folder("test.corrupt")
    assert not (folder / "payload").exists() and leftovers(folder) == []


@pytest.mark.usefixtures("tar_parser")
def test_bombs_stop_at_the_limits(env, server):
    write_settings(env, unpack_max_members=100)
    many = _tar([(f"f{i}", tarfile.REGTYPE, b"") for i in range(101)])
    serve_dataset(env, server, "test.many", many, unpack="untar", type_="folder")
    with pytest.raises(UnpackError, match=r"more than 100 members.*unpack_max_members"):
        dmconf.prepare("test.many")
    # a 2 GiB zero file is a few MB of xz, a ratio far beyond the default 1000; never written
    bomb = lzma.compress(b"\0" * (64 << 20), preset=9)
    serve_dataset(env, server, "test.bomb", bomb, unpack="unxz", max_unpacked_size=1 << 20)
    with pytest.raises(UnpackError, match=r"more than 1048576 bytes.*max_unpacked_size") as caught:
        dmconf.prepare("test.bomb")
    assert "test.bomb: resource 'payload' from http://127.0.0.1" in str(caught.value)
    assert leftovers(env.folder("test.bomb")) == []
    # the ratio, beyond its floor (checked on the limits themselves: no GiB written here)
    with pytest.raises(UnpackError, match="expands more than 1000 times"):
        Limits().check("x.bz2", (1 << 30) + 1, 1000)
    Limits().check("x.bz2", (1 << 30) - 1, 1000)  # below the floor: a small file is fine
    assert bz2  # imported for symmetry with the compressions above


@pytest.mark.usefixtures("tar_parser")
def test_a_bomb_after_the_end_of_the_archive_stops_at_the_limits(env, server):
    """The compressed stream is read to its end after the last member (a truncated one must
    fail): what it inflates there is never written, but counts against the limits, or a bomb
    appended after the archive's end would cost unbounded CPU time."""
    archive = _tar([("data/a.txt", tarfile.REGTYPE, b"a")])
    padded = lzma.compress(archive + b"\0" * (8 << 20))  # a few kB
    serve_dataset(env, server, "test.trailing", padded, unpack="untar", type_="folder",
                  max_unpacked_size=1 << 20)
    with pytest.raises(UnpackError, match=r"more than 1048576 bytes.*max_unpacked_size") as caught:
        dmconf.prepare("test.trailing")
    assert "test.trailing: resource 'payload' from http://127.0.0.1" in str(caught.value)
    assert leftovers(env.folder("test.trailing")) == []
    # the same archive with a real tar's padding (zeros up to its 10 KiB record) extracts
    serve_dataset(env, server, "test.padded", lzma.compress(archive + b"\0" * 10240),
                  unpack="untar", type_="folder", max_unpacked_size=1 << 20)
    assert (Path(dmconf.prepare("test.padded").path) / "data/a.txt").read_bytes() == b"a"


@pytest.mark.usefixtures("tar_parser")
def test_an_archive_made_with_tar_c_dot_extracts(tmp_path):
    """``tar -C folder -cf x.tar .`` names its first member ``./``: the root, not a problem."""
    source = tmp_path / "dot.tar"
    source.write_bytes(_tar([("./", tarfile.DIRTYPE, ""), ("./a/", tarfile.DIRTYPE, ""),
                             ("./a/b.txt", tarfile.REGTYPE, b"b"), ("./l", tarfile.SYMTYPE, "a")]))
    Untar(use_data_filter=False).unpack(source, tmp_path / "out")
    assert (tmp_path / "out/l/b.txt").read_bytes() == b"b"
    with pytest.raises(UnpackError, match="no name"):
        Untar(use_data_filter=False).unpack(_write(tmp_path / "x.tar", _tar(
            [(".", tarfile.REGTYPE, b"x")])), tmp_path / "out2")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.usefixtures("tar_parser")
def test_limits_are_overridable_per_resource_and_in_the_settings(env, server):
    write_settings(env, unpack_max_members=10)
    members = _tar([(f"f{i}", tarfile.REGTYPE, b"x") for i in range(20)])
    serve_dataset(env, server, "test.twenty", members, unpack="untar", type_="folder",
                  max_members=50)
    assert len(list(Path(dmconf.prepare("test.twenty").path).iterdir())) == 20
