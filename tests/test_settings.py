"""Settings: environment beats the file, the file beats defaults; bad values are named."""

from __future__ import annotations

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
