"""Shared fixtures: a real HTTP server on 127.0.0.1, generated MNIST-format files, and an
isolated dmconf environment (data folder, catalogue root, settings file) per test."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from httpserver import FileServer, Running
from mnistdata import MnistFiles, idx_bytes, make_mnist
from realplugins import PINNED, run_ok
from servers import MotoS3, Sshd, start_moto, start_sshd, stop

from dmconf.settings import load_settings

MNIST_ID = "test.mnist"
__all__ = ["MNIST_ID", "Env", "MnistFiles", "idx_bytes", "mnist_definition"]


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


@pytest.fixture(params=["tarfile", "libarchive"])
def tar_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each tar test runs with both parsers: ``Untar`` (directly or through ``prepare``) uses
    this one. libarchive is in the test extra (``fast``) and installed by ``.ci/run``."""
    import dmconf.unpack.tar
    from dmconf.unpack.tar_libarchive import binding

    if request.param == "libarchive" and binding() is None:
        pytest.fail("libarchive is not installed: pip install 'dmconf[fast]' and libarchive13")
    monkeypatch.setattr(dmconf.unpack.tar, "PARSER", request.param)
    return str(request.param)


@pytest.fixture(scope="session")
def mnist() -> MnistFiles:
    return make_mnist()


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
        """The data folder of the catalogue's definition of ``dataset_id`` (dmconf's layout)."""
        import dmconf

        return load_settings().dataset_folder(dmconf.find(dataset_id))


@pytest.fixture(scope="session")
def irds_index(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """ir_datasets' registry listed once for the session (``None`` without ir_datasets).

    dmconf lists it into ``$DMCONF_CACHE/irds.json`` in a second interpreter (~1.5 s) whenever
    that file is missing, which every test with a fresh cache folder would pay again, mostly in
    CLI subprocesses. Tests of the listing itself use a cache folder of their own.
    """
    cache = tmp_path_factory.mktemp("irds-cache")
    code = "from dmconf.compat.irds import irds_entries; irds_entries()"
    environ = {**os.environ, "DMCONF_CACHE": str(cache)}
    subprocess.run([sys.executable, "-c", code], env=environ, check=True, capture_output=True)
    listed = cache / "irds.json"
    return listed if listed.is_file() else None


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalogue index of the bundled root (its listing and what search reads), built once
    for the session: each test's fresh ``DMCONF_CACHE`` would list it and, to search, parse
    every bundled definition again. Tests of the index itself use roots of their own."""
    from dmconf.catalog import BUNDLED, Catalog, Root, bundled_root

    cache = tmp_path_factory.mktemp("catalog-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DMCONF_CACHE", str(cache))
        Catalog([Root(bundled_root(), "bundled catalogue", BUNDLED)]).search("any")
    return cache / "catalog"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, irds_index: Path | None,
        bundled_index: Path) -> Env:
    """DMCONF_DATA, DMCONF_CATALOG and DMCONF_SETTINGS pointing into tmp_path; DMCONF_CACHE too,
    holding the session's listing of ir_datasets and index of the bundled catalogue."""
    result = Env(tmp_path / "data", tmp_path / "catalog", tmp_path / "settings.yaml")
    result.catalog.mkdir()
    result.settings.write_text("{}\n")
    cache = tmp_path / "cache"  # indexes of the catalogue and of Python definitions, ir_datasets
    shutil.copytree(bundled_index, cache / bundled_index.name)
    if irds_index is not None:
        shutil.copyfile(irds_index, cache / irds_index.name)
    monkeypatch.setenv("DMCONF_DATA", str(result.data))
    monkeypatch.setenv("DMCONF_CATALOG", str(result.catalog))
    monkeypatch.setenv("DMCONF_SETTINGS", str(result.settings))
    monkeypatch.setenv("DMCONF_CACHE", str(cache))
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
    disabled = logging.root.manager.disable
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
    # A switch left off here silences every later test's log lines (they then fail far away).
    leaked = logging.root.manager.disable
    logging.disable(disabled)
    assert leaked == disabled, f"this test left logging.disable({leaked}) behind"




@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """OpenSSH's sshd on a free loopback port (skipped, with the reason, where it cannot run)."""
    running, process = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield running
    stop(process)


@pytest.fixture
def ssh_home(sshd: Sshd, monkeypatch: pytest.MonkeyPatch) -> Sshd:
    """HOME pointing at the sshd client's home (its key, known_hosts and ~/.ssh/config)."""
    monkeypatch.setenv("HOME", str(sshd.home))
    return sshd


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    """moto's S3 server as a subprocess on a free loopback port."""
    running, process = start_moto(tmp_path_factory.mktemp("moto"))
    yield running
    stop(process)


# The real datamaestro plugins (tests/test_real_plugins.py), ported once a session.
@pytest.fixture(scope="session")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four plugins, ported and installed into one folder for PYTHONPATH."""
    base = tmp_path_factory.mktemp("real-plugins")
    env = dict(os.environ)
    run_ok([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(base / "dl"),
          *PINNED], env)
    dmconf_cli = str(Path(sys.executable).with_name("dmconf"))
    for archive in sorted((base / "dl").iterdir()):
        run_ok([dmconf_cli, "port", str(archive), "--out", str(base / "ported")], env)
    projects = sorted(str(p) for p in (base / "ported").iterdir())
    assert len(projects) == 4
    run_ok([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
          "--target", str(base / "site"), *projects], env)
    return base / "site"
