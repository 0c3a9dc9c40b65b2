"""A dataclass schema of a dataset node, for apps whose root config is a dataclass.

An app with a structured root declares its dataset field with :class:`DatasetConfig` (typed,
checked) or ``Any`` (anything goes), and picks the option from the dataset group as usual::

    @dataclass
    class Config:
        defaults: list[Any] = field(default_factory=lambda: [{"dataset": "com.lecun.mnist"}])
        dataset: DatasetConfig = MISSING

The schema is also in Hydra's ConfigStore as ``dmconf_dataset_schema`` (stored when Hydra
scans its plugins), so an option of the app's own ``conf/dataset/`` can extend it and gets
dmconf's ``_target_`` from it: ``defaults: [/dmconf_dataset_schema@_here_, _self_]``.
Its fields are those of :class:`dmconf.definition.DatasetDefinition`; like any dataclass node,
it is closed (struct mode): ``dataset.foo=1`` fails even with ``+``.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional  # noqa: UP035 (OmegaConf 2.3 reads typing aliases)

from omegaconf import MISSING

from dmconf.hydra.node import TARGET

__all__ = ["SCHEMA_NAME", "DatasetConfig", "ResourceConfig", "store_schema"]

SCHEMA_NAME = "dmconf_dataset_schema"


@dataclass
class ResourceConfig:
    """One resource of a dataset node (:class:`dmconf.resource.Resource`)."""

    url: Optional[str] = None  # noqa: UP045
    mirrors: List[str] = field(default_factory=list)  # noqa: UP006
    manual: Optional[str] = None  # noqa: UP045
    filename: Optional[str] = None  # noqa: UP045
    sha256: Optional[str] = None  # noqa: UP045
    md5: Optional[str] = None  # noqa: UP045
    size: Optional[int] = None  # noqa: UP045
    unpack: str = "none"
    lines: List[Dict[str, Optional[str]]] = field(default_factory=list)  # noqa: UP006,UP045
    unwrap: bool = False
    max_unpacked_size: Optional[int] = None  # noqa: UP045
    max_ratio: Optional[float] = None  # noqa: UP045
    max_members: Optional[int] = None  # noqa: UP045
    revision: Optional[str] = None  # noqa: UP045 (hf:// URLs: the commit)
    build: Optional[Dict[str, Any]] = None  # noqa: UP006,UP045 (built by the plugin's code)


@dataclass
class DatasetConfig:
    """A dataset node: dmconf's ``_target_`` and the fields of a definition."""

    _target_: str = TARGET
    id: str = MISSING
    name: Optional[str] = None  # noqa: UP045
    description: str = ""
    homepage: Optional[str] = None  # noqa: UP045
    license: Optional[str] = None  # noqa: UP045
    citation: Optional[str] = None  # noqa: UP045
    version: Optional[str] = None  # noqa: UP045
    variant: Optional[str] = None  # noqa: UP045
    versions: Dict[str, Any] = field(default_factory=dict)  # noqa: UP006
    variants: Dict[str, Any] = field(default_factory=dict)  # noqa: UP006
    tags: List[str] = field(default_factory=list)  # noqa: UP006
    tasks: List[str] = field(default_factory=list)  # noqa: UP006
    splits: Dict[str, int] = field(default_factory=dict)  # noqa: UP006
    prepared_size: Optional[int] = None  # noqa: UP045
    croissant: Optional[str] = None  # noqa: UP045 (metadata giving resources, type and data)
    terms: Optional[str] = None  # noqa: UP045
    resources: Dict[str, ResourceConfig] = field(default_factory=dict)  # noqa: UP006
    derive: Any = None  # a mapping, checked by dmconf (a typed Optional[Dict] merges null as ???)
    type: Optional[str] = None  # noqa: UP045 (required unless `croissant` gives it)
    data: Dict[str, Any] = field(default_factory=dict)  # noqa: UP006


def store_schema() -> None:
    """Put :class:`DatasetConfig` in Hydra's ConfigStore as ``dmconf_dataset_schema``."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=SCHEMA_NAME, node=DatasetConfig, provider="dmconf")
