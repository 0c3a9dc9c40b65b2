"""Sweeps and launchers: relative DMCONF_* paths and driver-side preparation.

The apps run as subprocesses with relative ``DMCONF_DATA`` and ``DMCONF_CATALOG`` (meant from
the folder the user starts them in) and ``hydra.job.chdir=True``; with ``+dmconf=prepare``,
the driver prepares every dataset of the sweep before the launcher (basic, joblib,
submitit_local) starts any job, so the loopback server sees one GET per file and no job log
mentions a download.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import MNIST_ID, Env, MnistFiles, mnist_definition
from httpserver import FileServer
from hydraapps import gets, run, write_app

OTHER_ID = "test.mnist2"
RESOURCES = ("train_images", "train_labels", "test_images", "test_labels")

APP = """
import json
import os

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

import dmconf


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg):
    prepared_at_start = dmconf.is_prepared(cfg.dataset.id)
    loaded = dmconf.load(cfg.dataset)
    report = {
        "id": cfg.dataset.id,
        "prepared_at_start": prepared_at_start,
        "images": str(loaded.train.images.path),
        "shape": list(loaded.train.images.data().shape),
        "cwd": os.getcwd(),
        "paths": OmegaConf.to_container(cfg.paths, resolve=True),
    }
    output = HydraConfig.get().runtime.output_dir
    with open(os.path.join(output, "result.json"), "w") as f:
        json.dump(report, f)


main()
"""

CONFIG = f"""\
defaults:
  - dataset: {MNIST_ID}
  - _self_

seed: 0
paths:
  images: ${{dmconf:${{dataset.id}},train.images}}
"""


@pytest.fixture
def relative_app(
    tmp_path: Path, mnist_env: Env, server: FileServer, mnist: MnistFiles
) -> tuple[Path, dict[str, str]]:
    """The app, its catalogue copied beside it, and DMCONF_* variables relative to it."""
    mnist_env.define(OTHER_ID, mnist_definition(server, mnist, "mnist2"))
    app = write_app(tmp_path / "app", {"app.py": APP, "conf/config.yaml": CONFIG})
    shutil.copytree(mnist_env.catalog, app / "catalogue")
    return app, {"DMCONF_DATA": "data", "DMCONF_CATALOG": "catalogue"}


def job_reports(sweep: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(sweep.glob("*/result.json"))]


def test_relative_data_folder_in_a_sweep_that_changes_directory(
    relative_app: tuple[Path, dict[str, str]], server: FileServer, tmp_path: Path
) -> None:
    app, env = relative_app
    data = app / "data" / MNIST_ID  # then the content key (dmconf's layout)
    shown = yaml.safe_load(
        run(app, "--cfg", "job", "--resolve", "hydra.job.chdir=True", env=env).stdout
    )
    images = Path(shown["paths"]["images"])  # the path the job will use
    assert images.parent.parent == data and images.name == "train_images"
    assert server.log == []  # printing the config downloads nothing

    sweep = tmp_path / "sweep"
    run(app, "-m", "seed=1,2,3", "hydra.job.chdir=True", f"hydra.sweep.dir={sweep}", env=env)
    reports = job_reports(sweep)
    assert len(reports) == 3
    for report in reports:
        assert Path(report["cwd"]).parent == sweep  # the job did change directory
        assert report["images"] == report["paths"]["images"] == str(images)
        assert report["shape"] == [60000, 28, 28]
    for key in RESOURCES:
        assert gets(server, f"mnist/{key}.gz") == 1  # one download for the sweep
    assert not list(sweep.glob("*/data"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "launcher",
    [
        pytest.param(["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], id="joblib"),
        pytest.param(
            ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5"], id="submitit"
        ),
    ],
)
def test_a_launched_sweep_is_prepared_by_the_driver(
    launcher: list[str],
    relative_app: tuple[Path, dict[str, str]],
    server: FileServer,
    tmp_path: Path,
) -> None:
    app, env = relative_app
    sweep = tmp_path / "sweep"
    proc = run(
        app,
        "-m",
        f"dataset={MNIST_ID},{OTHER_ID}",
        "seed=1,2",
        "+dmconf=prepare",
        "hydra.job.chdir=True",
        f"hydra.sweep.dir={sweep}",
        *launcher,
        env=env,
    )
    reports = job_reports(sweep)
    assert sorted(r["id"] for r in reports) == [MNIST_ID, MNIST_ID, OTHER_ID, OTHER_ID]
    for report in reports:
        assert report["prepared_at_start"] is True
        images = Path(report["images"])
        assert report["paths"]["images"] == str(images) and images.name == "train_images"
        assert images.parent.parent == app / "data" / report["id"]
    for key in RESOURCES:  # one GET per file, whatever the number of jobs
        assert gets(server, f"mnist/{key}.gz") == 1
        assert gets(server, f"mnist2/{key}.gz") == 1
    driver = proc.stdout + proc.stderr
    assert "before the sweep starts" in driver and "downloading" in driver
    logs = [p for p in sweep.rglob("*") if p.is_file() and p.suffix in (".log", ".out", ".err")]
    job_logs = [p.read_text(errors="replace") for p in logs]
    assert sum("before the job starts" in text for text in job_logs) >= 4  # each job checked
    assert not [p for p, text in zip(logs, job_logs, strict=True) if "downloading" in text]


def test_a_sweep_that_cannot_be_prepared_launches_no_job(
    relative_app: tuple[Path, dict[str, str]], server: FileServer, tmp_path: Path
) -> None:
    app, env = relative_app
    broken = server.url("gone/train_labels.gz")
    sweep = tmp_path / "sweep"
    proc = run(
        app,
        "-m",
        "seed=1,2",
        "+dmconf=prepare",
        f"dataset.resources.train_labels.url={broken}",
        f"hydra.sweep.dir={sweep}",
        env=env,
        ok=False,
    )
    assert proc.returncode != 0
    assert f"dataset node 'dataset' ({MNIST_ID}) could not be prepared, so the sweep" in (
        proc.stderr
    )
    assert job_reports(sweep) == [] and not list(sweep.glob("*/.hydra"))
