"""Credentials per host: netrc, settings rules, bearer tokens and headers, redirects that must
drop them, and the one-line 401/403 messages, against loopback servers."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest
import yaml
from httpserver import Fault, FileServer, Running
from resources import serve_dataset, write_settings

import dmconf
from dmconf.cli import main
from dmconf.credentials import credential_for
from dmconf.errors import AccessDenied, SettingsError
from dmconf.settings import load_settings

DATA = os.urandom(50_000)
PASSWORD = "s3cr3t-Pa55-for-tests"
TOKEN = "tok-0123456789abcdef-for-tests"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def isolated(env, tmp_path, monkeypatch):
    """No netrc, no Hugging Face token of the machine's user can leak into these tests."""
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "LAB_PASSWORD",
                 "LAB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return env


@pytest.fixture
def other() -> Iterator[FileServer]:
    """A second loopback server: another port of the same host."""
    running = Running()
    yield running.state
    running.stop()


def netrc(tmp_path, monkeypatch, line: str) -> None:
    path = tmp_path / "netrc"
    path.write_text(line + "\n")
    path.chmod(0o600)
    monkeypatch.setenv("NETRC", str(path))


def rule(server: FileServer, **fields: str) -> dict:
    return {"lab": {"match": f"http://127.0.0.1:{server.port}/", **fields}}


def test_basic_auth_from_netrc(isolated, server, tmp_path, monkeypatch) -> None:
    write_settings(isolated)
    name = serve_dataset(isolated, server, "test.locked", DATA)
    server.faults[name] = Fault(require={"Authorization": basic("me", PASSWORD)})
    with pytest.raises(AccessDenied):
        dmconf.prepare("test.locked")
    netrc(tmp_path, monkeypatch, f"machine 127.0.0.1 login me password {PASSWORD}")
    dmconf.prepare("test.locked")
    assert (isolated.folder("test.locked") / "payload").read_bytes() == DATA
    assert server.requests_for(name)[-1].headers["Authorization"] == basic("me", PASSWORD)


def test_basic_auth_from_a_settings_rule(isolated, server, monkeypatch) -> None:
    write_settings(isolated, credentials=rule(server, username="me",
                                              password_env="LAB_PASSWORD"))
    name = serve_dataset(isolated, server, "test.locked", DATA)
    server.faults[name] = Fault(require={"Authorization": basic("me", PASSWORD)})
    monkeypatch.setenv("LAB_PASSWORD", PASSWORD)
    dmconf.prepare("test.locked")
    assert (isolated.folder("test.locked") / "payload").read_bytes() == DATA


def test_a_settings_rule_wins_over_netrc_and_the_longest_prefix_wins(
        isolated, server, tmp_path, monkeypatch) -> None:
    netrc(tmp_path, monkeypatch, "machine 127.0.0.1 login other password other")
    rules = {**rule(server, token_env="LAB_TOKEN"),
             "deeper": {"match": server.url("test.locked/"), "username": "me",
                        "password_env": "LAB_PASSWORD"}}
    write_settings(isolated, credentials=rules)
    monkeypatch.setenv("LAB_TOKEN", TOKEN)
    monkeypatch.setenv("LAB_PASSWORD", PASSWORD)
    settings = load_settings()
    assert credential_for(server.url("test.locked/x"), settings).rule == "settings rule 'deeper'"
    assert credential_for(server.url("elsewhere/x"), settings).rule == "settings rule 'lab'"
    assert credential_for("http://127.0.0.1:1/x", settings).rule.startswith("~/.netrc")
    assert credential_for("https://127.0.0.1/x", settings).rule.startswith("~/.netrc")
    shown = repr(credential_for(server.url("test.locked/x"), settings))
    assert PASSWORD not in shown and "deeper" in shown


def test_a_bearer_token_and_a_header_of_ones_own(isolated, server, monkeypatch) -> None:
    write_settings(isolated, credentials=rule(server, token_env="LAB_TOKEN"))
    monkeypatch.setenv("LAB_TOKEN", TOKEN)
    name = serve_dataset(isolated, server, "test.locked", DATA)
    server.faults[name] = Fault(require={"Authorization": f"Bearer {TOKEN}"})
    dmconf.prepare("test.locked")
    token_file = isolated.settings.with_name("token")
    token_file.write_text(TOKEN + "\n")
    write_settings(isolated, credentials=rule(server, token_file=str(token_file),
                                              header="X-Api-Key"))
    name = serve_dataset(isolated, server, "test.keyed", DATA)
    server.faults[name] = Fault(require={"X-Api-Key": TOKEN})
    dmconf.prepare("test.keyed")
    assert "Authorization" not in server.requests_for(name)[-1].headers


@pytest.mark.parametrize("how", ["netrc", "bearer", "header"])
def test_a_redirect_to_another_port_carries_no_credential(
        isolated, server, other, tmp_path, monkeypatch, how) -> None:
    """requests drops Authorization on a port change, but re-applies netrc by host and keeps
    headers set by hand: dmconf drops every one of them."""
    header = {"netrc": "Authorization", "bearer": "Authorization", "header": "X-Api-Key"}[how]
    if how == "netrc":
        netrc(tmp_path, monkeypatch, f"machine 127.0.0.1 login me password {PASSWORD}")
        write_settings(isolated)
    else:
        monkeypatch.setenv("LAB_TOKEN", TOKEN)
        write_settings(isolated, credentials=rule(server, token_env="LAB_TOKEN", header=header))
    name = serve_dataset(isolated, server, "test.moved", DATA)
    other.files[name] = DATA
    server.faults[name] = Fault(redirect=other.url(name))
    dmconf.prepare("test.moved")
    assert (isolated.folder("test.moved") / "payload").read_bytes() == DATA
    assert header in server.requests_for(name)[0].headers  # sent to the rule's own origin
    (arrived,) = other.requests_for(name)
    assert header not in arrived.headers and "Authorization" not in arrived.headers
    assert PASSWORD not in str(arrived.headers) and TOKEN not in str(arrived.headers)


def test_a_redirect_within_the_origin_keeps_the_credential(isolated, server, monkeypatch):
    monkeypatch.setenv("LAB_TOKEN", TOKEN)
    write_settings(isolated, credentials=rule(server, token_env="LAB_TOKEN"))
    name = serve_dataset(isolated, server, "test.moved", DATA)
    server.files["elsewhere.bin"] = DATA
    server.faults[name] = Fault(redirect=server.url("elsewhere.bin"))
    server.faults["elsewhere.bin"] = Fault(require={"Authorization": f"Bearer {TOKEN}"})
    dmconf.prepare("test.moved")
    assert (isolated.folder("test.moved") / "payload").read_bytes() == DATA


def test_401_without_any_credential_is_one_line_saying_how_to_add_one(
        isolated, server, capsys) -> None:
    write_settings(isolated)
    name = serve_dataset(isolated, server, "test.locked", DATA)
    server.faults[name] = Fault(require={"Authorization": basic("me", PASSWORD)})
    assert main(["prepare", "test.locked"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    host = f"127.0.0.1:{server.port}"
    assert err.startswith(f"dmconf: error: test.locked: resource 'payload': {host} asks for "
                          "credentials (HTTP 401)")
    assert "no credential was sent" in err
    assert f"match: http://{host}/" in err and "machine 127.0.0.1 login" in err
    assert len(server.requests_for(name)) == 1  # a 401 is not retried


def test_401_names_the_rule_whose_variable_is_unset(isolated, server) -> None:
    write_settings(isolated, credentials=rule(server, token_env="LAB_TOKEN"))
    name = serve_dataset(isolated, server, "test.locked", DATA)
    server.faults[name] = Fault(require={"Authorization": f"Bearer {TOKEN}"})
    with pytest.raises(AccessDenied, match=r"credential tried: settings rule 'lab' "
                       r"\(\$LAB_TOKEN is not set\)"):
        dmconf.prepare("test.locked")
    assert "Authorization" not in server.requests_for(name)[0].headers


def test_403_names_the_rule_tried_never_its_value(isolated, server, monkeypatch, capsys):
    monkeypatch.setenv("LAB_TOKEN", "a-wrong-token-value")
    write_settings(isolated, credentials=rule(server, token_env="LAB_TOKEN"))
    name = serve_dataset(isolated, server, "test.locked", DATA)
    server.faults[name] = Fault(require={"Authorization": f"Bearer {TOKEN}"}, refuse=403)
    assert main(["prepare", "test.locked"]) == 1
    err = capsys.readouterr().err
    line = err.strip().splitlines()[-1]
    assert f"127.0.0.1:{server.port} refused access (HTTP 403)" in line
    assert "credential tried: settings rule 'lab';" in line and "lack access" in line
    assert "a-wrong-token-value" not in err


def test_a_secret_in_the_settings_file_is_refused(isolated, server) -> None:
    write_settings(isolated, credentials=rule(server, username="me", password=PASSWORD))
    with pytest.raises(SettingsError, match="password_env: VARIABLE") as caught:
        load_settings()
    assert PASSWORD not in str(caught.value)


def test_the_hugging_face_token_goes_to_the_hub_only(isolated, tmp_path, monkeypatch) -> None:
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "token").write_text(TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    settings = load_settings()
    hub = credential_for("http://127.0.0.1:9/datasets/x/resolve/main/a.bin", settings)
    assert hub is not None and hub.headers == {"Authorization": f"Bearer {TOKEN}"}
    assert credential_for("http://127.0.0.1:10/a.bin", settings) is None


def test_a_password_in_a_definitions_url_is_refused_without_echoing_it(isolated) -> None:
    isolated.define("test.leaky", f"""\
        resources: {{f: {{url: "https://me:{PASSWORD}@data.example.org/f.bin"}}}}
        type: file
        data: {{path: f}}
    """)
    with pytest.raises(dmconf.DefinitionError, match="credentials never go in a definition"
                       ) as caught:
        dmconf.find("test.leaky")
    assert PASSWORD not in str(caught.value)


def test_an_s3_remote_takes_its_keys_from_a_settings_rule(env, server, capsys, monkeypatch,
                                                         request) -> None:
    """moto checks nothing, but botocore refuses to sign without keys: without the rule the
    push fails, with it (and no AWS variable at all) it goes through."""
    from remotes import TREE_ID, define_tree
    from servers import AWS_ENV

    moto = request.getfixturevalue("moto_s3")
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    import s3fs

    bucket = f"dmconf-creds-{os.getpid()}"
    s3fs.S3FileSystem(endpoint_url=moto.endpoint).mkdir(bucket)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    define_tree(env, server)
    assert main(["remote", "add", "lab", f"s3://{bucket}/store", "--option",
                 f"endpoint_url={moto.endpoint}"]) == 0
    assert main(["prepare", TREE_ID]) == 0
    capsys.readouterr()
    assert main(["push", TREE_ID, "-r", "lab"]) == 1
    assert "credentials" in capsys.readouterr().err.lower()
    settings = yaml.safe_load(env.settings.read_text())
    settings["credentials"] = {"bucket": {"match": f"s3://{bucket}/", "username_env": "S3_KEY",
                                          "password_env": "S3_SECRET"}}
    env.settings.write_text(yaml.safe_dump(settings))
    monkeypatch.setenv("S3_KEY", "testing")
    monkeypatch.setenv("S3_SECRET", PASSWORD)
    assert main(["push", TREE_ID, "-r", "lab"]) == 0
    assert PASSWORD not in env.settings.read_text() + capsys.readouterr().err
