"""The bundled step ``link-datasets``: other datasets' folders, under one folder.

datamaestro's ``links("documents", apw=Apw, nyt=Nyt)`` (a collection made of other ones) as a
derived dataset: each input becomes ``<input name>``, a relative symbolic link to the folder of
the input dataset in the same data folder. The targets are never taken from the definition:
only dataset ids are, and dmconf computes their folders; a folder outside the data folder (a
read-only store elsewhere, say) is refused rather than linked, so a link never leads out of it.
The output names its inputs by id (``by_reference``): what they hold is theirs to verify, and
a licensed corpus with no published checksum can still be linked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dmconf.derive.base import step
from dmconf.errors import DataTypeError

__all__ = ["link_datasets"]


@step(version=1, by_reference=True)
def link_datasets(inputs: dict[str, Any], output: Path, params: Any) -> None:
    """Link each input dataset's folder as ``<input name>`` in the output."""
    import dmconf
    from dmconf.settings import load_settings

    settings = load_settings()
    data = os.path.abspath(settings.data)
    for name, value in sorted(inputs.items()):
        dataset_id = getattr(value, "id", None)
        if not isinstance(dataset_id, str):
            raise DataTypeError(
                f"input {name!r}: link-datasets links whole datasets, not parts of one",
                where=name)
        target = os.path.abspath(settings.dataset_folder(dmconf.find(dataset_id)))
        if os.path.commonpath([data, target]) != data:
            raise DataTypeError(
                f"input {name!r}: {dataset_id} lies in {target}, outside the data folder "
                f"{data}; link-datasets only links inside it", where=name)
        os.symlink(os.path.relpath(target, os.path.dirname(os.path.abspath(output / name))),
                   output / name, target_is_directory=True)
