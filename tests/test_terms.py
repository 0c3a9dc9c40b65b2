"""Data-use terms in any definition: refused until accepted (per user, non-interactively),
and never a prompt in a Hydra sweep or an experimaestro driver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from hydraapps import gets, write_app
from resources import serve_dataset, write_settings

import dmconf
from dmconf.cli import main
from dmconf.errors import AgreementRequired

DATA = os.urandom(10_000)
TERMS = "Research use only.\n  Do not redistribute."


@pytest.fixture
def terms_env(env, server, tmp_path, monkeypatch):
    """``test.terms`` (text terms) and ``test.terms-url`` (terms published at a URL)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # this user's acceptances
    write_settings(env)
    serve_dataset(env, server, "test.terms", DATA, name="terms/payload.bin")
    text = env.catalog.joinpath("test", "terms.yaml")
    text.write_text(text.read_text() + f"terms: {json.dumps(TERMS)}\n")
    serve_dataset(env, server, "test.terms-url", DATA, name="terms-url/payload.bin")
    url = env.catalog.joinpath("test", "terms-url.yaml")
    url.write_text(url.read_text() + f"terms: {server.url('licence.html')}\n")
    return env


def test_terms_are_refused_then_accepted(terms_env, server, capsys) -> None:
    with pytest.raises(AgreementRequired, match=r"Research use only\. Do not redistribute\. "
                       r"-- to accept them, run `dmconf accept test.terms`"):
        dmconf.prepare("test.terms")
    assert server.log == [] and not terms_env.folder("test.terms").exists()
    assert main(["prepare", "test.terms"]) == 1
    assert "dmconf accept test.terms" in capsys.readouterr().err
    assert main(["accept", "test.terms"]) == 0
    assert "Research use only." in capsys.readouterr().out
    assert dmconf.prepare("test.terms").path.read_bytes() == DATA
    with pytest.raises(AgreementRequired):  # acceptance is per dataset
        dmconf.prepare("test.terms-url")


def test_terms_at_a_url_are_named_never_fetched_and_a_setting_accepts(terms_env, server):
    with pytest.raises(AgreementRequired, match=f"read them at {server.url('licence.html')}"):
        dmconf.prepare("test.terms-url")
    write_settings(terms_env, accepted=["test.terms-url"])  # a cluster: no command to run
    assert dmconf.prepare("test.terms-url").path.read_bytes() == DATA
    assert server.requests_for("licence.html") == []


def test_the_older_agreement_field_still_reads(env) -> None:
    env.define("test.old", "agreement: Cite us.\ntype: file\ndata: {path: x}\n")
    assert dmconf.find("test.old").terms == "Cite us."


APP = '''
import hydra
import dmconf

@hydra.main(version_base="1.3", config_path=None, config_name=None)
def main(cfg):
    print("LOADED", dmconf.load(cfg.dataset).path)

main()
'''


@pytest.mark.parametrize("prepare", [True, False], ids=["driver-prepares", "jobs-load"])
def test_a_hydra_sweep_fails_at_once_naming_the_command(terms_env, server, tmp_path, prepare):
    """stdin stays open and silent: a prompt would hang until the timeout."""
    app = write_app(tmp_path / "app", {"app.py": APP})
    args = ["-m", "+dataset=test.terms,test.terms", f"hydra.sweep.dir={tmp_path}/sweep"]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_")}
    started = time.monotonic()
    with subprocess.Popen([sys.executable, "app.py", *args, *(["+dmconf=prepare"] * prepare)],
                          cwd=app, env=environ, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        try:
            out, err = proc.communicate(timeout=120)  # communicate closes stdin only at the end
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail("the sweep waited for an answer")
    assert proc.returncode != 0 and "LOADED" not in out
    assert "dmconf accept test.terms" in err
    assert gets(server, "terms/payload.bin") == 0
    assert time.monotonic() - started < 120


def test_an_experimaestro_configuration_fails_in_the_driver(terms_env) -> None:
    pytest.importorskip("experimaestro")
    from dmconf.xpm import Dataset

    with pytest.raises(AgreementRequired, match=r"dmconf accept test\.terms"):
        Dataset.C(id="test.terms")
    assert main(["accept", "test.terms"]) == 0
    assert Dataset.C(id="test.terms").load().path.read_bytes() == DATA
