"""Classes 6, 7 and 8: bad input never hangs, never stops the listing of the rest of the
catalogue, and every error is one line naming the real cause; listing never imports `type:`.

Everything runs the installed ``dmconf`` as a user would, with a timeout: a hang fails the test.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from resources import cli, leftovers, serve_dataset, write_settings

from dmconf.catalog import _plugin_roots

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [*{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}]\n"
    for a, b in zip("abcdefgh", "bcdefghi", strict=True)) + "description: *i\n"


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = cli(*args, env=env)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def _one_error(err: str) -> str:
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("dmconf: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0] and "Traceback" not in err, err
    return errors[0]


@pytest.fixture
def hostile_root(env):
    """A catalogue root with one good dataset beside a FIFO, an alias bomb, a non-UTF-8 file,
    a name that is no id and a definition whose type module must never be imported."""
    env.define("test.good", "name: Good\ntype: file\ndata: {path: f}\n"
               "resources: {f: {url: 'http://127.0.0.1:9/f'}}\n")
    os.mkfifo(env.catalog / "test" / "fifo.yaml")
    env.define("test.bomb", BOMB)
    (env.catalog / "test" / "latin.yaml").write_bytes(b"name: caf\xe9\ntype: file\n")
    (env.catalog / "test" / "bad name.yaml").write_text("type: file\n")
    return env


def test_list_and_search_survive_every_hostile_file(hostile_root):
    code, out, err = _run("list")
    assert code == 0 and {"test.good", "test.fifo", "test.bomb"} <= set(out.split())
    assert "bad name.yaml" in err and "test.bad name" not in out
    code, out, err = _run("search", "good")
    # ir_datasets (in the test extra) adds irds.* ids whose descriptions may say "good".
    assert code == 0 and [i for i in out.split() if not i.startswith("irds.")] == ["test.good"]
    for says in ("is a FIFO", "expands to more than", "not UTF-8"):
        assert err.count(says) == 1, err  # reported once each, on stderr
    assert "Traceback" not in err
    code, out, err = _run("search", "--json")
    assert code == 0 and "test.good" in {row["id"] for row in json.loads(out)}
    assert err.count("is a FIFO") == 1 and "Traceback" not in err


@pytest.mark.parametrize("dataset_id, says", [
    ("test.fifo", "it is a FIFO, not a regular file"),
    ("test.bomb", "expands to more than"),
    ("test.latin", "it is not UTF-8 text (byte 0xe9"),
])
def test_info_of_a_hostile_file_is_one_line(hostile_root, dataset_id, says):
    code, _, err = _run("info", dataset_id)
    line = _one_error(err)
    assert code == 1 and says in line and f"{dataset_id.split('.')[1]}.yaml" in line


def test_a_fifo_or_bad_value_in_the_settings_is_one_line(env, tmp_path):
    fifo = tmp_path / "settings.fifo"
    os.mkfifo(fifo)
    for path, says in ((fifo, "it is a FIFO"), (env.settings, "field read_timeout")):
        if path == env.settings:
            env.settings.write_text("read_timeout: .inf\n")
        code, _, err = _run("list", env={"DMCONF_SETTINGS": str(path)})
        assert code == 1 and says in _one_error(err) and str(path) in err


def test_a_broken_catalogue_plugin_is_skipped_and_reported():
    from importlib.metadata import EntryPoint

    class Installed:
        def select(self, *, group: str):
            return [EntryPoint("gone", "no_such_package_at_all.datasets", group),
                    EntryPoint("bad", "dmconf.catalog", group)]

    problems: list[str] = []
    assert list(_plugin_roots(Installed(), problems.append)) == []
    assert len(problems) == 2 and "no_such_package_at_all" in problems[0]


@pytest.fixture
def trap(tmp_path, monkeypatch):
    """A module that leaves a mark when imported, then raises."""
    folder = tmp_path / "modules"
    folder.mkdir()
    mark = tmp_path / "imported"
    (folder / "boom_types.py").write_text(
        f"open({str(mark)!r}, 'w').close()\nraise RuntimeError('boom at import')\n")
    monkeypatch.setenv("PYTHONPATH", str(folder))
    return mark


def test_listing_never_imports_type_and_a_bad_type_is_one_line(env, server, trap):
    write_settings(env)
    for name, type_ in (("boom", "boom_types.Model"), ("dot", ".x"), ("colon", ":")):
        serve_dataset(env, server, f"test.{name}", b"data", type_=type_)
    for args in (["list"], ["search", "boom"], ["info", "test.boom"], ["du"]):
        code, _, err = _run(*args)
        assert code == 0, err
    assert not trap.exists()  # a catalogue root is code you trust, but listing runs none
    for name, says in (("boom", "importing boom_types raised RuntimeError: boom at import"),
                       ("dot", "not a dotted import path"), ("colon", "not a dotted import path")):
        code, _, err = _run("prepare", f"test.{name}")
        assert code == 1 and says in _one_error(err)
        assert server.requests_for(f"test.{name}/payload.bin") == []  # nothing fetched
    assert trap.exists()


def test_hydra_help_survives_a_hostile_catalogue(hostile_root, tmp_path, trap):
    app = tmp_path / "app"
    (app / "conf").mkdir(parents=True)
    (app / "app.py").write_text(
        "import hydra\n@hydra.main(version_base='1.3', config_path='conf', config_name='c')\n"
        "def main(cfg):\n    pass\nmain()\n")
    (app / "conf" / "c.yaml").write_text("x: 1\n")
    hostile_root.define("test.trap", "type: boom_types.Model\ndata: {}\n")
    proc = subprocess.run([sys.executable, "app.py", "--help"], cwd=app, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "test.good" in proc.stdout and "test.trap" in proc.stdout
    assert not trap.exists()


TLS_SERVER = """
import http.server, ssl, sys
httpd = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
print(httpd.server_address[1], flush=True)
while True:
    try:
        httpd.handle_request()
    except Exception:
        pass
"""


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return key, cert


def test_network_errors_name_their_real_cause(env, server, tmp_path):
    """A certificate that does not verify is not 'cannot connect', and is not retried; an
    invalid URL is not retried either."""
    key, cert = _self_signed(tmp_path)
    tls_server = subprocess.Popen([sys.executable, "-c", TLS_SERVER, str(cert), str(key)],
                                  stdout=subprocess.PIPE, text=True)
    try:
        port = int(tls_server.stdout.readline())  # type: ignore[union-attr]
        write_settings(env, retries=3, backoff=5)  # a retry would take seconds: none happens
        env.define("test.tls", yaml.safe_dump({
            "resources": {"f": {"url": f"https://127.0.0.1:{port}/f"}}, "type": "file",
            "data": {"path": "f"}}))
        code, _, err = _run("prepare", "test.tls")
        line = _one_error(err)
        assert code == 1 and "TLS" in line and "certificate" in line.lower()
        assert "cannot connect" not in line and "retrying" not in err
    finally:
        tls_server.kill()
        tls_server.communicate()
    # a URL made invalid by the settings' mirrors: refused at once, named
    write_settings(env, retries=3, backoff=5, mirrors={"http://127.0.0.1": "http://:0"})
    serve_dataset(env, server, "test.badurl", b"data")
    code, _, err = _run("prepare", "test.badurl")
    line = _one_error(err)
    assert code == 1 and "invalid URL" in line and "retrying" not in err


@pytest.mark.parametrize("what, says", [
    ("a name too long", "too long"),
    ("a file in the way", "in the way"),
    ("a NUL in a data path", "holds a NUL byte"),
    ("a URL with no host", "has no host name"),
])
def test_storage_and_definition_errors_name_the_real_cause(env, server, what, says):
    write_settings(env)
    key = "payload"
    if what == "a name too long":
        key = "k" * 300
    serve_dataset(env, server, "test.cause", b"data")
    definition = env.catalog / "test" / "cause.yaml"
    raw = yaml.safe_load(definition.read_text())
    raw["resources"] = {key: raw["resources"]["payload"]}
    raw["data"] = {"path": key}
    if what == "a NUL in a data path":
        raw["data"] = {"path": "pay\0load"}
    if what == "a URL with no host":
        raw["resources"][key]["url"] = "http:///payload"
    definition.write_text(yaml.safe_dump(raw))
    if what == "a file in the way":
        env.data.mkdir()
        (env.data / "test.cause").write_text("a file where the dataset's folder goes")
    code, _, err = _run("prepare", "test.cause")
    line = _one_error(err)
    assert code == 1 and says in line and "Free some space" not in line, line
    if what == "a name too long":
        assert errno.ENAMETOOLONG and leftovers(env.folder("test.cause")) == []

