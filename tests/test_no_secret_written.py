"""Everything dmconf writes, scanned for the secrets it was given: the data folder, the logs at
debug level (dmconf's and urllib3's), the lock file, a real Hydra app's outputs, an
experimaestro configuration. Credentials come from a settings rule (basic), a header token, a
netrc line, and one of them meets a redirect to another port."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from httpserver import Fault, FileServer, Running
from hydraapps import write_app
from resources import sha256, write_settings

PASSWORD = "pw-7c1e9a55d0b3-never-written"
TOKEN = "tk-51d2be9f0e77-never-written"
NETRC_PASSWORD = "nr-a8b6f04c3d29-never-written"
SECRETS = [PASSWORD, TOKEN, NETRC_PASSWORD,
           *(base64.b64encode(f"me:{p}".encode()).decode() for p in (PASSWORD, NETRC_PASSWORD))]
FILES = {name: os.urandom(20_000) for name in ("a", "b", "c")}

APP = '''
import hydra
import dmconf

@hydra.main(version_base="1.3", config_path=None, config_name=None)
def main(cfg):
    print("LOADED", dmconf.load(cfg.dataset).a.path)

main()
'''


@pytest.fixture
def other() -> Iterator[FileServer]:
    running = Running()
    yield running.state
    running.stop()


def test_no_secret_in_anything_dmconf_writes(env, server, other, tmp_path, monkeypatch):
    base = f"http://127.0.0.1:{server.port}/"
    write_settings(env, credentials={
        "basic": {"match": base + "basic/", "username": "me", "password_env": "LAB_PASSWORD"},
        "keyed": {"match": base + "keyed/", "token_env": "LAB_TOKEN", "header": "X-Api-Key"},
    })
    netrc = tmp_path / "secrets" / "netrc"
    netrc.parent.mkdir()
    netrc.write_text(f"machine 127.0.0.1 login me password {NETRC_PASSWORD}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("LAB_PASSWORD", PASSWORD)
    monkeypatch.setenv("LAB_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    server.files["basic/a.bin"] = FILES["a"]
    server.faults["basic/a.bin"] = Fault(require={"Authorization": "Basic " + SECRETS[3]})
    server.files["keyed/b.bin"] = FILES["b"]  # redirected to the other port, anonymous there
    server.faults["keyed/b.bin"] = Fault(require={"X-Api-Key": TOKEN},
                                         redirect=other.url("b.bin"))
    other.files["b.bin"] = FILES["b"]
    other.files["c.bin"] = FILES["c"]  # the netrc line is for the host: any port
    other.faults["c.bin"] = Fault(require={"Authorization": "Basic " + SECRETS[4]})
    resources = {"a": server.url("basic/a.bin"), "b": server.url("keyed/b.bin"),
                 "c": other.url("c.bin")}
    env.define("test.secret", yaml.safe_dump({
        "resources": {k: {"url": u, "sha256": sha256(FILES[k])} for k, u in resources.items()},
        "type": "generic", "data": {k: {"type": "file", "path": k} for k in FILES},
    }))

    app = write_app(tmp_path / "app", {"app.py": APP})
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_")}
    run = subprocess.run(
        [sys.executable, "app.py", "+dataset=test.secret", "+dmconf=prepare",
         f"hydra.run.dir={tmp_path}/outputs", "hydra.verbose=[dmconf,urllib3]"],
        cwd=app, env=environ, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert "LOADED" in run.stdout
    assert (tmp_path / "outputs" / ".hydra" / "dmconf.lock").is_file()
    assert "X-Api-Key" not in other.requests_for("b.bin")[0].headers
    lock = subprocess.run(
        [str(Path(sys.executable).with_name("dmconf")), "--debug", "lock", "test.secret"],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300, check=False)
    assert lock.returncode == 0, lock.stderr
    assert (tmp_path / "dmconf.lock").is_file()

    pytest.importorskip("experimaestro")
    from dmconf.xpm import Dataset

    config = Dataset.C(id="test.secret")
    params = repr({"id": config.id, "digest": config.digest, "environ": config.environ})

    written = {"stdout": run.stdout + lock.stdout, "stderr": run.stderr + lock.stderr,
               "experimaestro": params}
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.is_symlink() and tmp_path / "secrets" not in path.parents:
            written[str(path)] = path.read_bytes().decode("latin-1")
    assert any(".hydra" in name for name in written) and any(
        "/data/" in name for name in written)
    assert "GET /basic/a.bin" in run.stdout  # the debug logs were on (Hydra logs to stdout)
    assert "GET /basic/a.bin" in (tmp_path / "outputs" / "app.log").read_text()
    leaks = [(name, secret) for name, text in written.items() for secret in SECRETS
             if secret in text]
    assert leaks == []
