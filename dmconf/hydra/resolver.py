"""The ``${dmconf:...}`` resolver: paths of prepared datasets, for configs that hand paths on.

``${dmconf:com.lecun.mnist}`` is the prepared dataset's folder and
``${dmconf:com.lecun.mnist,train.images}`` the path of one item of its typed object. Both are
strings, so ``--cfg job --resolve`` can print them. The path is known before the data is there:
printing a config (``--cfg``, ``--help``) downloads nothing, while a job, or a config composed
outside Hydra's command line, prepares the dataset on first use.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["RESOLVER", "dataset_path", "register_resolver"]

RESOLVER = "dmconf"


def dataset_path(dataset_id: Any, item: Any = None) -> str:
    """The folder of a prepared dataset, or the path of one item of it (``train.images``)."""
    from dmconf.preparation import build_object, prepare, resolve_definition
    from dmconf.settings import load_settings

    dataset_id = str(dataset_id)
    settings = load_settings()
    definition = resolve_definition(dataset_id, settings=settings)
    folder = settings.dataset_folder(definition)  # the one place the folder is computed
    if not _printing_config():
        prepare(definition, settings=settings)
    if item is None:
        return str(folder)
    return str(_item_path(build_object(definition, folder), dataset_id, str(item)))


def _printing_config() -> bool:
    """Whether Hydra composed this config to print it (``--cfg``, ``--help``), not to run it.

    Hydra sets its config for both, but only a job has an output folder.
    """
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    if not HydraConfig.initialized():
        return False
    return OmegaConf.is_missing(HydraConfig.get().runtime, "output_dir")


def _item_path(value: Any, dataset_id: str, item: str) -> Path:
    from dmconf.errors import DataTypeError, DefinitionError

    walked: list[str] = []
    for part in item.split("."):
        items = _items(value)
        if part not in items:
            where = ".".join(walked) or "the dataset"
            raise DefinitionError(
                f"${{dmconf:{dataset_id},{item}}}: {where} has no item {part!r}; its items are "
                f"{', '.join(items) or 'none'}",
                dataset=dataset_id,
                field=item,
            )
        value = getattr(value, part)
        walked.append(part)
    path = getattr(value, "path", None)
    if not isinstance(path, Path):
        raise DataTypeError(
            f"${{dmconf:{dataset_id},{item}}}: {item} is a {type(value).__name__}, which has no "
            f"path; name a file or folder item (its items are {', '.join(_items(value))})",
            dataset=dataset_id,
            field=item,
        )
    return path


def _items(value: Any) -> list[str]:
    """The fields of a data object that hold something (its ``id`` aside)."""
    names = [
        *getattr(type(value), "model_fields", {}),
        *(getattr(value, "model_extra", None) or {}),
    ]
    return [n for n in names if n != "id" and getattr(value, n, None) is not None]


def register_resolver() -> None:
    """Make ``${dmconf:...}`` known to OmegaConf; does nothing if it already is.

    Hydra apps need not call it: dmconf's Hydra plugin does when Hydra scans its plugins.
    """
    from omegaconf import OmegaConf

    if OmegaConf.has_resolver(RESOLVER):
        return
    if _omegaconf_version() >= (2, 4):
        # 2.4 names it register_resolver (register_new_resolver warns); 2.3's register_resolver
        # is the older, different API. The version tells them apart, hasattr cannot.
        OmegaConf.register_resolver(RESOLVER, dataset_path)
    else:
        OmegaConf.register_new_resolver(RESOLVER, dataset_path)


def _omegaconf_version() -> tuple[int, int]:
    import omegaconf

    found = re.match(r"(\d+)\.(\d+)", omegaconf.__version__)
    return (int(found[1]), int(found[2])) if found else (0, 0)
