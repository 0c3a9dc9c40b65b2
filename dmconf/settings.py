"""Settings: where data lives, which catalogues to read, how to reach the network.

Environment beats the settings file, the file beats defaults. Settings are passed explicitly
(``prepare(id, settings=...)``); :func:`load_settings` builds the default one from the
environment each time it is called, so tests and jobs that change the environment see it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dmconf.errors import SettingsError, describe_validation

__all__ = ["Settings", "load_settings", "settings_file"]

ENV_DATA = "DMCONF_DATA"
ENV_CATALOG = "DMCONF_CATALOG"
ENV_OFFLINE = "DMCONF_OFFLINE"
ENV_SETTINGS = "DMCONF_SETTINGS"


def _default_data() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("dmconf", appauthor=False))


class Settings(BaseModel):
    """Everything dmconf needs to know about this machine.

    The settings file (YAML) holds the same keys, for example::

        data: /scratch/shared/dmconf
        catalogs: [~/my-datasets]
        mirrors: {"http://yann.lecun.com/exdb/mnist/": "http://mirror.lab/mnist/"}
        retries: 5
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: Path = Field(default_factory=_default_data, description="where prepared datasets live")
    catalogs: tuple[Path, ...] = Field(
        default=(), description="extra catalogue roots, searched before the bundled one"
    )
    offline: bool = Field(default=False, description="never open a network connection")
    mirrors: dict[str, str] = Field(
        default_factory=dict, description="URL prefix rewrites, applied to every URL before use"
    )
    retries: int = Field(default=5, ge=0, description="attempts per URL after the first")
    backoff: float = Field(default=1.0, ge=0, description="first retry delay in seconds")
    backoff_max: float = Field(default=60.0, ge=0, description="longest retry delay")
    connect_timeout: float = Field(default=10.0, gt=0, description="seconds to connect")
    read_timeout: float = Field(default=60.0, gt=0, description="seconds without a byte")
    parallel: int = Field(default=4, ge=1, description="resources of one dataset at once")
    accepted: tuple[str, ...] = Field(
        default=(), description="ids whose data-use terms you accept (also: dmconf accept ID)"
    )
    progress: bool | None = Field(
        default=None, description="progress bars: None shows them when stderr is a terminal"
    )

    @field_validator("data", mode="after")
    @classmethod
    def _expand_data(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @field_validator("catalogs", mode="after")
    @classmethod
    def _expand_catalogs(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        return tuple(p.expanduser().absolute() for p in value)

    def dataset_folder(self, dataset_id: str) -> Path:
        """The folder of a dataset: ``<data>/com/lecun/mnist``."""
        return self.data.joinpath(*dataset_id.split("."))


def settings_file(environ: Mapping[str, str] | None = None) -> Path:
    """The settings file in use: ``$DMCONF_SETTINGS`` or the user config folder's."""
    explicit = (os.environ if environ is None else environ).get(ENV_SETTINGS)
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("dmconf", appauthor=False)) / "settings.yaml"


def _read_file(path: Path, explicit: bool) -> dict[str, Any]:
    # Any readable non-folder will do: DMCONF_SETTINGS=/dev/null means "no settings file".
    if not path.exists() or path.is_dir():
        if explicit:
            raise SettingsError(
                f"{ENV_SETTINGS} names {path}, which is not a file; create it or unset the variable"
            )
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"settings file {path}: cannot be read: {exc.strerror}") from exc
    if not text.strip():
        return {}  # an empty file (or /dev/null) needs no YAML parser
    import yaml

    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SettingsError(f"settings file {path}: cannot be read as YAML: {exc}") from exc
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise SettingsError(f"settings file {path}: expected a mapping of keys, got {content!r}")
    return content


def load_settings(*, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, then the settings file, then DMCONF_* variables, then overrides.

    ``environ`` replaces ``os.environ`` as the source of DMCONF_* variables (an experimaestro
    job passes the ones its driver recorded).
    """
    env = os.environ if environ is None else environ
    path = settings_file(env)
    values = _read_file(path, explicit=bool(env.get(ENV_SETTINGS)))
    source = f"settings file {path}" if values else "settings"
    if env.get(ENV_DATA):
        values["data"] = env[ENV_DATA]
        source += f" / {ENV_DATA}"
    if env.get(ENV_CATALOG):
        env_roots = [p for p in env[ENV_CATALOG].split(os.pathsep) if p]
        values["catalogs"] = [*env_roots, *values.get("catalogs", [])]
    offline = env.get(ENV_OFFLINE)
    if offline is not None and offline.strip() != "":
        flag = offline.strip().lower()
        if flag not in {"0", "1", "true", "false", "yes", "no", "on", "off"}:
            raise SettingsError(f"{ENV_OFFLINE}={offline!r}: use 1 (offline) or 0 (online)")
        values["offline"] = flag in {"1", "true", "yes", "on"}
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(f"{source}: {describe_validation(exc.errors())}") from None
