"""Derived datasets: a step run once per key, atomically, under a lock; keys that name content
only; the bundled steps; verify, du and gc. Inputs are served by the loopback server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import MNIST_ID, Env
from httpserver import FileServer
from resources import cli, serve_dataset

import dmconf
from dmconf.errors import DefinitionError, StepFailed, VerificationFailed
from dmconf.settings import load_settings

TESTS = Path(__file__).resolve().parent
SOURCE_ID, DERIVED_ID = "test.src", "test.copied"
TAGS = [f"tag{i}" for i in range(12)]


def define_derived(env: Env, params: dict | None = None, *, step: str = "derivesteps:copy",
                   dataset_id: str = DERIVED_ID, inputs: dict | None = None,
                   data: dict | None = None, **extra: object) -> None:
    params = {"tags": TAGS} if params is None else params
    definition = {
        "name": "a copy", "description": "the source, copied by a step", "tags": ["derived"],
        "derive": {"inputs": inputs or {"data": SOURCE_ID}, "step": step, "params": params,
                   **extra},
        "type": "file", "data": data or {"path": f"data{params.get('suffix', '.copy')}"},
    }
    env.define(dataset_id, yaml.safe_dump(definition, sort_keys=False))


@pytest.fixture
def derived_env(env: Env, server: FileServer, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Env:
    """test.src served, test.copied derived from it; step runs counted in tmp/runs."""
    serve_dataset(env, server, SOURCE_ID, b"some,bytes\n1,2\n")
    define_derived(env)
    monkeypatch.syspath_prepend(str(TESTS))
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    monkeypatch.setenv("DERIVE_RUNS", str(tmp_path / "runs"))
    return env


def runs(tmp_path: Path) -> int:
    path = tmp_path / "runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


def outputs(env: Env, dataset_id: str = DERIVED_ID) -> list[str]:
    folder = env.data / dataset_id
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_prepared_twice_runs_the_step_once(derived_env: Env, tmp_path: Path) -> None:
    first = dmconf.prepare(DERIVED_ID)
    assert first.path.read_bytes() == b"some,bytes\n1,2\n"
    assert dmconf.prepare(DERIVED_ID) == first
    assert runs(tmp_path) == 1
    folder = derived_env.folder(DERIVED_ID)
    assert first.path == folder / "data.copy" and dmconf.is_prepared(DERIVED_ID)
    record = json.loads((folder / ".dmconf-derived.json").read_text())
    assert record["document"]["step"] == "derivesteps:copy"
    assert record["document"]["params"] == {"suffix": ".copy", "tags": sorted(TAGS)}
    assert folder.name == record["key"][:16]


def test_changed_parameter_gives_a_new_key_and_keeps_the_old_output(
        derived_env: Env, tmp_path: Path) -> None:
    old = dmconf.prepare(DERIVED_ID)
    define_derived(derived_env, {"tags": TAGS, "suffix": ".bin"})
    new = dmconf.prepare(DERIVED_ID)
    assert new.path.parent != old.path.parent and old.path.exists() and new.path.exists()
    assert runs(tmp_path) == 2 and len(outputs(derived_env)) == 2
    define_derived(derived_env)  # back: the old output is used as it is
    assert dmconf.prepare(DERIVED_ID) == old and runs(tmp_path) == 2
    # a default written out is the same parameter: same key
    define_derived(derived_env, {"tags": TAGS, "suffix": ".copy"})
    assert dmconf.prepare(DERIVED_ID) == old and runs(tmp_path) == 2


def test_input_content_and_step_version_enter_the_key(derived_env: Env, server: FileServer,
                                                      tmp_path: Path) -> None:
    key = dmconf.find(DERIVED_ID).derived_key()
    serve_dataset(derived_env, server, SOURCE_ID, b"other bytes\n")
    changed = dmconf.find(DERIVED_ID).derived_key()
    assert changed != key
    define_derived(derived_env, version=2)
    with pytest.raises(DefinitionError, match="at version 1, the definition was written for "
                       "version 2"):
        dmconf.prepare(DERIVED_ID)
    define_derived(derived_env, version=1)
    assert dmconf.find(DERIVED_ID).derived_key() == changed


def key_in_subprocess(seed: str, data: Path | None = None) -> str:
    code = "import dmconf; print(dmconf.find('test.copied').derived_key())"
    env = {**os.environ, "PYTHONHASHSEED": seed, **({"DMCONF_DATA": str(data)} if data else {})}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


@pytest.mark.slow
def test_key_is_the_same_across_hash_seeds_and_after_moving_the_data_folder(
        derived_env: Env, tmp_path: Path) -> None:
    keys = {key_in_subprocess(seed) for seed in ("1", "2", "3")}
    # the set parameter iterates in another order under each seed: the key does not see it
    orders = {subprocess.run([sys.executable, "-c", f"print(list(frozenset({TAGS!r})))"],
                             env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True,
                             text=True, check=True).stdout for seed in ("1", "2", "3")}
    assert len(orders) > 1
    assert keys == {dmconf.find(DERIVED_ID).derived_key()}
    dmconf.prepare(DERIVED_ID)
    moved = tmp_path / "elsewhere" / "data"
    moved.parent.mkdir()
    shutil.move(derived_env.data, moved)
    assert key_in_subprocess("4", moved) == keys.pop()
    os.environ["DMCONF_DATA"] = str(moved)  # restored by the env fixture's monkeypatch
    assert dmconf.is_prepared(DERIVED_ID)
    assert dmconf.prepare(DERIVED_ID).path.is_relative_to(moved) and runs(tmp_path) == 1


@pytest.mark.slow
def test_kill_during_the_step_leaves_nothing_adopted(derived_env: Env, tmp_path: Path) -> None:
    from test_processes import finish, kill, wait_for

    folder = derived_env.folder(DERIVED_ID)
    proc = cli("prepare", DERIVED_ID, env={"DERIVE_WAIT": str(tmp_path / "never")})
    try:
        wait_for(lambda: runs(tmp_path) == 1 and any(
            p.name.endswith(".build") and (p / "data.copy").exists()
            for p in folder.parent.iterdir()), proc, "the step to write its output")
    finally:
        kill(proc)
    assert not folder.exists() and not dmconf.is_prepared(DERIVED_ID)
    [left] = [p.name for p in folder.parent.iterdir()]  # the killed run's build folder only
    assert left.startswith(f".{folder.name}.{proc.pid}@") and left.endswith(".build")
    finish(cli("prepare", DERIVED_ID))
    assert runs(tmp_path) == 2 and outputs(derived_env) == [folder.name]
    assert (folder / "data.copy").read_bytes() == b"some,bytes\n1,2\n"


@pytest.mark.slow
def test_four_concurrent_prepares_run_the_step_once(derived_env: Env, tmp_path: Path) -> None:
    from test_processes import finish

    procs = [cli("prepare", DERIVED_ID, env={"DERIVE_SLEEP": "3"}) for _ in range(4)]
    finished = [finish(p) for p in procs]
    results = [json.loads(out) for out, _ in finished]
    assert runs(tmp_path) == 1
    # they did ask at once: some waited for the builder's lock
    assert any("waiting for another process to finish building" in err for _, err in finished)
    assert len({r["path"] for r in results}) == 1
    assert outputs(derived_env) == [derived_env.folder(DERIVED_ID).name]


EDITABLE = '''
from dmconf.derive import step

@step(version=1)
def double(inputs, output, params):
    for name, value in inputs.items():
        (output / name).write_bytes(value.path.read_bytes() * 2)
'''


@pytest.mark.slow
def test_source_change_without_version_bump_warns_once(derived_env: Env, tmp_path: Path) -> None:
    from test_processes import finish

    site = tmp_path / "site"
    site.mkdir()
    (site / "editable_steps.py").write_text(EDITABLE)
    define_derived(derived_env, {}, step="editable_steps.double", data={"path": "data"})
    env = {"PYTHONPATH": str(site)}
    finish(cli("prepare", DERIVED_ID, env=env))
    (site / "editable_steps.py").write_text(EDITABLE.replace("* 2", "* 3"))
    _, err = finish(cli("prepare", DERIVED_ID, DERIVED_ID, env=env))
    warnings = [line for line in err.splitlines() if "changed since" in line]
    assert len(warnings) == 1, err
    assert "editable_steps:double" in warnings[0] and "version is still 1" in warnings[0]
    assert f"dmconf prepare --rebuild {DERIVED_ID}" in warnings[0]
    out, err = finish(cli("prepare", "--rebuild", DERIVED_ID, env=env))
    assert Path(json.loads(out)["path"]).read_bytes() == b"some,bytes\n1,2\n" * 3
    _, err = finish(cli("prepare", DERIVED_ID, env=env))
    assert "changed since" not in err


def test_verify_rehashes_the_output_and_du_lists_it(derived_env: Env,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from dmconf.cli import main
    from dmconf.prepared import disk_usage, verify

    typed = dmconf.prepare(DERIVED_ID)
    settings = load_settings()
    assert verify(dmconf.find(DERIVED_ID), settings) == {"output": "ok"}
    [row] = [d for d in disk_usage(settings) if d.id == DERIVED_ID]
    assert row.derived and row.complete and row.size >= typed.path.stat().st_size
    typed.path.write_bytes(b"changed")
    with pytest.raises(VerificationFailed, match="prepare --rebuild"):
        verify(dmconf.find(DERIVED_ID), settings)
    assert main(["prepare", "--rebuild", DERIVED_ID]) == 0
    assert main(["verify", DERIVED_ID]) == 0
    assert f"{DERIVED_ID}: derived output verified" in capsys.readouterr().out
    assert main(["du"]) == 0
    assert f"{DERIVED_ID}  (derived, {typed.path.parent.name})" in capsys.readouterr().out


def test_gc_frees_what_no_definition_references(derived_env: Env, tmp_path: Path,
                                                server: FileServer,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from dmconf.cli import main
    from dmconf.prepared import folder_size

    old = dmconf.prepare(DERIVED_ID).path.parent
    define_derived(derived_env, {"tags": TAGS, "suffix": ".bin"})
    new = dmconf.prepare(DERIVED_ID).path.parent
    # what gc must never touch: a link to an output-looking folder outside the data folder,
    # a link in place of an output, and a downloaded dataset
    outside = tmp_path / "outside" / "0123456789abcdef"
    shutil.copytree(old, outside)
    (derived_env.data / "test.link").symlink_to(outside.parent, target_is_directory=True)
    (derived_env.data / DERIVED_ID / "fedcba9876543210").symlink_to(outside)
    source = derived_env.folder(SOURCE_ID)
    size = folder_size(old)
    capsys.readouterr()
    assert main(["gc", "--dry-run"]) == 0
    assert old.exists() and f"would free {size} B" in capsys.readouterr().out
    assert main(["gc"]) == 0
    out = capsys.readouterr().out
    assert f"freed {size} B (1 unreferenced output(s))" in out and old.name in out
    assert not old.exists() and new.exists() and (source / "payload").exists()
    assert (outside / ".dmconf-derived.json").exists()
    assert outputs(derived_env) == sorted([new.name, "fedcba9876543210"])
    assert main(["gc"]) == 0 and "freed 0 B" in capsys.readouterr().out
    # a definition that is no longer derived references no output
    serve_dataset(derived_env, server, DERIVED_ID, b"now downloaded")
    assert main(["gc"]) == 0 and "(1 unreferenced output(s))" in capsys.readouterr().out
    assert not new.exists()


def test_a_failing_step_keeps_nothing(derived_env: Env) -> None:
    define_derived(derived_env, {}, step="derivesteps:fails")
    with pytest.raises(StepFailed, match=r"the input is not what I expected\); nothing was kept"):
        dmconf.prepare(DERIVED_ID)
    assert outputs(derived_env) == []


@pytest.mark.parametrize(("step", "message"), [
    ("derivesteps:not_a_step", "is not a dmconf step: decorate it"),
    ("derivesteps:missing", "has no 'missing'"),
    ("no_such_module:x", "cannot be imported"),
    ("nothing", "neither a known step name"),
])
def test_a_definition_names_registered_steps_only(derived_env: Env, step: str,
                                                  message: str) -> None:
    define_derived(derived_env, {}, step=step)
    with pytest.raises(DefinitionError, match=message):
        dmconf.prepare(DERIVED_ID)


def test_bad_inputs_and_params_are_one_clear_error(derived_env: Env) -> None:
    define_derived(derived_env, {"colour": "red"})
    with pytest.raises(DefinitionError, match=r"derive\.params.*colour"):
        dmconf.prepare(DERIVED_ID)
    define_derived(derived_env, inputs={"data": {"dataset": SOURCE_ID, "part": "nope"}})
    with pytest.raises(DefinitionError, match="has no part 'nope'"):
        dmconf.prepare(DERIVED_ID)
    define_derived(derived_env, inputs={"data": "test.copied"})
    with pytest.raises(DefinitionError, match=r"cycle: test\.copied -> test\.copied"):
        dmconf.prepare(DERIVED_ID)
    derived_env.define("test.nopin", "resources: {a: {url: 'http://127.0.0.1/a'}}\n"
                       "type: file\ndata: {path: a}\n")
    define_derived(derived_env, inputs={"data": "test.nopin"})
    with pytest.raises(DefinitionError, match="resources a have no sha256: their content is "
                       "unknown"):
        dmconf.prepare(DERIVED_ID)
    with pytest.raises(DefinitionError, match="is downloaded, not derived"):
        dmconf.prepare(SOURCE_ID, rebuild=True)
    derived_env.define("test.both", "derive: {inputs: {a: x}, step: s}\nresources: {a: {url: "
                       "'http://127.0.0.1/a'}}\ntype: file\n")
    with pytest.raises(DefinitionError, match="not both"):
        dmconf.find("test.both")


def test_idx_to_npy_scales_mnist_and_is_a_dataset_like_any_other(
        mnist_env: Env, mnist, capsys: pytest.CaptureFixture[str]) -> None:
    from dmconf.cli import main

    mnist_env.define("test.mnist-npy", f"""
        name: MNIST as float arrays
        description: pixels in [0, 1]
        tags: [image, derived]
        derive:
          inputs:
            images: {{dataset: {MNIST_ID}, part: train.images}}
            labels: {{dataset: {MNIST_ID}, part: train.labels}}
          step: idx-to-npy
          version: 1
          params: {{dtype: float32, scale: 0.00392156862745098}}
        type: generic
        data:
          images: {{type: npy, path: images.npy}}
          labels: {{type: npy, path: labels.npy}}
        """)
    ds = dmconf.prepare("test.mnist-npy")
    images = ds.images.data()
    assert images.dtype == np.float32 and images.shape == mnist.arrays["train_images"].shape
    assert np.allclose(images, mnist.arrays["train_images"] / 255.0)
    assert np.allclose(ds.labels.data(), mnist.arrays["train_labels"] / 255.0)
    assert "test.mnist-npy" in dmconf.search("derived")
    assert main(["info", "test.mnist-npy"]) == 0
    info = capsys.readouterr().out
    assert "derive:    step idx-to-npy (version 1)" in info and "prepared:  yes" in info


def test_csv_to_parquet(env: Env, server: FileServer) -> None:
    pytest.importorskip("pyarrow")
    from resources import sha256

    server.files["table.csv"] = body = b"a;b\n1;x\n2;y\n"
    env.define("test.table", f"""
        resources: {{rows: {{url: "{server.url('table.csv')}", sha256: "{sha256(body)}"}}}}
        type: table
        data: {{path: rows, delimiter: ";"}}
        """)
    env.define("test.parquet", """
        derive: {inputs: {rows: test.table}, step: csv-to-parquet}
        type: parquet
        data: {path: rows.parquet}
        """)
    table = dmconf.prepare("test.parquet").to_arrow()
    assert table.column_names == ["a", "b"] and table.column("a").to_pylist() == [1, 2]
    assert table.column("b").to_pylist() == ["x", "y"]


def test_experimaestro_parameter(derived_env: Env) -> None:
    pytest.importorskip("experimaestro")
    from dmconf.xpm import Dataset

    dataset = Dataset.C(id=DERIVED_ID)
    assert dataset.digest == dmconf.find(DERIVED_ID).content_digest()
    assert dataset.load().path.read_bytes() == b"some,bytes\n1,2\n"


HYDRA_APP = '''
import json

import hydra
from hydra.utils import instantiate

import dmconf


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg):
    loaded = dmconf.load(cfg.dataset)
    print("RESULT " + json.dumps({
        "path": str(loaded.path), "same": instantiate(cfg.dataset) == loaded,
        "step": cfg.dataset.derive.step, "folder": cfg.folder}))


main()
'''


@pytest.mark.slow
def test_a_derived_dataset_is_an_option_of_the_hydra_group(derived_env: Env, tmp_path: Path
                                                           ) -> None:
    from hydraapps import results, run, write_app

    app = write_app(tmp_path / "app", {"app.py": HYDRA_APP, "conf/config.yaml": (
        f"defaults:\n  - dataset: {SOURCE_ID}\n  - _self_\nfolder: ${{dmconf:{DERIVED_ID}}}\n")})
    [report] = results(run(app, f"dataset={DERIVED_ID}", "+dmconf=prepare"))
    folder = derived_env.folder(DERIVED_ID)
    assert report == {"path": str(folder / "data.copy"), "same": True,
                      "step": "derivesteps:copy", "folder": str(folder)}
    assert runs(tmp_path) == 1


@pytest.mark.slow
def test_gc_waits_for_a_build_and_keeps_what_it_built(derived_env: Env, tmp_path: Path) -> None:
    from test_processes import finish, wait_for

    old = dmconf.prepare(DERIVED_ID).path.parent
    define_derived(derived_env, {"tags": TAGS, "suffix": ".bin"})
    new = derived_env.folder(DERIVED_ID)
    gate = tmp_path / "gate"
    builder = cli("prepare", DERIVED_ID, env={"DERIVE_WAIT": str(gate)})
    wait_for(lambda: runs(tmp_path) == 2, builder, "the step to start")
    log = tmp_path / "gc.log"
    with open(log, "w") as stderr:
        collector = cli("gc", stderr=stderr)
        try:
            wait_for(lambda: "waiting for another process" in log.read_text(), collector,
                     "gc to wait for the builder's lock")
            assert old.exists() and collector.poll() is None
        finally:
            gate.touch()
        finish(builder)
        out, _ = finish(collector)
    assert "(1 unreferenced output(s))" in out and old.name in out
    assert not old.exists() and (new / "data.bin").exists()
    assert outputs(derived_env) == [new.name]
