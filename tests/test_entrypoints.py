"""Entries of the ``dmconf.datasets`` group: loading, errors naming the entry point, and the
search metadata read from the module's source without running it."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Env

from dmconf.catalog import Catalog
from dmconf.entrypoints import PythonEntry, index_file
from dmconf.errors import DefinitionError

MODULE = '''
from dmconf.data.tensor import IDX
from dmconf.definition import DatasetDefinition
from dmconf.definitions import dataset, datatags, datatasks
from dmconf.download.single import filedownloader

@datatags("digits", "grey")
@datatasks("classification")
@datatags("digits", "small")
@filedownloader("labels.idx", "http://example.org/labels.gz")
@dataset(IDX, url="http://example.org/")
def literal(labels):
    """Literal labels

    Tags and tasks written as literals.
    """
    return IDX(path=labels)

DEFINITION = DatasetDefinition(id="org.example.model", type="generic", name="A model object")
NOT_A_DATASET = 42
'''


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module ``eptest_defs`` importable from a temporary folder."""
    path = tmp_path / "site" / "eptest_defs.py"
    path.parent.mkdir()
    path.write_text(MODULE)
    monkeypatch.syspath_prepend(str(path.parent))
    yield path
    sys.modules.pop("eptest_defs", None)


def entry(dataset_id: str, target: str, path: Path) -> PythonEntry:
    entry = PythonEntry(dataset_id, path, "plugin eptest 1.0", target=target,
                        distribution="eptest 1.0")
    entry.fingerprint = [target, "eptest 1.0", str(path), 1, 1]
    return entry


def test_literal_metadata_is_read_without_importing(env: Env, module: Path) -> None:
    literal = entry("org.example.literal", "eptest_defs:literal", module)
    assert literal.metadata() == {
        "name": "Literal labels", "description": "Tags and tasks written as literals.",
        "tags": ["digits", "grey", "small"], "tasks": ["classification"],
    }
    assert "eptest_defs" not in sys.modules
    # ... and it is what the imported definition says.
    definition = literal.definition()
    assert [definition.name, definition.description, definition.tags, definition.tasks] == list(
        literal.metadata().values())
    assert index_file().is_file()


def test_catalog_lists_searches_and_finds_python_entries(env: Env, module: Path) -> None:
    catalog = Catalog(Catalog.from_settings().roots, [
        entry("org.example.literal", "eptest_defs:literal", module),
        entry("org.example.model", "eptest_defs:DEFINITION", module),
    ])
    ids = catalog.ids()
    assert "com.lecun.mnist" in ids  # the bundled catalogue, then the Python entries
    assert [i for i in ids if i.startswith("org.example.")] == ["org.example.literal",
                                                                "org.example.model"]
    assert "eptest_defs" not in sys.modules
    assert catalog.search("tag:grey") == ["org.example.literal"]
    assert "eptest_defs" in sys.modules  # DEFINITION is no decorated function: imported to know
    assert catalog.search("model object") == ["org.example.model"]
    found = catalog.find("org.example.model")
    assert found.name == "A model object"
    assert found.source == f"entry point 'org.example.model' = 'eptest_defs:DEFINITION' of " \
        f"eptest 1.0 ({module})"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("eptest_defs:DEFINITION", r"gives a definition whose id is 'org.example.model'"),
        ("eptest_defs:NOT_A_DATASET", r"names a int, not a dataset: decorate a function"),
        ("eptest_defs:missing", r"cannot be loaded \(AttributeError"),
        ("eptest_nowhere:x", r"cannot be loaded \(ModuleNotFoundError.*reinstall the plugin"),
    ],
)
def test_errors_name_the_entry_point(module: Path, target: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message) as caught:
        entry("org.example.other", target, module).definition()
    assert f"entry point 'org.example.other' = '{target}' of eptest 1.0" in str(caught.value)


def test_a_broken_module_is_reported_at_import_not_at_listing(env: Env, tmp_path: Path,
                                                               module: Path) -> None:
    module.write_text(textwrap.dedent(MODULE) + "\nraise RuntimeError('plugin bug')\n")
    broken = entry("org.example.literal", "eptest_defs:literal", module)
    catalog = Catalog([], [broken])
    assert catalog.ids() == ["org.example.literal"]
    assert catalog.search("literal") == ["org.example.literal"]  # from the source
    with pytest.raises(DefinitionError, match=r"RuntimeError: plugin bug"):
        catalog.find("org.example.literal")
