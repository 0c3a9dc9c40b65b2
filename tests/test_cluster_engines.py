"""Real engines on a shared, empty data folder: experimaestro's Slurm launcher (driven by the
fake ``sbatch``/``sacct``/``srun`` scripts experimaestro ships for its own tests) and Hydra's
``submitit_local`` launcher. Several jobs need the same missing dataset; every job succeeds
and each file is fetched once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import MNIST_ID

pytestmark = pytest.mark.slow
SEEDS = (1, 2, 3, 4)

TASK = """
import json
import os
from pathlib import Path
from experimaestro import Meta, Param, PathGenerator, Task, field
from dmconf.xpm import Dataset

class CountOnNode(Task):
    __xpmid__ = "dmconf.tests.countonnode"
    dataset: Param[Dataset]
    seed: Param[int]
    output: Meta[Path] = field(default_factory=PathGenerator("count.json"))

    def execute(self) -> None:
        ds = self.dataset.load()
        count = int(ds.train.labels.data().shape[0])
        slurm = os.environ.get("SLURM_JOB_ID")  # set by the fake sbatch
        self.output.write_text(json.dumps({"seed": self.seed, "count": count, "slurm": slurm}))
"""

DRIVER = """
import shutil, sys
from pathlib import Path
sys.path.insert(0, {here!r})
import experimaestro.tests.launchers as fake_slurm
from experimaestro import experiment
from experimaestro.connectors.local import LocalConnector
from experimaestro.launchers.slurm import SlurmLauncher
from cluster_task import CountOnNode
from dmconf.xpm import Dataset

root = Path({here!r}) / "fake-slurm"
(root / "slurm").mkdir(parents=True)  # where the fake scripts keep their jobs
shutil.copytree(Path(fake_slurm.__file__).parent / "bin", root / "bin")
# The fake sbatch takes `flock --timeout 2` on one file and its background job inherits it, so
# a job running longer than 2 s makes the next sbatch fail: a real Slurm runs jobs together.
# A no-op `flock` first on the PATH (the scripts' only use of it) lets them.
(root / "shims").mkdir()
(root / "shims" / "flock").write_text("#!/bin/sh\\nexit 0\\n")
(root / "shims" / "flock").chmod(0o755)
import os
os.environ["PATH"] = str(root / "shims") + os.pathsep + os.environ["PATH"]
launcher = SlurmLauncher(connector=LocalConnector.instance(), binpath=root / "bin",
                         interval=0.05)
with experiment({workdir!r}, "slurm", launcher=launcher, no_environmental_impact=True):
    tasks = [CountOnNode.C(dataset=Dataset.C(id={dataset!r}), seed=seed).submit()
             for seed in {seeds!r}]
for task in tasks:
    print(task.output)
"""


def _gets_per_file(server, mnist) -> dict[str, int]:
    return {key: sum(r.method == "GET" for r in server.requests_for(f"mnist/{key}.gz"))
            for key in mnist.gz}


def test_experimaestro_slurm_jobs_on_an_empty_store_fetch_each_file_once(
        mnist_env, server, mnist, tmp_path):
    pytest.importorskip("experimaestro")
    fake = Path(__import__("experimaestro.tests.launchers", fromlist=["x"]).__file__).parent
    if not (fake / "bin" / "sbatch").exists():
        pytest.skip("this experimaestro ships no fake Slurm scripts (experimaestro/tests/"
                    "launchers/bin)")
    (tmp_path / "cluster_task.py").write_text(TASK)
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(DRIVER).format(
        here=str(tmp_path), workdir=str(tmp_path / "xp"), dataset=MNIST_ID, seeds=SEEDS))
    done = subprocess.run([sys.executable, str(driver)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600,
                          env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(Path(o).read_text()) for o in done.stdout.split()]
    assert [(r["seed"], r["count"]) for r in results] == [
        (s, len(mnist.arrays["train_labels"])) for s in SEEDS]
    assert all(r["slurm"] for r in results)  # every job went through the fake sbatch
    assert _gets_per_file(server, mnist) == dict.fromkeys(mnist.gz, 1)


APP = """
import json, os
import hydra
from omegaconf import DictConfig
import dmconf

@hydra.main(version_base=None, config_path=None, config_name=None)
def main(cfg: DictConfig) -> None:
    ds = dmconf.load(cfg.dataset)
    count = int(ds.train.labels.data().shape[0])
    from hydra.core.hydra_config import HydraConfig

    with open(os.path.join(HydraConfig.get().runtime.output_dir, "count.json"), "w") as out:
        json.dump({"seed": cfg.seed, "count": count}, out)

if __name__ == "__main__":
    main()
"""


def test_hydra_submitit_local_jobs_on_an_empty_store_fetch_each_file_once(
        mnist_env, server, mnist, tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    app = tmp_path / "train.py"
    app.write_text(APP)
    seeds = ",".join(str(s) for s in SEEDS)
    done = subprocess.run(
        [sys.executable, str(app), "--multirun", "hydra/launcher=submitit_local",
         f"hydra.sweep.dir={tmp_path / 'sweep'}", f"+dataset={MNIST_ID}", f"+seed={seeds}",
         "hydra.launcher.tasks_per_node=1", "hydra.launcher.timeout_min=10"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    counts = sorted(json.loads(p.read_text())["seed"]
                    for p in (tmp_path / "sweep").glob("*/count.json"))
    assert counts == list(SEEDS)
    for path in (tmp_path / "sweep").glob("*/count.json"):
        assert json.loads(path.read_text())["count"] == len(mnist.arrays["train_labels"])
    assert list((tmp_path / "sweep" / ".submitit").iterdir())  # submitit really ran the jobs
    assert _gets_per_file(server, mnist) == dict.fromkeys(mnist.gz, 1)
