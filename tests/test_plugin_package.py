"""The founding README's Python definition of MNIST, ported by changing its import prefix,
shipped in a plugin package installed with pip, and used through every door: search, info,
prepare (CLI and Python) and a Hydra app.

The package is installed once per session with ``pip install --target`` into a temporary folder
that only these tests put on the path (``PYTHONPATH`` for subprocesses, ``sys.path`` in
process), so it never leaks into other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import Env, MnistFiles
from httpserver import FileServer

# The founding datamaestro README's definition, verbatim.
# One worker runs this file: its fixtures are built once, not once per worker.
pytestmark = pytest.mark.xdist_group("plugin-package")

FOUNDING_DEFINITION = '''
from datamaestro_image.data import ImageClassification, LabelledImages, Generic, IDXImage
from datamaestro.download.single import filedownloader
from datamaestro.definitions import data, argument, datatasks, datatags, dataset
from datamaestro.data.tensor import IDX

@filedownloader("train_images.idx", "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz")
@filedownloader("train_labels.idx", "http://yann.lecun.com/exdb/mnist/train-labels-idx1-ubyte.gz")
@filedownloader("test_images.idx", "http://yann.lecun.com/exdb/mnist/t10k-images-idx3-ubyte.gz")
@filedownloader("test_labels.idx", "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz")
@dataset(
  ImageClassification,
  url="http://yann.lecun.com/exdb/mnist/",
)
def MNIST(train_images, train_labels, test_images, test_labels):
  """The MNIST database

  The MNIST database of handwritten digits, available from this page, has a
  training set of 60,000 examples, and a test set of 10,000 examples. It is a
  subset of a larger set available from NIST. The digits have been
  size-normalized and centered in a fixed-size image.
  """
  return {
    "train": LabelledImages(images=IDXImage(path=train_images), labels=IDX(path=train_labels)),
    "test": LabelledImages(images=IDXImage(path=test_images), labels=IDX(path=test_labels)),
  }
'''

# A second definition: sha256 pinned, tags computed (so search must import it once to know them).
PINNED_DEFINITION = '''
from dmconf.data.tensor import IDX
from dmconf.definitions import dataset, datatags, datatasks
from dmconf.download.single import filedownloader

TAGS = ("digits", "labels")

@filedownloader("labels.idx", "{url}", sha256="{sha256}")
@datatasks("classification")
@datatags(*TAGS)
@dataset(IDX, id="org.example.labels")
def labels(labels):
    """MNIST training labels

    Only the labels, pinned by their sha256.
    """
    return IDX(path=labels)
'''

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "dmconf-test-mnist"
version = "1.0"

[project.entry-points."dmconf.datasets"]
"org.example.mnist" = "mnist_plugin.mnist:MNIST"
"org.example.labels" = "mnist_plugin.pinned:labels"

[tool.hatch.build.targets.wheel]
packages = ["mnist_plugin"]
"""

MNIST_ID = "org.example.mnist"
FILES = {"train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
         "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}


def ported(source: str, base_url: str) -> str:
    """The port: the import prefix changed, and the URLs pointing at the loopback server."""
    source = source.replace("datamaestro_image.data", "dmconf.data.image")
    source = source.replace("datamaestro", "dmconf")
    return source.replace("http://yann.lecun.com/exdb/mnist/", base_url)


@dataclass
class Plugin:
    """The installed plugin: the folder it was installed into."""

    site: Path


@pytest.fixture(scope="session")
def plugin(tmp_path_factory: pytest.TempPathFactory, http: FileServer, mnist: MnistFiles) -> Plugin:
    for key, name in FILES.items():
        http.files[f"lecun/{name}"] = mnist.gz[key]
    source = tmp_path_factory.mktemp("plugin-source")
    package = source / "mnist_plugin"
    package.mkdir()
    (source / "pyproject.toml").write_text(PYPROJECT)
    (package / "__init__.py").write_text("")
    (package / "mnist.py").write_text(ported(FOUNDING_DEFINITION, http.url("lecun/")))
    (package / "pinned.py").write_text(
        PINNED_DEFINITION.format(
            url=http.url("lecun/train-labels-idx1-ubyte.gz"), sha256=mnist.sha256("train_labels")
        )
    )
    site = tmp_path_factory.mktemp("plugin-site")
    # --no-build-isolation: build with the hatchling of the test environment, no network.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--disable-pip-version-check", "--target", str(site),
         str(source)],
        check=True,
    )
    return Plugin(site)


@pytest.fixture
def plugin_env(
    env: Env, plugin: Plugin, server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Env]:
    """The isolated environment (its own DMCONF_CACHE too), the plugin importable in process."""
    monkeypatch.syspath_prepend(str(plugin.site))
    _forget_plugin()
    yield env
    _forget_plugin()


def _forget_plugin() -> None:
    from dmconf import entrypoints

    entrypoints._memory.clear()
    for name in [m for m in sys.modules if m.split(".")[0] == "mnist_plugin"]:
        del sys.modules[name]


def dmconf_cli(*args: str, site: Path) -> subprocess.CompletedProcess[str]:
    """The installed ``dmconf`` command, run as a user would, with the plugin installed."""
    script = Path(sys.executable).with_name("dmconf")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dmconf.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=with_path(site))


def with_path(site: Path) -> dict[str, str]:
    """The environment, with the plugin's folder first on PYTHONPATH."""
    rest = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *([rest] if rest else [])])}


def test_search_finds_the_ported_definition_without_importing_it(plugin_env: Env) -> None:
    from dmconf import search

    assert search("handwritten digits") == ["com.lecun.mnist", MNIST_ID]  # bundled, and ours
    assert "mnist_plugin.mnist" not in sys.modules  # read from the source, not run
    assert search("tag:digits") == ["org.example.labels"]  # computed tags: imported, once
    assert "mnist_plugin.pinned" in sys.modules

    _forget_plugin()  # a new process: the index on disk answers, nothing is imported
    assert search("tag:digits task:classification") == ["org.example.labels"]
    # The bundled MNIST-format datasets (Fashion-MNIST, KMNIST) match too.
    assert search("MNIST") == ["com.github.zalandoresearch.fashion-mnist", "com.lecun.mnist",
                               "jp.ac.rois.codh.kmnist", "org.example.labels", MNIST_ID]
    assert not [m for m in sys.modules if m.startswith("mnist_plugin.")]


def test_the_index_follows_edits_of_the_module(plugin_env: Env, plugin: Plugin) -> None:
    from dmconf import search

    assert search("handwritten") == ["com.lecun.mnist", MNIST_ID]
    module = plugin.site / "mnist_plugin" / "mnist.py"
    original = module.read_text()
    try:
        module.write_text(original.replace("handwritten digits", "scribbled numerals"))
        _forget_plugin()
        assert search("handwritten") == ["com.lecun.mnist"]
        assert search("scribbled") == [MNIST_ID]
    finally:
        module.write_text(original)


def test_cli_search_info_and_prepare(plugin_env: Env, plugin: Plugin, server: FileServer) -> None:
    found = dmconf_cli("search", "mnist", site=plugin.site)
    assert found.returncode == 0, found.stderr
    assert MNIST_ID in found.stdout.split()

    info = dmconf_cli("info", MNIST_ID, site=plugin.site)
    assert info.returncode == 0, info.stderr
    assert f"{MNIST_ID} - The MNIST database" in info.stdout
    assert "has a\n  training set of 60,000 examples" in info.stdout  # the docstring, dedented
    assert "mnist_plugin.mnist:MNIST" in info.stdout  # where it is defined

    prepared = dmconf_cli("prepare", MNIST_ID, site=plugin.site)
    assert prepared.returncode == 0, prepared.stderr
    folder = plugin_env.folder(MNIST_ID)
    assert json.loads(prepared.stdout) == {  # the founding README's JSON
        "train": {"images": {"path": str(folder / "train_images.idx")},
                  "labels": {"path": str(folder / "train_labels.idx")}},
        "test": {"images": {"path": str(folder / "test_images.idx")},
                 "labels": {"path": str(folder / "test_labels.idx")}},
        "id": MNIST_ID,
    }
    # No sha256 in the founding definition: the computed one is printed, to be pinned.
    assert "has no sha256" in prepared.stderr
    assert len(server.requests_for("lecun/train-images-idx3-ubyte.gz")) == 1


def test_prepare_dataset_gives_the_arrays(plugin_env: Env, mnist: MnistFiles) -> None:
    from dmconf import prepare_dataset

    ds = prepare_dataset(MNIST_ID)
    images = ds.train.images.data()  # type: ignore[attr-defined]
    assert images.dtype == np.uint8 and images.shape == (60000, 28, 28)
    assert np.array_equal(images, mnist.arrays["train_images"])
    assert np.array_equal(ds.test.labels.data(), mnist.arrays["test_labels"])  # type: ignore[attr-defined]


def test_a_pinned_sha256_is_checked(plugin_env: Env, server: FileServer) -> None:
    from httpserver import Fault

    from dmconf import ChecksumMismatch, prepare_dataset

    server.faults["lecun/train-labels-idx1-ubyte.gz"] = Fault(body=b"not the labels")
    with pytest.raises(ChecksumMismatch, match=r"org\.example\.labels"):
        prepare_dataset("org.example.labels")
    server.reset()
    labels = prepare_dataset("org.example.labels")
    assert labels.data().shape == (60000,)  # type: ignore[attr-defined]


def test_info_yaml_round_trips(plugin_env: Env) -> None:
    import yaml

    from dmconf import find
    from dmconf.definition import DatasetDefinition

    definition = find(MNIST_ID)
    text = definition.to_yaml()
    again = DatasetDefinition.from_mapping(yaml.safe_load(text))
    assert again.model_dump() == definition.model_dump()
    assert again.content_digest() == definition.content_digest()
    # Written where its id says, the YAML is an ordinary catalogue entry: one model.
    path = plugin_env.define("org.example.copy", text.replace(MNIST_ID, "org.example.copy"))
    copy = find("org.example.copy")
    assert copy.data == definition.data and copy.resources == definition.resources
    assert path.read_text().startswith("id: org.example.copy\nname: The MNIST database\n")


def test_an_id_in_a_user_root_wins_over_an_entry_point_with_one_warning(
    plugin_env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    from dmconf import find, list_ids

    path = plugin_env.define(MNIST_ID, "name: other\ntype: generic\n")
    assert list_ids().count(MNIST_ID) == 1
    assert find(MNIST_ID).name == "other"
    [message] = [r.getMessage() for r in caplog.records if "several places" in r.getMessage()]
    assert str(path) in message
    assert f"entry point '{MNIST_ID}' = 'mnist_plugin.mnist:MNIST' of dmconf-test-mnist" in message


def test_a_hydra_app_loads_it(plugin_env: Env, plugin: Plugin, tmp_path: Path) -> None:
    app = tmp_path / "train.py"
    app.write_text(textwrap.dedent("""
        import hydra
        import dmconf

        @hydra.main(version_base=None)
        def main(cfg):
            images = dmconf.load(cfg.dataset).train.images.data()
            print(cfg.dataset.name, images.dtype, images.shape)

        main()
    """))
    run = subprocess.run(
        [sys.executable, str(app), f"+dataset={MNIST_ID}", f"hydra.run.dir={tmp_path}/run"],
        capture_output=True, text=True, env=with_path(plugin.site), cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("The MNIST database uint8 (60000, 28, 28)")
