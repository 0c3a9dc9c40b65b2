"""Installing dmconf changes nothing else in a Hydra app, and surprises none that uses it.

Each test writes a user's app (YAML or dataclass configs, Hydra's own structured-config
example, an app with its own ``conf/dataset/`` and ``hydra.searchpath``) and runs it as a
subprocess; datasets come from the loopback server, whose request log shows what was fetched.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import MNIST_ID, Env, MnistFiles, mnist_definition
from httpserver import FileServer
from hydraapps import gets, results, run, write_app

OTHER_ID = "test.mnist2"
RESOURCES = ("train_images", "train_labels", "test_images", "test_labels")

PRINT_CONFIG = """
import json

import hydra
from omegaconf import OmegaConf
{extra}

@hydra.main(version_base=None, config_path={config_path}, config_name="config")
def main(cfg):
    print("RESULT " + json.dumps(OmegaConf.to_container(cfg, resolve=True)), flush=True)


main()
"""

YAML_APP = {
    "app.py": PRINT_CONFIG.format(extra="", config_path='"conf"'),
    "conf/config.yaml": "dataset: mnist\nlr: 0.1\n",
}

# The key in a config the primary one merges at the root.
BASE_APP = {
    "app.py": YAML_APP["app.py"],
    "conf/config.yaml": "defaults:\n  - base\n  - _self_\n\nlr: 0.1\n",
    "conf/base.yaml": "dataset: mnist\n",
}

DATACLASS_APP = {
    "app.py": PRINT_CONFIG.format(
        config_path="None",
        extra=textwrap.dedent("""
            from dataclasses import dataclass

            from hydra.core.config_store import ConfigStore


            @dataclass
            class Config:
                dataset: str = "mnist"
                lr: float = 0.1


            ConfigStore.instance().store(name="config", node=Config)
        """),
    )
}


def groups_in_help(out: str) -> dict[str, list[str]]:
    """The ``group: a, b`` lines of an app's ``--help``."""
    section = out.split("== Configuration groups ==", 1)[1].split("== Config ==", 1)[0]
    return {
        line.split(": ", 1)[0]: [o.strip() for o in line.split(": ", 1)[1].split(",")]
        for line in section.splitlines()
        if ": " in line
    }


def warnings_of(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("dmconf: warning: ")]


@pytest.mark.parametrize(
    "files", [YAML_APP, BASE_APP, DATACLASS_APP], ids=["yaml", "yaml-base", "dataclass"]
)
def test_an_app_with_a_plain_dataset_key_works_as_before(
    files: dict[str, str], tmp_path: Path, mnist_env: Env, server: FileServer
) -> None:
    app = write_app(tmp_path / "app", files)
    assert results(run(app)) == [{"dataset": "mnist", "lr": 0.1}]
    assert results(run(app, "dataset=cifar10", "lr=0.5")) == [{"dataset": "cifar10", "lr": 0.5}]
    # A catalogue id is just a string to this app.
    assert results(run(app, f"dataset={MNIST_ID}")) == [{"dataset": MNIST_ID, "lr": 0.1}]
    sweep = run(app, "-m", "dataset=a,b", f"hydra.sweep.dir={tmp_path}/sweep")
    assert [r["dataset"] for r in results(sweep)] == ["a", "b"]
    out = run(app, "--help").stdout
    assert "dataset" not in groups_in_help(out)
    assert "dataset: mnist" in out.split("== Config ==", 1)[1]
    assert server.log == []


def test_the_group_stays_when_the_primary_config_chooses_it(
    tmp_path: Path, mnist_env: Env
) -> None:
    """A plain ``dataset:`` body beside ``- dataset: ID`` in the defaults overrides fields."""
    app = write_app(
        tmp_path / "app",
        {
            "app.py": YAML_APP["app.py"],
            "conf/config.yaml": f"defaults:\n  - dataset: {MNIST_ID}\n  - _self_\n"
            "dataset:\n  name: renamed\n",
        },
    )
    [cfg] = results(run(app))
    assert cfg["dataset"]["id"] == MNIST_ID and cfg["dataset"]["name"] == "renamed"
    [cfg] = results(run(app, "dataset=com.lecun.mnist"))
    assert cfg["dataset"]["id"] == "com.lecun.mnist" and cfg["dataset"]["name"] == "renamed"
    assert MNIST_ID in groups_in_help(run(app, "--help").stdout)["dataset"]


HYDRA_EXAMPLE = "examples/tutorials/structured_configs/3_config_groups/my_app.py"
# Hydra's structured-config example (config groups from the ConfigStore), verbatim but for the
# group's name when asked: `db` becomes `dataset`, dmconf's group.
STRUCTURED_EXAMPLE = '''
from dataclasses import dataclass
from typing import Any

from omegaconf import OmegaConf

import hydra
from hydra.core.config_store import ConfigStore


@dataclass
class MySQLConfig:
    driver: str = "mysql"
    host: str = "localhost"
    port: int = 3306


@dataclass
class PostGreSQLConfig:
    driver: str = "postgresql"
    host: str = "localhost"
    port: int = 5432
    timeout: int = 10


@dataclass
class Config:
    # We will populate db using composition.
    db: Any


cs = ConfigStore.instance()
cs.store(name="config", node=Config)
cs.store(group="db", name="mysql", node=MySQLConfig)
cs.store(group="db", name="postgresql", node=PostGreSQLConfig)


@hydra.main(version_base=None, config_name="config")
def my_app(cfg: Config) -> None:
    print(OmegaConf.to_yaml(cfg))


if __name__ == "__main__":
    my_app()
'''


def test_hydras_structured_config_example_runs_unchanged(tmp_path: Path, mnist_env: Env) -> None:
    app = write_app(tmp_path / "example", {"my_app.py": STRUCTURED_EXAMPLE})
    out = run(app, "+db=postgresql", script="my_app.py").stdout
    assert yaml.safe_load(out) == {
        "db": {"driver": "postgresql", "host": "localhost", "port": 5432, "timeout": 10}
    }
    assert groups_in_help(run(app, "--help", script="my_app.py").stdout)["db"] == [
        "mysql",
        "postgresql",
    ]


def test_the_example_with_a_dataset_group_shares_it_with_the_catalogue(
    tmp_path: Path, mnist_env: Env, server: FileServer
) -> None:
    app = write_app(
        tmp_path / "example", {"my_app.py": STRUCTURED_EXAMPLE.replace("db", "dataset")}
    )
    out = run(app, "+dataset=postgresql", script="my_app.py").stdout
    assert yaml.safe_load(out)["dataset"]["driver"] == "postgresql"
    out = run(app, f"+dataset={MNIST_ID}", script="my_app.py").stdout
    node = yaml.safe_load(out)["dataset"]
    assert node["id"] == MNIST_ID and node["_target_"] == "dmconf.hydra.load_dataset"
    options = groups_in_help(run(app, "--help", script="my_app.py").stdout)["dataset"]
    assert {"mysql", "postgresql", MNIST_ID, "com.lecun.mnist"} <= set(options)
    assert server.log == []


DATASET_CONFIG_APP = """
import json
from dataclasses import dataclass, field
from typing import Any, List

import hydra
from hydra.core.config_store import ConfigStore
from hydra.utils import instantiate
from omegaconf import MISSING, OmegaConf

from dmconf.hydra import DatasetConfig


@dataclass
class Config:
    defaults: List[Any] = field(default_factory=lambda: [{{"dataset": "{dataset}"}}, "_self_"])
    dataset: {annotation} = MISSING
    seed: int = 0


ConfigStore.instance().store(name="config", node=Config)


@hydra.main(version_base="1.3", config_path=None, config_name="config")
def main(cfg):
    loaded = instantiate(cfg.dataset)
    print("RESULT " + json.dumps({{
        "schema": OmegaConf.get_type(cfg.dataset).__name__,
        "type": type(loaded).__name__,
        "shape": list(loaded.train.images.data().shape),
    }}), flush=True)


main()
"""


@pytest.mark.parametrize(
    ("annotation", "schema"), [("DatasetConfig", "DatasetConfig"), ("Any", "dict")]
)
def test_a_structured_root_declares_the_dataset_node(
    annotation: str, schema: str, tmp_path: Path, mnist_env: Env, server: FileServer
) -> None:
    app = write_app(
        tmp_path / "app",
        {"app.py": DATASET_CONFIG_APP.format(dataset=MNIST_ID, annotation=annotation)},
    )
    [report] = results(run(app))
    assert report == {"schema": schema, "type": "ImageClassification", "shape": [60000, 28, 28]}
    assert gets(server, "mnist/train_images.gz") == 1
    if annotation == "DatasetConfig":  # closed and typed at the top; dmconf checks the rest
        closed = run(app, "dataset.colour=red", ok=False)
        assert "Key 'colour' not in 'DatasetConfig'" in closed.stderr
        typed = run(app, "dataset.name=[1]", ok=False)
        assert "Cannot convert 'list' to string" in typed.stderr
        bad = run(app, "dataset.resources.train_images.size=big", ok=False)
        assert "field resources.train_images.size" in bad.stderr


def test_an_own_option_extends_the_schema_and_gets_the_target(
    tmp_path: Path, mnist_env: Env, server: FileServer, mnist: MnistFiles
) -> None:
    own = yaml.safe_load(mnist_definition(server, mnist, "own"))
    own["id"] = "lab.own"
    own["homepage"] = own.pop("url")  # the schema knows the current name only
    text = "defaults:\n  - /dmconf_dataset_schema@_here_\n  - _self_\n" + yaml.safe_dump(own)
    app = write_app(
        tmp_path / "app",
        {
            "app.py": PRINT_CONFIG.format(extra="", config_path='"conf"'),
            "conf/config.yaml": "defaults:\n  - dataset: own\n  - _self_\n",
            "conf/dataset/own.yaml": text,
        },
    )
    [cfg] = results(run(app))
    assert cfg["dataset"]["_target_"] == "dmconf.hydra.load_dataset"
    assert cfg["dataset"]["resources"]["train_images"]["mirrors"] == []


def test_own_options_and_searchpath_options_win_over_catalogue_ids(
    tmp_path: Path, mnist_env: Env, server: FileServer, mnist: MnistFiles
) -> None:
    mnist_env.define(OTHER_ID, mnist_definition(server, mnist, "mnist2"))
    extra = tmp_path / "extra"
    app = write_app(
        tmp_path / "app",
        {
            "app.py": PRINT_CONFIG.format(extra="", config_path='"conf"'),
            "conf/config.yaml": f"defaults:\n  - dataset: {MNIST_ID}\n  - _self_\n"
            f"hydra:\n  searchpath:\n    - file://{extra}\n",
            f"conf/dataset/{MNIST_ID}.yaml": "source: the app's config folder\n",
        },
    )
    write_app(extra, {f"dataset/{OTHER_ID}.yaml": "source: hydra.searchpath\n"})
    assert results(run(app))[0]["dataset"] == {"source": "the app's config folder"}
    [cfg] = results(run(app, f"dataset={OTHER_ID}"))
    assert cfg["dataset"] == {"source": "hydra.searchpath"}
    [cfg] = results(run(app, "dataset=com.lecun.mnist"))
    assert cfg["dataset"]["id"] == "com.lecun.mnist"  # what the app does not have: the catalogue
    options = groups_in_help(run(app, "--help").stdout)["dataset"]
    assert {MNIST_ID, OTHER_ID, "com.lecun.mnist"} <= set(options)
    assert server.log == []


GROUP_APP = {
    "app.py": YAML_APP["app.py"],
    "conf/config.yaml": "lr: 0.1\n",
}


def test_the_group_can_be_renamed_or_switched_off(
    tmp_path: Path, mnist_env: Env, server: FileServer
) -> None:
    app = write_app(tmp_path / "app", GROUP_APP)
    [cfg] = results(run(app, f"+data={MNIST_ID}", env={"DMCONF_HYDRA_GROUP": "data"}))
    assert cfg["data"]["id"] == MNIST_ID
    assert "dataset" not in groups_in_help(
        run(app, "--help", env={"DMCONF_HYDRA_GROUP": "data"}).stdout
    )
    for value in ("off", ""):
        proc = run(app, "--help", env={"DMCONF_HYDRA_GROUP": value})
        assert set(groups_in_help(proc.stdout)) == {"dmconf"}
        assert warnings_of(proc) == []
        [cfg] = results(run(app, f"+dataset={MNIST_ID}", env={"DMCONF_HYDRA_GROUP": value}))
        assert cfg == {"lr": 0.1, "dataset": MNIST_ID}  # a plain value: there is no group
    mnist_env.settings.write_text("hydra_group: off\n")
    assert "dataset" not in groups_in_help(run(app, "--help").stdout)
    mnist_env.settings.write_text("hydra_group: data sets\n")
    proc = run(app, "--help")
    assert set(groups_in_help(proc.stdout)) == {"dmconf"}
    [line] = warnings_of(proc)
    assert "hydra_group in settings file" in line and "'data sets' is not a Hydra group" in line
    assert server.log == []


def test_a_broken_settings_file_breaks_no_app(tmp_path: Path, mnist_env: Env) -> None:
    mnist_env.settings.write_text("data: [unclosed\n")
    plain = write_app(tmp_path / "plain", YAML_APP)
    proc = run(plain, "--help")
    assert "Traceback" not in proc.stderr and "dataset: mnist" in proc.stdout
    [line] = warnings_of(proc)
    assert f"dmconf: warning: settings file {mnist_env.settings}: cannot be read as YAML" in line
    assert results(run(plain, "dataset=cifar10"))[0]["dataset"] == "cifar10"
    # An app that uses the group still sees what the environment alone gives.
    using = write_app(tmp_path / "using", GROUP_APP)
    proc = run(using, "--help")
    assert {MNIST_ID, "com.lecun.mnist"} <= set(groups_in_help(proc.stdout)["dataset"])
    assert len(warnings_of(proc)) == 1 and "Traceback" not in proc.stderr


def test_an_unreadable_root_or_a_broken_plugin_is_one_warning(
    tmp_path: Path, mnist_env: Env
) -> None:
    app = write_app(tmp_path / "app", GROUP_APP)
    not_a_folder = tmp_path / "definition.yaml"
    not_a_folder.write_text("type: file\n")
    catalogs = f"{mnist_env.catalog}:{not_a_folder}"
    proc = run(app, "--help", env={"DMCONF_CATALOG": catalogs})
    assert {MNIST_ID, "com.lecun.mnist"} <= set(groups_in_help(proc.stdout)["dataset"])
    [line] = warnings_of(proc)
    assert f"{not_a_folder} (catalogue root (DMCONF_CATALOG or settings)): not a folder" in line

    site = write_app(
        tmp_path / "site",
        {
            "brokenplug-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: brokenplug\n"
            "Version: 1.0\n",
            "brokenplug-1.0.dist-info/entry_points.txt": "[dmconf.catalogs]\n"
            "broken = no_such_package_here\n",
        },
    )
    proc = run(app, "--help", env={"PYTHONPATH": str(site)})
    assert "Traceback" not in proc.stderr
    assert {MNIST_ID, "com.lecun.mnist"} <= set(groups_in_help(proc.stdout)["dataset"])
    [line] = warnings_of(proc)
    assert "entry point 'broken' of dmconf.catalogs names 'no_such_package_here'" in line
    [cfg] = results(run(app, f"+dataset={MNIST_ID}", env={"PYTHONPATH": str(site)}))
    assert cfg["dataset"]["id"] == MNIST_ID


INSTANTIATE_APP = """
import json

import hydra
from hydra.utils import instantiate


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg):
    print("RESULT " + json.dumps({"type": type(instantiate(cfg.dataset)).__name__}), flush=True)


main()
"""


@pytest.mark.slow
def test_an_own_definition_without_target_fails_with_the_line_to_add(
    tmp_path: Path, mnist_env: Env, server: FileServer, mnist: MnistFiles
) -> None:
    bare = {"id": "lab.bare", **yaml.safe_load(mnist_definition(server, mnist, "bare"))}
    extra = write_app(tmp_path / "extra", {"dataset/extra.yaml": yaml.safe_dump(bare)})
    app = write_app(
        tmp_path / "app",
        {
            "app.py": INSTANTIATE_APP,
            "conf/config.yaml": "defaults:\n  - dataset: bare\n  - _self_\n"
            f"hydra:\n  searchpath:\n    - file://{extra}\n",
            "conf/dataset/bare.yaml": yaml.safe_dump(bare),
            # Named like a catalogue id: the app's option still wins, and is still named.
            f"conf/dataset/{MNIST_ID}.yaml": yaml.safe_dump(bare),
            "conf/dataset/targeted.yaml": yaml.safe_dump(
                {"_target_": "dmconf.hydra.load_dataset", **bare}
            ),
        },
    )
    line = (
        "has no _target_, so it cannot be instantiated nor prepared: add the line "
        "'_target_: dmconf.hydra.load_dataset' to that file, or start it with "
        "'defaults: [/dmconf_dataset_schema@_here_, _self_]'"
    )
    failed = run(app, ok=False)
    assert failed.returncode != 0 and "RESULT" not in failed.stdout
    assert "lab.bare: option dataset=bare (file " in failed.stderr
    assert f"conf/dataset/bare.yaml) {line}" in failed.stderr
    # --cfg job shows the option as written, plus dmconf's one line: for an option named like a
    # catalogue id (the app's still wins) and for one of hydra.searchpath alike.
    for option in (MNIST_ID, "extra"):
        shown = yaml.safe_load(run(app, f"dataset={option}", "--cfg", "job").stdout)
        assert shown["dataset"] == {"_target_": "dmconf.hydra.without_target", **bare}
    proc = run(app, "+dmconf=prepare", ok=False)
    assert proc.returncode != 0 and "RESULT" not in proc.stdout
    assert "dataset node 'dataset' (lab.bare, option dataset=bare (file " in proc.stderr
    assert f"conf/dataset/bare.yaml)) {line}" in proc.stderr
    assert server.log == []
    # With the line added, instantiate loads it.
    assert results(run(app, "dataset=targeted")) == [{"type": "ImageClassification"}]
    assert gets(server, "bare/train_images.gz") == 1


def test_an_own_option_of_a_plain_dataset_key_app_is_left_as_is(
    tmp_path: Path, mnist_env: Env, server: FileServer, mnist: MnistFiles
) -> None:
    """Where the app keeps a plain ``dataset`` key, the group is not dmconf's: nothing added."""
    bare = {"id": "lab.bare", **yaml.safe_load(mnist_definition(server, mnist, "bare"))}
    app = write_app(tmp_path / "app", {**YAML_APP, "conf/dataset/bare.yaml": yaml.safe_dump(bare)})
    [cfg] = results(run(app, "+dataset@extra=bare"))
    assert cfg == {"dataset": "mnist", "lr": 0.1, "extra": bare}


def test_the_schema_has_the_fields_of_a_definition() -> None:
    """A node holds every field of a definition: the schema must name each, or merging a
    catalogue option into ``dataset: DatasetConfig`` fails on the first one it lacks."""
    from dataclasses import fields

    from dmconf.definition import DatasetDefinition, Resource
    from dmconf.hydra import DatasetConfig, ResourceConfig

    assert {f.name for f in fields(DatasetConfig)} == {"_target_", *DatasetDefinition.model_fields}
    assert {f.name for f in fields(ResourceConfig)} == set(Resource.model_fields)
