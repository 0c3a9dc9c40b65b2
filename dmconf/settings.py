"""Settings: where data lives, which catalogues to read, how to reach the network.

Environment beats the settings file, the file beats defaults. Settings are passed explicitly
(``prepare(id, settings=...)``); :func:`load_settings` builds the default one from the
environment each time it is called, so tests and jobs that change the environment see it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dmconf.credentials.rules import CredentialRule
from dmconf.errors import SettingsError, describe_validation
from dmconf.settings_sources import (
    DEFAULT_HYDRA_GROUP,
    ENV_CATALOG,
    ENV_DATA,
    ENV_HYDRA_GROUP,
    ENV_OFFLINE,
    ENV_SETTINGS,
    hydra_group,
    read_settings_file,
    settings_file,
)

if TYPE_CHECKING:
    from dmconf.definition import DatasetDefinition

__all__ = ["RemoteSettings", "Settings", "load_settings", "settings_file", "update_settings_file"]


def _default_data() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("dmconf", appauthor=False))


class RemoteSettings(BaseModel):
    """A named remote: where it is, whether anyone may read it, and its backend's options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="a folder, ssh://user@host/path, s3://bucket/prefix, https://")
    public: bool = Field(
        default=False, description="anyone may read it: datasets whose licence does not allow "
        "redistribution are not pushed to it without --force"
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="passed to the fsspec backend (endpoint_url, port...)"
    )

    @field_validator("url", mode="after")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        from dmconf.remote import kind_of

        kind_of(value)
        return value


class Settings(BaseModel):
    """Everything dmconf needs to know about this machine.

    The settings file (YAML) holds the same keys, for example::

        data: /scratch/shared/dmconf
        catalogs: [~/my-datasets]
        mirrors: {"http://yann.lecun.com/exdb/mnist/": "http://mirror.lab/mnist/"}
        retries: 5
        remote: {lab: {url: "ssh://me@lab.example/srv/dmconf"}}
        remotes: [lab]  # prepare tries these before the original URLs

    ``data`` may be a list of stores (a lab's read-only store, then a personal one): the
    first writable one is ``data`` and receives downloads, the ones before it are read from
    when they hold a dataset prepared (``read_only``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: Path = Field(default_factory=_default_data, description="where prepared datasets live")
    read_only: tuple[Path, ...] = Field(
        default=(), description="stores before data in the list: read, never written")
    shared: bool = Field(
        default=False, description="the store is a group's: setgid folders, group-writable files")
    lock: Literal["auto", "flock", "soft", "lease"] = Field(
        default="auto", description="lock kind: flock, soft (O_EXCL marker), lease (heartbeat)")
    lock_timeout: float | None = Field(
        default=None, ge=0, allow_inf_nan=False,
        description="seconds a job waits for another's lock before preparing on its own")
    lock_lease: float = Field(
        default=60.0, gt=0, allow_inf_nan=False,
        description="seconds without a heartbeat before a lease is taken over")
    catalogs: tuple[Path, ...] = Field(
        default=(), description="extra catalogue roots, searched before the bundled one"
    )
    offline: bool = Field(default=False, description="never open a network connection")
    mirrors: dict[str, str] = Field(
        default_factory=dict, description="URL prefix rewrites, applied to every URL before use"
    )
    retries: int = Field(default=5, ge=0, description="attempts per URL after the first")
    backoff: float = Field(
        default=1.0, ge=0, allow_inf_nan=False, description="first retry delay in seconds")
    backoff_max: float = Field(
        default=60.0, ge=0, allow_inf_nan=False, description="longest retry delay")
    connect_timeout: float = Field(
        default=10.0, gt=0, allow_inf_nan=False, description="seconds to connect")
    read_timeout: float = Field(
        default=60.0, gt=0, allow_inf_nan=False, description="seconds without a byte")
    parallel: int = Field(default=4, ge=1, description="resources of one dataset at once")
    accepted: tuple[str, ...] = Field(
        default=(), description="ids whose data-use terms you accept (also: dmconf accept ID)"
    )
    download_max_size: int = Field(
        default=1 << 40, gt=0,
        description="bytes at most of a download whose definition gives no size (1 TiB)")
    unpack_max_size: int = Field(
        default=4096 << 30, gt=0, description="bytes at most that one resource unpacks to")
    unpack_max_ratio: float = Field(
        default=1000.0, gt=1, allow_inf_nan=False,
        description="unpacked bytes per downloaded byte, at most (beyond 1 GiB unpacked)")
    unpack_max_members: int = Field(
        default=20_000_000, gt=0, description="members at most of one archive")
    progress: bool | None = Field(
        default=None, description="progress bars: None shows them when stderr is a terminal"
    )
    hydra_group: str | None = Field(
        default=DEFAULT_HYDRA_GROUP,
        description="the Hydra config group listing the catalogue; empty or off: no group",
    )
    remote: dict[str, RemoteSettings] = Field(
        default_factory=dict, description="named remotes (`dmconf remote add NAME URL`)"
    )
    remotes: tuple[str, ...] = Field(
        default=(), description="names of remotes that prepare tries, in order, before the URLs"
    )
    credentials: dict[str, CredentialRule] = Field(
        default_factory=dict,
        description="per-URL-prefix rules naming where a secret is kept (dmconf.credentials)",
    )

    @model_validator(mode="after")
    def _remotes_are_named(self) -> Settings:
        unknown = [name for name in self.remotes if name not in self.remote]
        if unknown:
            raise ValueError(
                f"remotes: {', '.join(unknown)} not declared under remote: (`dmconf remote add`)"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _split_stores(cls, values: Any) -> Any:
        """``data: [a, b, c]``: the first writable store is ``data``, those before are read-only."""
        stores = values.get("data") if isinstance(values, dict) else None
        if not isinstance(stores, list | tuple):
            return values
        from dmconf.store.stores import first_writable

        if not stores:
            raise ValueError("data: an empty list; give at least one folder")
        paths = [Path(str(p)).expanduser().absolute() for p in stores]
        index = first_writable(paths)
        return {**values, "data": paths[index], "read_only": tuple(paths[:index])}

    @field_validator("read_only", mode="after")
    @classmethod
    def _expand_read_only(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        return tuple(p.expanduser().absolute() for p in value)

    @field_validator("data", mode="after")
    @classmethod
    def _expand_data(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @field_validator("catalogs", mode="after")
    @classmethod
    def _expand_catalogs(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        return tuple(p.expanduser().absolute() for p in value)

    @field_validator("hydra_group", mode="before")
    @classmethod
    def _check_hydra_group(cls, value: Any) -> str | None:
        return hydra_group(value)

    def dataset_folder(self, definition: DatasetDefinition) -> Path:
        """The folder of a dataset's files: ``<data>/<id>/<content-key>`` (see
        :mod:`dmconf.store.layout`, the one place that decides it)."""
        from dmconf.store.layout import dataset_folder

        return dataset_folder(self, definition)


def load_settings(*, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, then the settings file, then DMCONF_* variables, then overrides.

    ``environ`` replaces ``os.environ`` as the source of DMCONF_* variables (an experimaestro
    job passes the ones its driver recorded).
    """
    env = os.environ if environ is None else environ
    path = settings_file(env)
    values = read_settings_file(path, explicit=bool(env.get(ENV_SETTINGS)))
    source = f"settings file {path}" if values else "settings"
    if env.get(ENV_DATA):
        stores = [p for p in env[ENV_DATA].split(os.pathsep) if p]
        values["data"] = stores if len(stores) > 1 else env[ENV_DATA]
        source += f" / {ENV_DATA}"
    if ENV_HYDRA_GROUP in env:
        values["hydra_group"] = env[ENV_HYDRA_GROUP]
        source += f" / {ENV_HYDRA_GROUP}"
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


def update_settings_file(change: Callable[[dict[str, Any]], None]) -> Path:
    """Apply ``change`` to the settings file's mapping, check the result, write it atomically.

    The file is rewritten as plain YAML (comments are not kept). Returns its path.
    """
    import yaml

    path = settings_file()
    if (path.exists() and not path.is_file()) or path.is_symlink():
        raise SettingsError(
            f"settings file {path} is not a regular file, so dmconf will not rewrite it; set "
            f"{ENV_SETTINGS} to a YAML file (it is created if missing)"
        )
    values = read_settings_file(path, explicit=False)
    change(values)
    try:
        Settings(**values)
    except ValidationError as exc:
        raise SettingsError(f"settings file {path}: {describe_validation(exc.errors())}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    os.replace(tmp, path)
    return path
