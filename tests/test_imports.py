"""The public surface, and the cost of importing it."""

from __future__ import annotations

import json
import subprocess
import sys

import dmconf


def test_exported_members_are_exactly_all():
    public = {name for name in dir(dmconf) if not name.startswith("_")} | {"__version__"}
    assert set(dmconf.__all__) == public
    for name in dmconf.__all__:
        assert getattr(dmconf, name) is not None, name


def test_prepare_stays_a_function_after_every_module_is_imported():
    import dmconf.preparation

    assert callable(dmconf.prepare) and dmconf.prepare.__module__ == "dmconf.preparation"
    assert dmconf.prepare_dataset.__name__ == "prepare_dataset"


def test_unknown_attributes_are_plain_attribute_errors():
    try:
        dmconf.prepair  # noqa: B018
    except AttributeError as exc:
        assert "prepair" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("dmconf.prepair should not exist")


HEAVY = ["hydra", "omegaconf", "requests", "numpy", "experimaestro", "tqdm", "yaml"]


def test_import_dmconf_is_cheap():
    code = (
        "import sys, json, dmconf; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_listing_does_not_import_numpy_requests_or_hydra():
    code = (
        "import sys, json\n"
        "from dmconf.cli import main\n"
        "main(['list'])\n"
        f"print(json.dumps([m for m in {HEAVY[:5]!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.splitlines()[-1]) == []


def test_errors_survive_pickling():
    import pickle

    from dmconf.errors import ChecksumMismatch, DatasetNotFound

    error = ChecksumMismatch(dataset="a.b", resource="r", url="http://x/r", path="/d/r",
                             expected="e" * 64, actual="f" * 64, size=3)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ChecksumMismatch and str(copy) == str(error)
    assert copy.url == "http://x/r" and copy.expected == "e" * 64
    missing = pickle.loads(pickle.dumps(DatasetNotFound("a.b", ["a.c"])))
    assert missing.suggestions == ["a.c"] and isinstance(missing, KeyError)


# Families a dataset's definition names only when it uses them (issue 14, cold start-up).
FAMILIES = ["dmconf.compat.irds", "dmconf.data.ir", "dmconf.derive.base", "dmconf.store.swap"]


def test_a_catalogue_and_a_definition_import_no_family_they_do_not_use(env, irds_index):
    env.define("test.plain", json.dumps({"resources": {"data": {
        "url": "https://example.org/a.csv", "sha256": "0" * 64}}, "type": "file",
        "data": {"path": "data"}}))
    code = (
        "import json, sys\n"
        "from dmconf.catalog import Catalog\n"
        "from dmconf.preparation import build_object\n"
        "from dmconf.settings import load_settings\n"
        "catalog = Catalog.from_settings()\n"
        "ids = catalog.ids()\n"
        "definition = catalog.find('test.plain')\n"
        "build_object(definition, load_settings().dataset_folder(definition))\n"
        "print(json.dumps([any(i.startswith('irds.') for i in ids) or None,\n"
        f"                  [m for m in {FAMILIES!r} if m in sys.modules]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    listed, imported = json.loads(out.stdout)
    assert imported == [] and listed is (True if irds_index is not None else None)


def test_the_command_freezes_the_collector_at_exit_only(env):
    """main() registers gc.freeze as an exit handler: the interpreter's shutdown does not walk
    every object; a process that goes on after main() keeps a collector that collects."""
    code = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('at exit', gc.get_freeze_count() > 0))\n"
        "from dmconf.cli import main\n"
        "main(['list'])\n"
        "print('after main', gc.get_freeze_count())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-2:] == ["after main 0", "at exit True"]
