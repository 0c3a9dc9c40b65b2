"""Handing prepared data to distributed engines: ``dmconf paths`` and ``IDX.to_dask()``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from conftest import MNIST_ID, Env, MnistFiles, idx_bytes
from httpserver import FileServer
from versioned import CONTENT, VERSIONED_ID, versioned_definition

from dmconf.cli import main
from dmconf.data.tensor import IDX

PARTS = ["train.images", "train.labels", "test.images", "test.labels"]


@pytest.fixture
def odd_data(mnist_env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder whose path needs quoting in a URI (a space, '#', '%', non-ASCII)."""
    folder = tmp_path / "shared disk #1 %20 é"
    monkeypatch.setenv("DMCONF_DATA", str(folder))
    return folder


def test_paths_json_lists_every_item_as_path_and_uri(
    odd_data: Path, mnist: MnistFiles, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["paths", MNIST_ID, "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["id"] == MNIST_ID and Path(listing["folder"]).parent == odd_data / MNIST_ID
    assert [i["part"] for i in listing["items"]] == PARTS
    for item in listing["items"]:
        path = Path(item["path"])
        assert path.is_absolute() and path.parent == Path(listing["folder"])
        assert item["type"] == "IDX" and item["kind"] == "file"
        assert item["bytes"] == path.stat().st_size == len(idx_bytes(mnist.arrays[path.name]))
        uri = urlsplit(item["uri"])  # what Ray, Dask and Spark parse
        assert uri.scheme == "file" and Path(unquote(uri.path)) == path
        assert " " not in item["uri"] and "#1" not in item["uri"]
    assert Path(unquote(urlsplit(listing["folder_uri"]).path)) == Path(listing["folder"])


def test_paths_of_a_part_and_plain_output(
    odd_data: Path, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["paths", MNIST_ID, "train"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [Path(line).name for line in lines] == ["train_images", "train_labels"]
    assert main(["paths", MNIST_ID, "train.imagez"]) == 1
    assert capsys.readouterr().err.strip().endswith(
        "part 'train.imagez': train has no item 'imagez'; its items are images, labels")


def test_paths_take_versions_and_variants(
    env: Env, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    env.define(VERSIONED_ID, versioned_definition(server))
    assert main(["paths", "test.v@2.0:small", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["id"] == "test.v@2.0.0:small"
    [item] = listing["items"]
    assert item["part"] == "" and Path(item["path"]).read_bytes() == CONTENT["small"]


# The check runs in a child process: audit hooks cannot be removed once added.
LAZY = """
import json, pickle, sys
from pathlib import Path

import numpy as np

from dmconf.data.tensor import IDX

path = Path(sys.argv[1])
events = []


def hook(event, args):
    if event == "open" and args and str(args[0]) == str(path):
        events.append(["open"])
    elif event == "mmap.__new__":
        events.append(["mmap", args[3]])  # the offset mapped


sys.addaudithook(hook)
array = IDX(path=path).to_dask(rows=1000)
built = list(events)
graph_bytes = len(pickle.dumps(array))
part = array[2500:3500].astype(np.int64).sum().compute(scheduler="synchronous")
print(json.dumps({"built": built, "computed": events[len(built):], "graph_bytes": graph_bytes,
                  "sum": int(part), "chunks": [list(c) for c in array.chunks],
                  "shape": list(array.shape), "dtype": str(array.dtype)}))
"""


def test_a_dask_array_over_idx_reads_no_data_until_computed(tmp_path: Path) -> None:
    images = np.random.default_rng(7).integers(0, 256, size=(6000, 28, 28), dtype=np.uint8)
    path = tmp_path / "images.idx"
    path.write_bytes(idx_bytes(images))
    script = tmp_path / "lazy.py"
    script.write_text(textwrap.dedent(LAZY))
    proc = subprocess.run([sys.executable, str(script), str(path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    # building: the header is read (one open), nothing is mapped
    assert report["built"] == [["open"]]
    assert report["shape"] == [6000, 28, 28] and report["dtype"] == "uint8"
    assert report["chunks"][0] == [1000] * 6
    # the graph carries offsets, not the 4.7 MB of data
    assert report["graph_bytes"] < 20_000 < images.nbytes
    # computing rows 2500-3500 maps the two chunks that hold them, at their offsets, only
    header, row = 16, 28 * 28
    mapped = sorted(e[1] for e in report["computed"] if e[0] == "mmap")
    offsets = [header + 2000 * row, header + 3000 * row]
    assert [m - m % 4096 for m in mapped] == [o - o % 4096 for o in offsets]  # page-aligned
    assert report["sum"] == int(images[2500:3500].astype(np.int64).sum())


def test_a_dask_array_equals_the_memory_map(tmp_path: Path) -> None:
    labels = np.arange(-500, 500, dtype=">i4").reshape(100, 10)
    path = tmp_path / "labels.idx"
    path.write_bytes(idx_bytes(labels))
    idx = IDX(path=path)
    lazy = idx.to_dask(rows=7)
    assert lazy.chunks[0] == (7,) * 14 + (2,)
    assert np.array_equal(lazy.compute(scheduler="synchronous"), idx.data())
    assert idx.to_dask().chunks[0] == (100,)  # default: one chunk up to 64 MiB
    with pytest.raises(ValueError, match="rows must be positive"):
        idx.to_dask(rows=0)
