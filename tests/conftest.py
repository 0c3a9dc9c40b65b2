"""Shared fixtures: a real HTTP server on 127.0.0.1, generated MNIST-format files, and an
isolated dmconf environment (data folder, catalogue root, settings file) per test."""

from __future__ import annotations

import gzip
import hashlib
import logging
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from httpserver import FileServer, Running

MNIST_ID = "test.mnist"


@pytest.fixture(scope="session")
def http() -> Iterator[FileServer]:
    """The loopback server; tests add files and faults to it, and read its request log."""
    running = Running()
    yield running.state
    running.stop()


@pytest.fixture
def server(http: FileServer) -> Iterator[FileServer]:
    """The loopback server with an empty request log and no faults."""
    http.reset()
    yield http
    http.reset()


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode an array in LeCun's IDX format (written here independently of dmconf)."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
             np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
    big = array.astype(array.dtype.newbyteorder(">"), copy=False)
    header = bytes([0, 0, codes[big.dtype], array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + big.tobytes()


@dataclass
class MnistFiles:
    """Generated MNIST-format data: arrays, and gzipped IDX bytes per resource key."""

    arrays: dict[str, np.ndarray]
    gz: dict[str, bytes]

    def sha256(self, key: str) -> str:
        return hashlib.sha256(self.gz[key]).hexdigest()


@pytest.fixture(scope="session")
def mnist() -> MnistFiles:
    rng = np.random.default_rng(1998)
    arrays = {
        "train_images": rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, 60000, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, 10000, dtype=np.uint8),
    }
    # Mostly-black digits like the real ones, so gzip has something to do (and fast).
    for key in ("train_images", "test_images"):
        arrays[key][arrays[key] < 200] = 0
    gz = {k: gzip.compress(idx_bytes(a), compresslevel=1, mtime=0) for k, a in arrays.items()}
    return MnistFiles(arrays, gz)


def mnist_definition(server: FileServer, mnist: MnistFiles, prefix: str = "mnist") -> str:
    """A definition like the bundled MNIST one, served by the loopback server under prefix."""
    resources = {}
    for key, data in mnist.gz.items():
        server.files[f"{prefix}/{key}.gz"] = data
        resources[key] = {
            "url": server.url(f"{prefix}/{key}.gz"),
            "sha256": mnist.sha256(key),
            "size": len(data),
            "unpack": "gunzip",
        }
    definition = {
        "name": "MNIST (test copy)",
        "description": "Generated MNIST-format digits served from 127.0.0.1.",
        "url": server.url(prefix),
        "tags": ["image", "classification"],
        "tasks": ["image-classification"],
        "resources": resources,
        "type": "image-classification",
        "data": {
            part: {
                "images": {"type": "idx", "path": f"{part}_images"},
                "labels": {"type": "idx", "path": f"{part}_labels"},
            }
            for part in ("train", "test")
        },
    }
    return yaml.safe_dump(definition, sort_keys=False)


@dataclass
class Env:
    """An isolated dmconf environment: its folders, and a way to add definitions."""

    data: Path
    catalog: Path
    settings: Path

    def define(self, dataset_id: str, text: str) -> Path:
        """Write a definition file for ``dataset_id`` into the test catalogue root."""
        path = self.catalog.joinpath(*dataset_id.split(".")).with_suffix(".yaml")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def folder(self, dataset_id: str) -> Path:
        return self.data.joinpath(*dataset_id.split("."))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    """DMCONF_DATA, DMCONF_CATALOG and DMCONF_SETTINGS pointing into tmp_path."""
    result = Env(tmp_path / "data", tmp_path / "catalog", tmp_path / "settings.yaml")
    result.catalog.mkdir()
    result.settings.write_text("{}\n")
    monkeypatch.setenv("DMCONF_DATA", str(result.data))
    monkeypatch.setenv("DMCONF_CATALOG", str(result.catalog))
    monkeypatch.setenv("DMCONF_SETTINGS", str(result.settings))
    monkeypatch.delenv("DMCONF_OFFLINE", raising=False)
    return result


@pytest.fixture
def mnist_env(env: Env, server: FileServer, mnist: MnistFiles) -> Env:
    """The isolated environment with ``test.mnist`` defined and served."""
    env.define(MNIST_ID, mnist_definition(server, mnist))
    return env


@pytest.fixture(autouse=True)
def _reset_dmconf_logger() -> Iterator[None]:
    """The CLI attaches handlers to the dmconf logger; make sure none leaks between tests."""
    logger = logging.getLogger("dmconf")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


