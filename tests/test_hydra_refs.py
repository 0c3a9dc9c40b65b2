"""Versions and variants in a real Hydra app: every id form, on the command line and in configs.

Hydra's grammar takes ``@`` and ``:`` unquoted in values, but escapes ``:`` as ``\\:`` when it
writes a sweep's per-job overrides, and a folder named after ``hydra.job.override_dirname``
then holds ``\\:`` (two path separators on Windows, one illegal character). ``+`` is the same as
``:`` before a variant and keeps folder names clean; the cases below show both.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Env
from httpserver import FileServer
from hydraapps import results, run, write_app
from versioned import CONTENT, VERSIONED_ID, versioned_definition

APP = """
import json

import hydra
from omegaconf import OmegaConf

import dmconf
from dmconf.hydra import dataset_nodes


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg):
    report = {}
    for key, node in dataset_nodes(cfg).items():
        report[key] = {"id": node.id, "text": dmconf.load(node).path.read_text()}
    if "paths" in cfg:
        report["paths"] = OmegaConf.to_container(cfg.paths, resolve=True)
    print("RESULT " + json.dumps(report), flush=True)


main()
"""

CONFIG = "defaults:\n  - dataset: test.v\n  - _self_\n"


@pytest.fixture
def app(tmp_path: Path, env: Env, server: FileServer) -> Path:
    env.define(VERSIONED_ID, versioned_definition(server))
    env.define("test.w", versioned_definition(server, "w"))
    return write_app(tmp_path / "app", {"app.py": APP, "conf/config.yaml": CONFIG})


def folders(root: Path) -> list[str]:
    """The job folders Hydra made below ``root`` (named after the overrides)."""
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


SMALL_20 = {"id": "test.v@2.0.0:small", "text": CONTENT["small"].decode()}
FULL = {"id": "test.v", "text": CONTENT["2.1.0"].decode()}
V20 = {"id": "test.v@2.0.0", "text": CONTENT["2.0.0"].decode()}
SMALL = {"id": "test.v:small", "text": CONTENT["small"].decode()}


@pytest.mark.slow
@pytest.mark.parametrize(("overrides", "jobs", "names"), [
    pytest.param(["dataset=test.v"], [{"dataset": FULL}], ["dataset=test.v"], id="plain"),
    pytest.param(["dataset=test.v@2.0"], [{"dataset": V20}], ["dataset=test.v@2.0"],
                 id="version"),
    pytest.param(["dataset=test.v+small"], [{"dataset": SMALL}], ["dataset=test.v+small"],
                 id="variant"),
    pytest.param(["dataset=test.v@2.0+small"], [{"dataset": SMALL_20}],
                 ["dataset=test.v@2.0+small"], id="both"),
    pytest.param(["-m", "dataset=test.v,test.v@2.0,test.v+small,test.v@2.0+small"],
                 [{"dataset": FULL}, {"dataset": V20}, {"dataset": SMALL}, {"dataset": SMALL_20}],
                 ["dataset=test.v", "dataset=test.v+small", "dataset=test.v@2.0",
                  "dataset=test.v@2.0+small"], id="multirun"),
    pytest.param(["-m", "dataset=glob(test.*)"], [{"dataset": FULL},
                 {"dataset": {"id": "test.w", "text": CONTENT["2.1.0"].decode()}}],
                 ["dataset=test.v", "dataset=test.w"], id="glob"),
    pytest.param(["+dataset@extra=test.v@2+small"],
                 [{"dataset": FULL, "extra": SMALL}], ["+dataset@extra=test.v@2+small"],
                 id="group@package"),
    # ':' works; Hydra escapes it in the names of its per-job folders (hence '+')
    pytest.param(["-m", "dataset=test.v@2.0:small,test.v:small"],
                 [{"dataset": SMALL_20}, {"dataset": SMALL}],
                 ["dataset=test.v:small", "dataset=test.v@2.0:small"], id="colon"),
])
def test_every_id_form_chooses_its_version_and_variant(
    app: Path, env: Env, tmp_path: Path, overrides: list[str], jobs: list[dict], names: list[str]
) -> None:
    out = tmp_path / "out"
    folder = "${hydra.job.override_dirname}"
    proc = run(app, *overrides, f"hydra.run.dir={out}/{folder}", f"hydra.sweep.dir={out}",
               f"hydra.sweep.subdir={folder}")
    assert results(proc) == jobs
    made = folders(out)
    if ":" not in " ".join(overrides):
        assert made == sorted(names)
        assert not [n for n in made if ":" in n or "\\" in n]
    else:  # Hydra's own escaping of ':' in sweeps, the reason for '+'
        assert made == sorted(n.replace(":", "\\:") for n in names)
    # dmconf's own folders never hold ':' either, whatever the spelling
    assert not [p for p in env.data.rglob("*") if ":" in p.name]


@pytest.mark.slow
def test_defaults_lists_and_the_resolver_take_references(app: Path, env: Env) -> None:
    (app / "conf" / "config.yaml").write_text(
        "defaults:\n"
        "  - dataset: test.v@2.0:small\n"
        "  - dataset@extra: test.v@2\n"
        "  - _self_\n"
        "paths:\n"
        "  small: ${dmconf:test.v:small}\n"
        "  small_20: ${dmconf:test.v@2.0+small}\n"
    )
    report = results(run(app))[0]
    assert report["dataset"] == SMALL_20 and report["extra"] == FULL
    small = Path(report["paths"]["small"])
    assert small.parent == env.data / VERSIONED_ID and small.joinpath("subset").is_file()
    small_20 = Path(report["paths"]["small_20"])
    assert small_20.joinpath("subset").read_bytes() == CONTENT["small"]
    assert small_20.joinpath("text").read_bytes() == CONTENT["2.0.0"] and small_20 != small


def test_a_wrong_reference_is_hydras_one_line_error(app: Path) -> None:
    proc = run(app, "dataset=test.v:tiny", ok=False, env={"HYDRA_FULL_ERROR": "0"})
    assert proc.returncode != 0
    assert "dmconf cannot provide dataset=test.v:tiny: test.v:tiny: test.v has no variant " \
        "'tiny' (its variants: full, small)" in proc.stderr
    assert "Traceback" not in proc.stderr
