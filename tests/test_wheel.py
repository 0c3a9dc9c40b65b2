"""The built wheel carries the catalogue and the Hydra configs, and works once installed."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# One worker runs this file: its fixtures are built once, not once per worker.
pytestmark = pytest.mark.xdist_group("wheel")

SOURCE = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
         str(SOURCE)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    (built,) = out.glob("dmconf-*.whl")
    return built


def test_the_wheel_holds_datasets_conf_and_typing(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = {n for n in names if n.startswith("dmconf/_bundled/")}
    expected_datasets = {
        "dmconf/_bundled/datasets/" + str(p.relative_to(SOURCE / "datasets"))
        for p in (SOURCE / "datasets").rglob("*.yaml")
    }
    assert "dmconf/_bundled/datasets/com/lecun/mnist.yaml" in expected_datasets
    assert expected_datasets <= bundled
    expected_conf = {
        "dmconf/_bundled/conf/" + str(p.relative_to(SOURCE / "conf"))
        for p in (SOURCE / "conf").rglob("*") if p.is_file()
    }
    assert expected_conf and expected_conf <= bundled
    assert "dmconf/py.typed" in names
    # The site's templates and static files are package data (dmconf catalog --html).
    site = SOURCE / "dmconf" / "site"
    shipped = {str(p.relative_to(SOURCE)) for p in site.rglob("*")
               if p.is_file() and p.suffix in (".html", ".css", ".js")}
    assert {"dmconf/site/templates/dataset.html", "dmconf/site/static/index.js"} <= shipped
    assert shipped <= names
    # Hydra finds dmconf through this module; hydra_plugins must stay a namespace package
    # (an __init__.py there would hide every other distribution's Hydra plugins).
    assert "hydra_plugins/dmconf_plugin/dmconf_plugin.py" in names
    assert "hydra_plugins/__init__.py" not in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "dmconf = dmconf.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert not [n for n in names if n.startswith(("tests/", "datasets/", "conf/"))], (
        "nothing may be installed as a top-level tests/datasets/conf package"
    )


def test_the_installed_wheel_finds_its_catalogue(wheel, tmp_path, env):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    run_env = {**os.environ, "PYTHONPATH": str(target), "DMCONF_CATALOG": ""}
    code = (
        "import dmconf, dmconf.catalog as c; print(dmconf.__file__); print(c.bundled_root())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=run_env, cwd=tmp_path, check=True)
    module_file, root = done.stdout.split()
    assert Path(module_file).is_relative_to(target), "the test must use the installed wheel"
    assert Path(root) == target / "dmconf" / "_bundled" / "datasets"
    search = subprocess.run([sys.executable, "-m", "dmconf.cli", "search", "lecun"],
                            capture_output=True, text=True, env=run_env, cwd=tmp_path)
    assert search.returncode == 0, search.stderr
    assert search.stdout.splitlines() == ["com.lecun.mnist"]
    # The site builds from the installed package's own templates and static files.
    html = tmp_path / "html"
    env.define("test.one", "type: file\nresources: {}\ndata: {path: a}\n")
    built = subprocess.run(
        [sys.executable, "-m", "dmconf.cli", "catalog", "--html", str(html), "--root",
         str(env.catalog), "--only-roots"],
        capture_output=True, text=True, env=run_env, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert (html / "d" / "test.one.html").is_file() and (html / "assets" / "index.js").is_file()
