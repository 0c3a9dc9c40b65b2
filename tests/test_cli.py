"""The dmconf CLI: results on stdout, logs on stderr, errors on one line with a non-zero exit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import MNIST_ID
from httpserver import Fault

from dmconf.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_prints_ids_one_per_line(env, capsys):
    code, out, _ = run(capsys, "search", "mnist")
    assert code == 0
    assert "com.lecun.mnist" in out.splitlines()
    code, out, _ = run(capsys, "search", "--tag", "image", "--json")
    rows = json.loads(out)
    assert "com.lecun.mnist" in [r["id"] for r in rows]
    assert all("tags" in r and "name" in r for r in rows)


def test_search_prints_fields_yaml_reads_as_dates_or_numbers_as_text(env, capsys):
    """Search reads fields without validating them: a YAML date or number is printed, not a
    traceback (json cannot encode a date)."""
    env.define("test.dated", """\
        name: 2020-01-02
        description: zqxdated
        license: 1.0
        tasks: 2021-03-04
        resources: {f: {url: "http://127.0.0.1:9/f", sha256: "%s"}}
        type: file
        data: {path: f}
        """ % ("0" * 64))
    code, out, _ = run(capsys, "search", "--json", "zqxdated")
    assert code == 0
    [row] = json.loads(out)
    assert (row["id"], row["name"], row["license"]) == ("test.dated", "2020-01-02", 1.0)
    code, out, _ = run(capsys, "search", "--long", "zqxdated")
    assert code == 0
    assert out.split()[0] == "test.dated" and "2021-03-04" in out and "1.0" in out


def test_list_and_info(env, capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "com.lecun.mnist" in out.splitlines()
    code, out, _ = run(capsys, "info", "com.lecun.mnist")
    assert code == 0
    for text in ("MNIST", "handwritten digits",
                 "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", "9912422",
                 "dataset=com.lecun.mnist", "prepared:  no", "image-classification",
                 "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"):
        assert text in out, text
    code, out, _ = run(capsys, "info", "com.lecun.mnist", "--json")
    definition = json.loads(out)
    assert definition["id"] == "com.lecun.mnist"
    assert definition["resources"]["test_labels"]["size"] == 4542


def test_prepare_prints_json_and_logs_on_stderr(mnist_env, server, capsys):
    code, out, err = run(capsys, "prepare", MNIST_ID)
    assert code == 0
    dumped = json.loads(out)
    assert dumped["id"] == MNIST_ID
    assert os.path.isabs(dumped["train"]["images"]["path"])
    assert "downloading" in err and MNIST_ID in err
    code, out, _ = run(capsys, "info", MNIST_ID)
    assert "prepared:  yes" in out


def test_unknown_id_is_one_line_with_suggestions(env, capsys):
    code, out, err = run(capsys, "info", "com.lecun.mnits")
    assert code == 1 and out == ""
    assert err == (
        "dmconf: error: unknown dataset 'com.lecun.mnits'; did you mean com.lecun.mnist?\n"
    )


def test_checksum_mismatch_is_one_line(mnist_env, server, capsys):
    server.faults["mnist/test_labels.gz"] = Fault(body=b"<html>404</html>")
    code, out, err = run(capsys, "-q", "prepare", MNIST_ID)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dmconf: error: test.mnist: checksum mismatch")
    assert "Traceback" not in err


def test_debug_shows_the_traceback(env):
    from dmconf.errors import DatasetNotFound

    with pytest.raises(DatasetNotFound):
        main(["--debug", "info", "nope.nothing"])


def test_bad_definition_is_one_line(env, capsys):
    path = env.define("org.example.bad", "type: file\nresources: {x: {url: nowhere}}\n")
    code, _, err = run(capsys, "prepare", "org.example.bad")
    assert code == 1
    assert err.count("\n") == 1 and str(path) in err and "resources.x.url" in err


def test_schema(capsys):
    code, out, _ = run(capsys, "schema")
    assert "resources" in json.loads(out)["properties"]
    code, out, _ = run(capsys, "schema", "image-classification")
    assert json.loads(out)["title"] == "ImageClassification"
    code, _, err = run(capsys, "schema", "nonsense")
    assert code == 1 and "unknown type 'nonsense'" in err


def test_the_installed_entry_point_runs_as_a_user_runs_it(mnist_env, server):
    """One real subprocess of the console script the package installs."""
    exe = shutil.which("dmconf", path=os.path.dirname(sys.executable))
    assert exe, "the dmconf console script is not installed next to this python"
    done = subprocess.run([exe, "prepare", MNIST_ID], capture_output=True, text=True,
                          timeout=120, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == MNIST_ID
    failed = subprocess.run([exe, "prepare", "no.such.id"], capture_output=True, text=True,
                            timeout=60, env=os.environ.copy())
    assert failed.returncode == 1
    assert failed.stderr.startswith("dmconf: error: unknown dataset 'no.such.id'")
    assert "Traceback" not in failed.stderr


def test_the_parser_of_one_command_knows_every_command():
    """`dmconf X` builds X's sub-parser only (start-up time); the list of commands, which
    decides when the whole parser is built instead, names every command the whole one has."""
    from dmconf.cli import _build

    parser, everything = _build(None)
    assert set(everything) == set(parser._subparsers._group_actions[0].choices)
    for command in everything:
        one, names = _build(command)
        assert names == everything
        assert list(one._subparsers._group_actions[0].choices) == [command]
