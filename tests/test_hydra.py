"""Hydra: every catalogue dataset is an option of the group ``dataset``, in any Hydra app.

Each test writes a user's app in a temporary folder (its own ``conf/``, nothing that mentions
dmconf's configs or search path) and runs it with this interpreter, as a user would; datasets
are served by the loopback server, which the subprocess reaches by URL.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import MNIST_ID, Env, MnistFiles, mnist_definition
from httpserver import FileServer
from hydraapps import gets, results, run

OTHER_ID = "test.mnist2"  # a second copy, served under mnist2/
RESOURCES = ("train_images", "train_labels", "test_images", "test_labels")
REPO = Path(__file__).resolve().parents[1]

APP = """
import json

import hydra
from hydra.utils import instantiate
from omegaconf import OmegaConf

import dmconf


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg):
    print("TASK STARTED", flush=True)
    report = {}
    for key in ("dataset", "pretrain_dataset"):
        if key not in cfg:
            continue
        node = cfg[key]
        entry = {"id": node.id, "prepared_at_start": dmconf.is_prepared(node.id)}
        if cfg.load:
            loaded, made = dmconf.load(node), instantiate(node)
            entry.update(
                load=type(loaded).__name__, instantiate=type(made).__name__, same=loaded == made,
                images=str(loaded.train.images.path),
                shape=list(loaded.train.images.data().shape),
                labels=loaded.test.labels.data()[:5].tolist(),
            )
        report[key] = entry
    if "paths" in cfg:
        report["paths"] = OmegaConf.to_container(cfg.paths, resolve=True)
    print("RESULT " + json.dumps(report), flush=True)


main()
"""

CONFIG = f"""\
defaults:
  - dataset: {MNIST_ID}
  - _self_

load: true
"""

RESOLVER_CONFIG = f"""\
paths:
  folder: ${{dmconf:{MNIST_ID}}}
  train_images: ${{dmconf:{MNIST_ID},train.images}}
load: false
"""


@pytest.fixture
def hydra_registries() -> Iterator[None]:
    """Restore Hydra's and OmegaConf's global registries after an in-process test (hydra-zen's
    ``clean_store``): the ConfigStore, the resolvers, and the initialized GlobalHydra."""
    from hydra.core.config_store import ConfigStore
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf.basecontainer import BaseContainer

    store = ConfigStore.instance()
    repo, resolvers = copy.deepcopy(store.repo), dict(BaseContainer._resolvers)
    yield
    store.repo = repo
    BaseContainer._resolvers.clear()
    BaseContainer._resolvers.update(resolvers)
    GlobalHydra.instance().clear()


@pytest.fixture
def app(tmp_path: Path, mnist_env: Env, server: FileServer, mnist: MnistFiles) -> Path:
    """A user's Hydra app in tmp_path/app, with test.mnist and test.mnist2 in the catalogue."""
    mnist_env.define(OTHER_ID, mnist_definition(server, mnist, "mnist2"))
    folder = tmp_path / "app"
    (folder / "conf").mkdir(parents=True)
    (folder / "app.py").write_text(APP)
    (folder / "conf" / "config.yaml").write_text(CONFIG)
    (folder / "conf" / "resolver.yaml").write_text(RESOLVER_CONFIG)
    # The app's own option beside the catalogue's: a definition in its conf/dataset/.
    own = yaml.safe_load(mnist_definition(server, mnist, "own"))
    own.update({"_target_": "dmconf.hydra.load_dataset", "id": "test.own"})
    (folder / "conf" / "dataset").mkdir()
    (folder / "conf" / "dataset" / "own.yaml").write_text(yaml.safe_dump(own))
    return folder


def test_default_dataset_loads_and_instantiates(
    app: Path, env: Env, server: FileServer, mnist: MnistFiles
) -> None:
    [report] = results(run(app, f"+dataset@pretrain_dataset={OTHER_ID}"))
    main, pretrain = report["dataset"], report["pretrain_dataset"]
    assert main["id"] == MNIST_ID and pretrain["id"] == OTHER_ID
    for entry, dataset_id in ((main, MNIST_ID), (pretrain, OTHER_ID)):
        assert entry["prepared_at_start"] is False  # no callback here: prepared by the task
        assert entry["load"] == entry["instantiate"] == "ImageClassification"
        assert entry["same"] is True
        assert entry["images"] == str(env.folder(dataset_id) / "train_images")
        assert entry["shape"] == [60000, 28, 28]
        assert entry["labels"] == mnist.arrays["test_labels"][:5].tolist()
    for key in RESOURCES:
        assert gets(server, f"mnist/{key}.gz") == 1
        assert gets(server, f"mnist2/{key}.gz") == 1


def test_override_chooses_another_dataset(app: Path, server: FileServer) -> None:
    [report] = results(run(app, f"dataset={OTHER_ID}"))
    assert report["dataset"]["id"] == OTHER_ID
    assert report["dataset"]["shape"] == [60000, 28, 28]
    assert gets(server, "mnist2/train_images.gz") == 1
    assert gets(server, "mnist/train_images.gz") == 0


def test_cfg_job_shows_the_full_definition(
    app: Path, server: FileServer, mnist: MnistFiles
) -> None:
    cfg = yaml.safe_load(run(app, "--cfg", "job").stdout)
    node = cfg["dataset"]
    assert node["_target_"] == "dmconf.hydra.load_dataset"
    assert node["id"] == MNIST_ID and node["type"] == "image-classification"
    images = node["resources"]["train_images"]
    assert images["url"] == server.url("mnist/train_images.gz")
    assert images["sha256"] == mnist.sha256("train_images")
    assert images["unpack"] == "gunzip"
    assert node["data"]["train"]["images"] == {"type": "idx", "path": "train_images"}
    assert server.log == []  # composing a config downloads nothing


def test_help_lists_the_catalogue_as_options(app: Path) -> None:
    out = run(app, "--help").stdout
    groups = out.split("== Configuration groups ==", 1)[1].split("== Config ==", 1)[0]
    lines = dict(line.split(": ", 1) for line in groups.splitlines() if ": " in line)
    options = [o.strip() for o in lines["dataset"].split(",")]
    assert {"com.lecun.mnist", MNIST_ID, OTHER_ID, "own"} <= set(options)
    assert [o.strip() for o in lines["dmconf"].split(",")] == ["prepare"]


def test_unknown_option_gives_hydras_error_with_the_list(app: Path, server: FileServer) -> None:
    proc = run(app, "dataset=test.mnsit", ok=False)
    assert proc.returncode != 0
    assert "Could not find 'dataset/test.mnsit'" in proc.stderr
    available = proc.stderr.split("Available options in 'dataset':", 1)[1]
    assert MNIST_ID in available and OTHER_ID in available and "com.lecun.mnist" in available
    assert "TASK STARTED" not in proc.stdout
    assert server.log == []


def test_a_broken_definition_is_one_clear_error(app: Path, env: Env) -> None:
    env.define("test.broken", "type: file\nresources: {f: {url: nourl}}\ndata: {path: f}\n")
    proc = run(app, "dataset=test.broken", ok=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "dmconf cannot provide dataset=test.broken: " in proc.stderr
    assert "broken.yaml: field resources.f.url: 'nourl' is not a URL" in proc.stderr
    # Only the chosen option is read: the broken file does not disturb the others.
    cfg = yaml.safe_load(run(app, "--cfg", "job").stdout)
    assert cfg["dataset"]["id"] == MNIST_ID


def test_url_override_changes_what_is_fetched(
    app: Path, server: FileServer, mnist: MnistFiles
) -> None:
    server.files["elsewhere/images.gz"] = mnist.gz["train_images"]
    url = server.url("elsewhere/images.gz")
    [report] = results(run(app, f"dataset.resources.train_images.url={url}"))
    assert report["dataset"]["shape"] == [60000, 28, 28]
    assert gets(server, "elsewhere/images.gz") == 1
    assert gets(server, "mnist/train_images.gz") == 0
    assert gets(server, "mnist/train_labels.gz") == 1


def test_multirun_over_two_datasets(app: Path, server: FileServer, tmp_path: Path) -> None:
    proc = run(app, "-m", f"dataset={MNIST_ID},{OTHER_ID}", f"hydra.sweep.dir={tmp_path}/sweep")
    reports = results(proc)
    assert [r["dataset"]["id"] for r in reports] == [MNIST_ID, OTHER_ID]
    assert all(r["dataset"]["shape"] == [60000, 28, 28] for r in reports)
    assert gets(server, "mnist/train_images.gz") == gets(server, "mnist2/train_images.gz") == 1


def test_glob_sweeps_the_catalogue(app: Path, server: FileServer) -> None:
    proc = run(app, "-m", "dataset=glob(test.*)", "load=false")
    assert sorted(r["dataset"]["id"] for r in results(proc)) == [MNIST_ID, OTHER_ID]
    assert server.log == []


def test_prepare_at_job_start_is_shared_by_a_sweep(
    app: Path, server: FileServer, tmp_path: Path
) -> None:
    sweep = tmp_path / "sweep"
    proc = run(app, "-m", "+dmconf=prepare", "+seed=1,2", f"hydra.sweep.dir={sweep}")
    reports = results(proc)
    assert len(reports) == 2
    assert all(r["dataset"]["prepared_at_start"] is True for r in reports)
    for key in RESOURCES:
        assert gets(server, f"mnist/{key}.gz") == 1  # one download for the whole sweep
    for job in ("0", "1"):
        saved = yaml.safe_load((sweep / job / ".hydra" / "config.yaml").read_text())
        assert saved["dataset"]["_target_"] == "dmconf.hydra.load_dataset"
        assert saved["dataset"]["resources"]["train_images"]["url"] == server.url(
            "mnist/train_images.gz"
        )
        assert "path" not in saved["dataset"]  # the plain definition, not the prepared object


def test_prepare_at_job_start_fails_the_job_before_the_task(
    app: Path, server: FileServer, env: Env
) -> None:
    broken = server.url("gone/train_labels.gz")
    proc = run(
        app,
        "+dmconf=prepare",
        f"+dataset@pretrain_dataset={OTHER_ID}",
        f"pretrain_dataset.resources.train_labels.url={broken}",
        ok=False,
    )
    assert proc.returncode != 0
    assert "TASK STARTED" not in proc.stdout
    assert f"dataset node 'pretrain_dataset' ({OTHER_ID}) could not be prepared" in proc.stderr
    assert broken in proc.stderr and "404" in proc.stderr
    assert gets(server, "gone/train_labels.gz") >= 1
    assert not (env.folder(OTHER_ID) / "train_labels").exists()


def test_resolver_gives_prepared_paths(app: Path, env: Env) -> None:
    [report] = results(run(app, "--config-name", "resolver"))
    folder = env.folder(MNIST_ID)
    assert report["paths"] == {"folder": str(folder), "train_images": str(folder / "train_images")}
    assert (folder / "train_images").is_file()
    shown = yaml.safe_load(
        run(app, "--config-name", "resolver", "--cfg", "job", "--resolve").stdout
    )
    assert shown["paths"]["train_images"] == str(folder / "train_images")


def test_printing_a_config_with_the_resolver_downloads_nothing(
    app: Path, env: Env, server: FileServer
) -> None:
    """The path is known before the data is there: --cfg prints it; a run prepares."""
    folder = env.folder(MNIST_ID)
    shown = yaml.safe_load(
        run(app, "--config-name", "resolver", "--cfg", "job", "--resolve").stdout
    )
    assert shown["paths"] == {"folder": str(folder), "train_images": str(folder / "train_images")}
    assert server.log == [] and not folder.exists()
    [report] = results(run(app, "--config-name", "resolver"))
    assert report["paths"] == shown["paths"]
    assert (folder / "train_images").is_file() and gets(server, "mnist/train_images.gz") == 1


def test_the_example_experiment_runs(mnist_env: Env, server: FileServer, tmp_path: Path) -> None:
    proc = run(
        REPO / "examples",
        f"dataset={MNIST_ID}",
        "train_size=6000",
        f"hydra.run.dir={tmp_path}/run",
        script="hydra_train.py",
    )
    accuracy = float(proc.stdout.split("accuracy=", 1)[1].split()[0])
    assert 0.0 <= accuracy <= 1.0
    assert gets(server, "mnist/test_images.gz") == 1


def test_example_config_selects_mnist() -> None:
    config = yaml.safe_load((REPO / "conf" / "config.yaml").read_text())
    assert {"dataset": "com.lecun.mnist"} in config["defaults"]


def test_import_dmconf_does_not_import_hydra() -> None:
    code = (
        "import sys, dmconf; print(sorted(m for m in ('hydra', 'omegaconf') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_hydra_plugin_import_stays_light() -> None:
    """Every Hydra app imports the plugin at start-up: no pydantic, requests or numpy there."""
    code = textwrap.dedent("""
        import sys
        import hydra_plugins.dmconf_plugin.dmconf_plugin
        print(sorted(m for m in ('pydantic', 'requests', 'numpy') if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_definition_text_stays_literal(app: Path, env: Env, server: FileServer) -> None:
    path = env.catalog / "test" / "mnist.yaml"
    definition = yaml.safe_load(path.read_text())
    definition["description"] = r"costs ${price} or \${x} or \\${y}"
    path.write_text(yaml.safe_dump(definition))
    cfg = yaml.safe_load(run(app, "--cfg", "job", "--resolve").stdout)
    assert cfg["dataset"]["description"] == definition["description"]


def test_loaded_node_keeps_overrides_in_process(
    app: Path, server: FileServer, mnist: MnistFiles, hydra_registries: None
) -> None:
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    import dmconf

    server.files["moved/labels.gz"] = mnist.gz["test_labels"]
    overrides = [
        f"dataset={OTHER_ID}",
        f"dataset.resources.test_labels.url={server.url('moved/labels.gz')}",
    ]
    with initialize_config_dir(config_dir=str(app / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    loaded = instantiate(cfg.dataset)
    assert loaded.id == OTHER_ID
    assert np.array_equal(loaded.test.labels.data(), mnist.arrays["test_labels"])
    assert dmconf.load(cfg.dataset) == loaded
    assert gets(server, "moved/labels.gz") == 1 and gets(server, "mnist2/test_labels.gz") == 0

    with initialize_config_dir(config_dir=str(app / "conf"), version_base="1.3"):
        own = compose("config", overrides=["dataset=own"]).dataset
    assert instantiate(own).id == "test.own"
    assert gets(server, "own/train_images.gz") == 1


def test_resolver_names_a_missing_item(
    mnist_env: Env, server: FileServer, hydra_registries: None
) -> None:
    from omegaconf import OmegaConf
    from omegaconf.errors import InterpolationResolutionError

    from dmconf.hydra import register_resolver

    register_resolver()
    register_resolver()  # idempotent
    cfg = OmegaConf.create(
        {"p": f"${{dmconf:{MNIST_ID},train.imgs}}", "q": f"${{dmconf:{MNIST_ID},train}}"}
    )
    with pytest.raises(
        InterpolationResolutionError,
        match=r"train has no item 'imgs'; its items are images, labels",
    ):
        _ = cfg.p
    with pytest.raises(
        InterpolationResolutionError, match=r"train is a LabelledImages, which has no path"
    ):
        _ = cfg.q


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "${x}",
        "a ${b.c} d",
        "\\${x}",
        "\\\\${x}",
        "\\\\\\${x}",
        "C:\\data\\",
        "$ { }",
        "${",
    ],
)
def test_escape_keeps_definition_text_literal(text: str) -> None:
    from omegaconf import OmegaConf

    from dmconf.hydra.node import escape

    node = OmegaConf.create(escape({"description": text, "tags": [text], "n": 3}))
    assert OmegaConf.to_container(node, resolve=True) == {
        "description": text,
        "tags": [text],
        "n": 3,
    }


def test_hydras_plugin_scan_registers_dmconf(hydra_registries: None) -> None:
    """What every Hydra app does at start-up: scan hydra_plugins, register sources by scheme."""
    from hydra._internal.sources_registry import SourcesRegistry
    from hydra.core.plugins import Plugins
    from hydra.plugins.search_path_plugin import SearchPathPlugin

    from dmconf.hydra.source import DmconfConfigSource, DmconfSearchPathPlugin

    assert DmconfSearchPathPlugin in Plugins.instance().discover(SearchPathPlugin)
    assert SourcesRegistry.instance().resolve("dmconf") is DmconfConfigSource
    source = DmconfConfigSource("dmconf", "dmconf://")
    assert source.list("", None) == ["dataset", "dmconf"]
    assert source.list("dmconf", None) == ["prepare"]
    assert not source.is_config("config") and not source.is_config("hydra/launcher/basic")
