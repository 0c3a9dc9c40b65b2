"""Settings: environment beats the file, the file beats defaults; bad values are named."""

from __future__ import annotations

import os

import pytest

import dmconf
from dmconf.errors import SettingsError
from dmconf.settings import load_settings


def test_defaults_file_then_environment(env, monkeypatch, tmp_path):
    env.settings.write_text(
        f"data: {tmp_path / 'from-file'}\ncatalogs: [{tmp_path / 'cat'}]\nretries: 2\n"
        "mirrors: {'http://a/': 'http://b/'}\n"
    )
    monkeypatch.delenv("DMCONF_DATA")
    settings = load_settings()
    assert settings.data == tmp_path / "from-file"
    assert settings.retries == 2 and settings.parallel == 4
    assert settings.mirrors == {"http://a/": "http://b/"}
    assert settings.catalogs == (env.catalog, tmp_path / "cat")  # DMCONF_CATALOG first
    monkeypatch.setenv("DMCONF_DATA", str(tmp_path / "from-env"))
    assert load_settings().data == tmp_path / "from-env"
    mnist = dmconf.find("com.lecun.mnist")
    folder = settings.dataset_folder(mnist)
    assert folder.parent == tmp_path / "from-file/com.lecun.mnist" and len(folder.name) == 16


@pytest.mark.parametrize(
    ("content", "says"),
    [("retries: many\n", "field retries"), ("colour: blue\n", "field colour: unknown field"),
     ("[1, 2]\n", "expected a mapping"), ("data: [unclosed\n", "cannot be read as YAML")],
)
def test_bad_settings_files_are_named(env, content, says):
    env.settings.write_text(content)
    with pytest.raises(SettingsError, match=says) as info:
        load_settings()
    assert str(env.settings) in str(info.value)


def test_offline_flag_values(env, monkeypatch):
    for value, expected in (("1", True), ("true", True), ("0", False), ("", False)):
        monkeypatch.setenv("DMCONF_OFFLINE", value)
        assert load_settings().offline is expected
    monkeypatch.setenv("DMCONF_OFFLINE", "maybe")
    with pytest.raises(SettingsError, match="DMCONF_OFFLINE"):
        load_settings()


def test_a_missing_explicit_settings_file_is_an_error(env, monkeypatch, tmp_path):
    monkeypatch.setenv("DMCONF_SETTINGS", str(tmp_path / "nope.yaml"))
    with pytest.raises(SettingsError, match="not a file"):
        load_settings()
    monkeypatch.setenv("DMCONF_SETTINGS", str(tmp_path))
    with pytest.raises(SettingsError, match="not a file"):
        load_settings()


def test_dev_null_means_no_settings_file(env, monkeypatch):
    monkeypatch.setenv("DMCONF_SETTINGS", "/dev/null")
    assert load_settings().retries == 5


def test_relative_paths_of_the_environment_are_anchored_once(tmp_path):
    from dmconf.settings_sources import anchor_paths

    environ = {
        "DMCONF_DATA": "data",
        "DMCONF_CATALOG": f"cat{os.pathsep}/abs/cat{os.pathsep}./more/../other",
        "DMCONF_SETTINGS": "~/settings.yaml",
        "DMCONF_CACHE": "",
        "DMCONF_OFFLINE": "1",
    }
    anchor_paths(environ, str(tmp_path))
    assert environ == {
        "DMCONF_DATA": str(tmp_path / "data"),
        "DMCONF_CATALOG": os.pathsep.join(
            [str(tmp_path / "cat"), "/abs/cat", str(tmp_path / "other")]
        ),
        "DMCONF_SETTINGS": "~/settings.yaml",  # the same from anywhere: the settings expand it
        "DMCONF_CACHE": "",
        "DMCONF_OFFLINE": "1",
    }
    before = dict(environ)
    anchor_paths(environ, "/elsewhere")  # already absolute: a second call changes nothing
    assert environ == before


@pytest.mark.parametrize(
    ("text", "group"), [("", "dataset"), ("hydra_group: data\n", "data"),
                        ("hydra_group: off\n", None), ("hydra_group: ''\n", None)]
)
def test_the_hydra_group_is_a_setting(env, text, group):
    env.settings.write_text(text)
    assert load_settings().hydra_group == group


def test_a_hydra_group_hydra_cannot_use_is_named(env, monkeypatch):
    monkeypatch.setenv("DMCONF_HYDRA_GROUP", "data=sets")
    with pytest.raises(SettingsError, match=r"DMCONF_HYDRA_GROUP: field hydra_group: 'data=sets'"):
        load_settings()


@pytest.mark.parametrize("content, says", [
    ("data: []", "data: an empty list"),
    ("lock: fcntl", "lock"),
    ("lock_timeout: -1", "lock_timeout"),
    ("lock_lease: 0", "lock_lease"),
    ("shared: maybe", "shared"),
])
def test_cluster_settings_are_checked(env, monkeypatch, content, says):
    monkeypatch.delenv("DMCONF_DATA")
    env.settings.write_text(content + "\n")
    with pytest.raises(SettingsError, match=says):
        load_settings()


def test_a_list_of_stores_makes_the_first_writable_one_data(env, monkeypatch, tmp_path):
    missing, writable = tmp_path / "not" / "yet", tmp_path / "mine"
    monkeypatch.setenv("DMCONF_DATA", f"{missing}:{writable}")
    settings = load_settings()
    assert settings.data == missing and settings.read_only == ()  # can be created: writable
    monkeypatch.delenv("DMCONF_DATA")
    env.settings.write_text(f"data: [{writable}]\nlock: lease\nlock_timeout: 5\n")
    settings = load_settings()
    assert (settings.data, settings.lock, settings.lock_timeout) == (writable, "lease", 5)
