"""Every bundled definition validates, pins each resource (sha256, size, cited source), carries
the metadata people look for, and builds its typed object (against an empty folder: no
download)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dmconf.catalog import bundled_root
from dmconf.cli import main
from dmconf.definition import load_definition_file
from dmconf.preparation import build_object

ROOT = bundled_root()
FILES = sorted(ROOT.rglob("*.yaml"))
DOMAINS = {"image", "text", "tabular", "audio", "ir", "embeddings"}


def _id(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_bundled_definition_is_pinned_described_and_typed(path, tmp_path):
    definition = load_definition_file(path, _id(path))
    text = path.read_text()
    assert definition.resources, "a bundled dataset fetches something"
    for key, resource in definition.resources.items():
        assert resource.sha256 and resource.size, f"{key}: sha256 and size are required"
        line = next(line for line in text.splitlines() if resource.sha256 in line.lower())
        assert "#" in line, f"{key}: the sha256 line must cite where it was copied from"
    assert re.search(r"^# .*github\.com/\S+, \S+", text, re.M), "the header names repo and path"
    assert definition.homepage and definition.license and definition.citation
    assert definition.splits and definition.tasks and definition.name
    assert set(definition.tags) & DOMAINS, f"tags must name a domain ({sorted(DOMAINS)})"
    obj = build_object(definition, tmp_path / "folder")
    assert obj.id == definition.id  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_info_of_every_bundled_dataset_shows_licence_and_citation(path, env, capsys):
    definition = load_definition_file(path, _id(path))
    assert main(["info", definition.id]) == 0
    out = capsys.readouterr().out
    assert f"license:   {definition.license}" in out
    assert (definition.citation or "?").splitlines()[0] in out
    assert main(["info", "--bibtex", definition.id]) == 0
    assert capsys.readouterr().out.startswith("@")


def test_the_catalogue_note_lists_every_dataset_with_its_checksum_source():
    note = (ROOT / "README.md").read_text()
    for path in FILES:
        source = re.search(r"^#   (github\.com/\S+, \S+)", path.read_text(), re.M)
        assert source is not None
        row = next((line for line in note.splitlines() if f"`{_id(path)}`" in line), "")
        assert source.group(1) in row, f"datasets/README.md: no row for {_id(path)} citing {source}"


def test_the_catalogue_spans_forty_datasets_and_the_domains():
    domains = {}
    for path in FILES:
        definition = load_definition_file(path, _id(path))
        for tag in set(definition.tags) & DOMAINS:
            domains.setdefault(tag, []).append(definition.id)
    assert len(FILES) >= 40
    assert set(domains) >= DOMAINS, f"domains without a dataset: {DOMAINS - set(domains)}"


def test_listing_the_catalogue_parses_no_yaml():
    """`dmconf list` reads file names only: with the whole catalogue, no YAML parser is loaded."""
    code = (
        "import sys, json\n"
        "from dmconf.cli import main\n"
        "main(['list'])\n"
        "print(json.dumps(['yaml' in sys.modules, 'dmconf.definition' in sys.modules]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DMCONF_CATALOG"}
    env["DMCONF_SETTINGS"] = os.devnull  # the bundled catalogue only
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    lines = out.stdout.splitlines()
    # ir_datasets (the test extra installs it) adds its irds.* ids, listed from a JSON index.
    bundled = [line for line in lines[:-1] if not line.startswith("irds.")]
    assert len(bundled) == len(FILES) and json.loads(lines[-1]) == [False, False]
