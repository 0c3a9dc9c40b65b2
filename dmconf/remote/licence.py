"""Which licences allow a dataset to be pushed to a remote that anyone may read.

A remote marked ``public: true`` redistributes what it holds. A dataset is pushed to it only
when its definition's ``license:`` (an SPDX expression) is known to allow redistribution (open
data and open source licences, by SPDX id prefix); a dataset without a licence, or with any
other one (``LicenseRef-research-only``, a custom text), needs ``--force``: the person pushing
has checked.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dmconf.errors import RemoteError

if TYPE_CHECKING:
    from dmconf.remote.base import Remote
    from dmconf.store.manifest import Manifest

__all__ = ["REDISTRIBUTABLE", "check_licence", "redistributable"]

# SPDX id prefixes of licences that allow anyone to redistribute the data as it is.
REDISTRIBUTABLE = (
    "CC0-", "CC-BY-", "CC-PDDC", "PDDL-", "ODC-BY-", "ODBL-", "CDLA-", "OGL-", "ETALAB-",
    "MIT", "BSD-", "APACHE-", "ISC", "UNLICENSE", "GPL-", "LGPL-", "AGPL-", "MPL-",
)


def redistributable(licence: str | None) -> bool:
    """Whether ``licence`` (an SPDX expression) is known to allow redistribution.

    ``A OR B`` allows it when either side does; ``A AND B`` (and ``A WITH exception``) when
    every licence named does. ``LicenseRef-...`` and unknown ids never do.
    """
    if not licence or not licence.strip():
        return False
    expression = re.sub(r"\s+WITH\s+\S+", " ", licence.upper().replace("(", " ").replace(")", " "))
    return any(
        all(name.startswith(REDISTRIBUTABLE) for name in re.split(r"\s+AND\s+", alternative))
        for alternative in re.split(r"\s+OR\s+", expression.strip())
    )


def check_licence(manifest: Manifest, remote: Remote, force: bool) -> None:
    """Refuse to push data that may not be redistributed to a public remote (unless forced)."""
    if not remote.public or force or redistributable(manifest.license):
        return
    licence = f"licence {manifest.license!r}" if manifest.license else "no licence"
    raise RemoteError(
        f"{manifest.id}: {remote} is public and the definition gives {licence}, which is not "
        "known to allow redistribution; push it to a private remote, or pass --force if you "
        "have checked that the licence allows it", remote=remote.name, dataset=manifest.id,
    )
