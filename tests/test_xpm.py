"""experimaestro integration: real local experiments, and identities that follow content."""

from __future__ import annotations

import importlib.util
import json
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import yaml
from conftest import MNIST_ID, Env, MnistFiles, mnist_definition
from httpserver import FileServer

pytest.importorskip("experimaestro")

from dmconf.errors import DatasetChanged, DatasetNotFound, DefinitionError
from dmconf.xpm import Dataset

EXAMPLES = Path(__file__).parents[1] / "examples"
EXAMPLE = EXAMPLES / "xpm_experiment.py"


@pytest.fixture(scope="module")
def example() -> Iterator[ModuleType]:
    """examples/xpm_experiment.py, imported as a top-level module (jobs load it by file)."""
    spec = importlib.util.spec_from_file_location("xpm_experiment", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["xpm_experiment"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["xpm_experiment"]


def expected_means(mnist: MnistFiles) -> dict[str, float]:
    images, labels = mnist.arrays["train_images"], mnist.arrays["train_labels"]
    return {
        str(int(label)): float(images[labels == label].mean(dtype=np.float64))
        for label in np.unique(labels)
    }


def identifier(config: object) -> str:
    return config.__identifier__().all.hex()  # type: ignore[attr-defined]


def run_driver(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    """Run an experiment's driver as its own process, as a user does (experimaestro's
    scheduler is a per-process singleton: one experiment per process keeps tests apart).
    The driver inherits this test's DMCONF_* variables."""
    path = tmp_path / "driver.py"
    path.write_text(
        f"import sys\nsys.path.insert(0, {str(EXAMPLES)!r})\n" + textwrap.dedent(script),
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )


# --- A real local experiment -------------------------------------------------------------


def test_job_downloads_and_loads_typed_data(
    mnist_env: Env, server: FileServer, mnist: MnistFiles, tmp_path: Path
) -> None:
    """The example, run as a user runs it, in on-node mode: the job prepares the served
    dataset itself and computes on the typed data."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--workdir", str(tmp_path / "xp"), "--dataset", MNIST_ID,
         "--on-node"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["dataset"] == MNIST_ID
    assert result["count"] == 60000
    assert result["means"] == pytest.approx(expected_means(mnist))
    [output] = (tmp_path / "xp" / "jobs").glob("dmconf.examples.classmeans/*/class-means.json")
    assert json.loads(output.read_text(encoding="utf-8")) == result
    # Downloaded once, by the job (not the driver), into the test's data folder.
    assert (mnist_env.folder(MNIST_ID) / "train_images").is_file()
    assert len(server.requests_for("mnist/train_images.gz")) == 1
    [job_log] = output.parent.glob("*.err")
    assert "test.mnist: prepared in " in job_log.read_text(encoding="utf-8")


def test_jobs_on_nodes_download_once(
    mnist_env: Env, server: FileServer, mnist: MnistFiles, tmp_path: Path
) -> None:
    """Two jobs (train and test parts: two identities) submitted together, no prepare() in
    the driver: both load the dataset, the per-dataset lock makes it one download."""
    done = run_driver(tmp_path, f"""
        from experimaestro import experiment
        from xpm_experiment import ClassMeans
        from dmconf.xpm import Dataset

        with experiment({str(tmp_path / "xp")!r}, "on-node", no_environmental_impact=True):
            tasks = [ClassMeans.C(dataset=Dataset.C(id={MNIST_ID!r}, part=part)).submit()
                     for part in ("train", "test")]
        for task in tasks:
            print(task.output)
    """)
    assert done.returncode == 0, done.stderr
    outputs = [Path(line) for line in done.stdout.split()]
    counts = [json.loads(p.read_text(encoding="utf-8"))["count"] for p in outputs]
    assert counts == [60000, 10000]
    for key in mnist.gz:
        assert len(server.requests_for(f"mnist/{key}.gz")) == 1, key


def test_driver_prepares_and_job_sees_settings_despite_setenv(
    mnist_env: Env, server: FileServer, mnist: MnistFiles, tmp_path: Path
) -> None:
    """Driver mode: prepare() downloads in the driver; the job, whose environment
    launcher.setenv replaced (no DMCONF_DATA, no DMCONF_CATALOG), finds the data through the
    recorded settings and never touches the network (DMCONF_OFFLINE=1 is all it has)."""
    done = run_driver(tmp_path, f"""
        import logging
        from experimaestro import experiment
        from xpm_experiment import ClassMeans
        from dmconf.xpm import Dataset

        logging.basicConfig(level=logging.INFO)
        dataset = Dataset.C(id={MNIST_ID!r}, part="train").prepare()
        with experiment({str(tmp_path / "xp")!r}, "driver-mode",
                        no_environmental_impact=True) as xp:
            xp.workspace.launcher.setenv("DMCONF_OFFLINE", "1")
            task = ClassMeans.C(dataset=dataset).submit()
        print(task.output)
    """)
    assert done.returncode == 0, done.stderr
    assert "test.mnist: prepared in " in done.stderr  # the driver downloaded
    output = Path(done.stdout.strip().splitlines()[-1])
    result = json.loads(output.read_text(encoding="utf-8"))
    assert result["means"] == pytest.approx(expected_means(mnist))
    assert len(server.requests_for("mnist/train_labels.gz")) == 1
    [job_log] = output.parent.glob("*.err")
    assert "fetching" not in job_log.read_text(encoding="utf-8")


def test_job_fails_clearly_when_the_definition_changed(
    mnist_env: Env, server: FileServer, mnist: MnistFiles, tmp_path: Path
) -> None:
    """A job built for one content refuses to run on another (a checksum changed after the
    configuration was written, before the job ran)."""
    changed = yaml.safe_load(mnist_definition(server, mnist))
    changed["resources"]["train_labels"]["sha256"] = "0" * 64
    definition_file = mnist_env.catalog / "test" / "mnist.yaml"
    done = run_driver(tmp_path, f"""
        from pathlib import Path
        from experimaestro import experiment
        from xpm_experiment import ClassMeans
        from dmconf.xpm import Dataset

        dataset = Dataset.C(id={MNIST_ID!r}, part="train")
        Path({str(definition_file)!r}).write_text({yaml.safe_dump(changed)!r})
        with experiment({str(tmp_path / "xp")!r}, "changed", no_environmental_impact=True):
            task = ClassMeans.C(dataset=dataset).submit()
        print(task.output)
    """)
    assert done.returncode == 0, done.stderr  # experimaestro 2.7 logs failed jobs, no raise
    assert "Experiment Failed: 1 failed jobs" in done.stderr
    output = Path(done.stdout.strip().splitlines()[-1])
    [job_log] = output.parent.glob("*.err")
    log = job_log.read_text(encoding="utf-8")
    assert "dmconf.errors.DatasetChanged: test.mnist: the definition in" in log
    assert "Re-run the experiment" in log
    assert not output.exists()
    assert not server.requests_for("mnist/train_labels.gz")  # nothing fetched for other data


# --- Identity ------------------------------------------------------------------------------


@pytest.fixture
def task_identifier(example: ModuleType):
    def compute(**dataset: str) -> str:
        return identifier(example.ClassMeans.C(dataset=Dataset.C(**dataset)))

    return compute


def test_digest_is_filled_from_the_catalogue(mnist_env: Env) -> None:
    from dmconf.api import find

    dataset = Dataset.C(id=MNIST_ID)
    assert dataset.digest == find(MNIST_ID).content_digest()


def test_identity_ignores_data_folder(
    mnist_env: Env, task_identifier, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = task_identifier(id=MNIST_ID)
    monkeypatch.setenv("DMCONF_DATA", str(tmp_path / "elsewhere"))
    assert task_identifier(id=MNIST_ID) == before


def test_identity_ignores_urls_mirrors_and_descriptions(
    mnist_env: Env, server: FileServer, mnist: MnistFiles, task_identifier
) -> None:
    before = task_identifier(id=MNIST_ID)
    moved = yaml.safe_load(mnist_definition(server, mnist, prefix="moved"))
    for key, resource in moved["resources"].items():
        resource["mirrors"] = [server.url(f"mirror/{key}.gz")]
    moved["description"] = "Another description."
    moved["name"] = "Another name"
    mnist_env.define(MNIST_ID, yaml.safe_dump(moved))
    assert task_identifier(id=MNIST_ID) == before


def test_identity_changes_with_a_checksum(
    mnist_env: Env, server: FileServer, mnist: MnistFiles, task_identifier
) -> None:
    before = task_identifier(id=MNIST_ID)
    changed = yaml.safe_load(mnist_definition(server, mnist))
    changed["resources"]["test_labels"]["sha256"] = "f" * 64
    mnist_env.define(MNIST_ID, yaml.safe_dump(changed))
    assert task_identifier(id=MNIST_ID) != before


def test_identity_changes_with_the_data_structure(
    mnist_env: Env, server: FileServer, mnist: MnistFiles, task_identifier
) -> None:
    before = task_identifier(id=MNIST_ID)
    changed = yaml.safe_load(mnist_definition(server, mnist))
    changed["data"]["train"], changed["data"]["test"] = changed["data"]["test"], changed["data"][
        "train"
    ]
    mnist_env.define(MNIST_ID, yaml.safe_dump(changed))
    assert task_identifier(id=MNIST_ID) != before


def test_identity_differs_for_another_dataset_and_part(
    mnist_env: Env, server: FileServer, mnist: MnistFiles, task_identifier
) -> None:
    mnist_env.define("test.mnist2", mnist_definition(server, mnist))  # same content, other id
    ids = {
        task_identifier(id=MNIST_ID),
        task_identifier(id="test.mnist2"),
        task_identifier(id=MNIST_ID, part="train"),
        task_identifier(id=MNIST_ID, part="test"),
    }
    assert len(ids) == 4


def test_identity_is_stable_across_processes(mnist_env: Env) -> None:
    """The digest is a pure function of the definition: another interpreter gets the same."""
    code = (
        "from dmconf.xpm import Dataset; "
        f"print(Dataset.C(id={MNIST_ID!r}).__identifier__().all.hex())"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert other == identifier(Dataset.C(id=MNIST_ID))


def test_id_changed_after_construction_is_recomputed_on_validation(mnist_env: Env) -> None:
    mnist_env.define("test.other", mnist_definition_text_with_other_checksum(mnist_env))
    dataset = Dataset.C(id=MNIST_ID)
    dataset.id = "test.other"
    dataset.__xpm__.validate()
    assert dataset.digest == Dataset.C(id="test.other").digest != Dataset.C(id=MNIST_ID).digest


def mnist_definition_text_with_other_checksum(env: Env) -> str:
    definition = yaml.safe_load(env.catalog.joinpath("test", "mnist.yaml").read_text())
    definition["resources"]["train_images"]["sha256"] = "a" * 64
    return yaml.safe_dump(definition)


# --- Errors --------------------------------------------------------------------------------


def test_unknown_id_is_refused_when_written(mnist_env: Env) -> None:
    with pytest.raises(DatasetNotFound, match=r"did you mean test\.mnist"):
        Dataset.C(id="test.mnits")


def test_unknown_part_names_the_known_parts(mnist_env: Env) -> None:
    with pytest.raises(DefinitionError, match=r"part 'tran': 'tran' is not in the dataset's "
                       r"data \(there: test, train\)"):
        Dataset.C(id=MNIST_ID, part="tran")
    with pytest.raises(DefinitionError, match=r"'imgs' is not in train \(there: images, labels"):
        Dataset.C(id=MNIST_ID, part="train.imgs")
    assert Dataset.C(id=MNIST_ID, part="train.images").part == "train.images"
    late = Dataset.C(id=MNIST_ID)
    late.part = "validation"
    with pytest.raises(DefinitionError, match=r"'validation' is not in the dataset's data"):
        late.__xpm__.validate()


def test_part_selects_a_node_of_the_prepared_object(mnist_env: Env, mnist: MnistFiles) -> None:
    labels = Dataset.C(id=MNIST_ID, part="test.labels").instance().load()
    assert np.array_equal(labels.data(), mnist.arrays["test_labels"])


def test_resource_without_checksum_is_refused(env: Env, server: FileServer) -> None:
    server.files["loose.csv"] = b"a,b\n1,2\n"
    env.define(
        "test.loose",
        f"""
        resources:
          table: {{url: "{server.url('loose.csv')}"}}
        type: csv
        data: {{path: table}}
        """,
    )
    pattern = r"dataset test\.loose has resources without sha256 \(table\).*pin each one"
    with pytest.raises(DefinitionError, match=pattern):
        Dataset.C(id="test.loose")


def test_a_wrong_digest_given_by_hand_is_refused(mnist_env: Env) -> None:
    with pytest.raises(DatasetChanged, match=r"^test\.mnist: the definition in .* no longer"):
        Dataset.C(id=MNIST_ID, digest="0" * 64)


def test_load_refuses_changed_content(
    mnist_env: Env, server: FileServer, mnist: MnistFiles
) -> None:
    """The check the job makes, on an instance built as experimaestro builds it in a job."""
    dataset = Dataset.C(id=MNIST_ID).instance()
    mnist_env.define(MNIST_ID, mnist_definition_text_with_other_checksum(mnist_env))
    with pytest.raises(DatasetChanged) as caught:
        dataset.load()
    assert caught.value.dataset == MNIST_ID
    assert "Re-run the experiment" in str(caught.value)
    assert not server.requests_for("mnist/train_images.gz")
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is DatasetChanged and str(again) == str(caught.value)


# --- Settings in jobs ----------------------------------------------------------------------


def test_job_environment_beats_recorded_settings(
    env: Env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dmconf.xpm import job_settings

    recorded = {"DMCONF_DATA": str(tmp_path / "driver"), "DMCONF_OFFLINE": "1"}
    monkeypatch.delenv("DMCONF_DATA")
    settings = job_settings(recorded)
    assert settings.data == tmp_path / "driver"  # the job has none: the driver's fills the gap
    assert settings.offline
    monkeypatch.setenv("DMCONF_DATA", str(tmp_path / "node"))
    monkeypatch.setenv("DMCONF_OFFLINE", "0")
    settings = job_settings(recorded)
    assert settings.data == tmp_path / "node"
    assert not settings.offline


def test_relative_paths_are_recorded_absolute_and_win_over_relative_ones(
    env: Env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A driver started as `DMCONF_DATA=data python xp.py`: its job inherits the relative
    value but runs in the workspace folder; the recorded absolute path is the right one."""
    from dmconf.xpm import job_settings, settings_environ

    (tmp_path / "driver").mkdir()
    (tmp_path / "workspace").mkdir()
    monkeypatch.chdir(tmp_path / "driver")
    monkeypatch.setenv("DMCONF_DATA", "data")
    recorded = settings_environ()
    assert recorded["DMCONF_DATA"] == str(tmp_path / "driver" / "data")
    assert recorded["DMCONF_CATALOG"] == str(env.catalog)

    monkeypatch.chdir(tmp_path / "workspace")
    assert job_settings(recorded).data == tmp_path / "driver" / "data"


# --- The optional extra ------------------------------------------------------------------


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_import_dmconf_does_not_import_experimaestro() -> None:
    done = run_python(
        "import sys, dmconf; dmconf.prepare; dmconf.load; dmconf.DmconfError; "
        "print('experimaestro' in sys.modules)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_xpm_without_experimaestro_says_how_to_install() -> None:
    done = run_python("import sys; sys.modules['experimaestro'] = None; import dmconf.xpm")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: dmconf.xpm needs experimaestro")
    assert "pip install 'dmconf[xpm]'" in last
