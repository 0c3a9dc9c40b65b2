"""Browsing the catalogue (search filters, info with sizes, licence, splits and citation) and
`dmconf check --network` against the loopback server."""

from __future__ import annotations

import yaml
from httpserver import Fault
from resources import sha256

from dmconf.cli import main

CITATION = "@misc{demo2024,\n  title = {Demo},\n  year = {2024}\n}"


def _define(env, server, dataset_id, *, license_="MIT", size_delta=0, mirror=None):
    data = b"x" * 3000
    server.files[f"{dataset_id}/a.bin"] = data
    resource = {"url": server.url(f"{dataset_id}/a.bin"), "sha256": sha256(data),
                "size": len(data) + size_delta}
    if mirror:
        resource["mirrors"] = [server.url(mirror)]
    env.define(dataset_id, yaml.safe_dump({
        "name": f"Demo {dataset_id}", "homepage": "https://example.org/", "license": license_,
        "citation": CITATION, "tags": ["text"], "tasks": ["text-classification"],
        "splits": {"train": 1200, "test": 300}, "resources": {"a": resource},
        "type": "file", "data": {"path": "a"},
    }, sort_keys=False))


def test_search_filters_by_licence_and_shows_a_long_table(env, server, capsys):
    _define(env, server, "test.mit")
    _define(env, server, "test.cc", license_="CC-BY-4.0")
    assert main(["search", "demo", "--license", "cc-by-4.0"]) == 0
    assert capsys.readouterr().out.split() == ["test.cc"]
    assert main(["search", "demo", "--long", "--task", "text-classification"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 2 and "2.9 KiB" in rows[1] and "MIT" in rows[1]
    assert "text-classification" in rows[1] and "[train 1,200, test 300]" in rows[1]


def test_info_shows_licence_splits_sizes_and_citation(env, server, capsys):
    _define(env, server, "test.mit")
    assert main(["info", "test.mit"]) == 0
    out = capsys.readouterr().out
    assert "license:   MIT" in out and "splits:    train 1,200, test 300" in out
    assert "download:  2.9 KiB (3000 B)" in out and "  @misc{demo2024,\n    title" in out
    assert main(["info", "--bibtex", "test.mit"]) == 0
    assert capsys.readouterr().out == CITATION + "\n"


def test_info_bibtex_without_a_citation_is_a_clear_error(env, capsys):
    env.define("test.bare", "type: file\nresources: {}\ndata: {path: a}\n")
    assert main(["info", "--bibtex", "test.bare"]) == 1
    assert "test.bare" in capsys.readouterr().err


def test_check_network_reports_each_url_and_fails_on_any_problem(env, server, capsys):
    _define(env, server, "test.good", mirror="test.good/a.bin")
    assert main(["check", "--network", "test.good"]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 URLs answer with the pinned size" in out  # a mirror equal to url: once
    _define(env, server, "test.changed", size_delta=5, mirror="gone.bin")
    # HEAD refused: a one-byte range GET gives the size instead
    server.faults["test.changed/a.bin"] = Fault(status=405, times=1)
    assert main(["check", "--network", "test.good", "test.changed"]) == 1
    captured = capsys.readouterr()
    assert "size 3000, pinned 3005: the file changed" in captured.out
    assert "FAIL HTTP 404" in captured.out and "gone.bin" in captured.out
    assert "2 URL(s) failed the check" in captured.err
    methods = {r.method for r in server.requests_for("test.good/a.bin")}
    assert methods == {"HEAD"}  # a server that gives the length costs one HEAD, no download


def test_check_needs_the_network_flag(env, capsys):
    try:
        main(["check"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "--network" in capsys.readouterr().err
