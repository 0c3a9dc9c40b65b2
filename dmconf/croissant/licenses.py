"""Croissant ``license`` values (SPDX ids in any case, licence URLs, free text) as SPDX.

Croissant files name licences as ``mit``, ``cc-by-4.0``, a Creative Commons or choosealicense
URL, an SPDX URL, or free text; dmconf definitions hold an SPDX expression. Known ids keep their
SPDX spelling; anything else becomes ``LicenseRef-<text>`` so that nothing is invented.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["spdx"]

# The SPDX ids met in Croissant files and dataset hubs, in SPDX's spelling.
KNOWN = [
    "AFL-3.0", "AGPL-3.0", "Apache-2.0", "Artistic-2.0", "BSD-2-Clause", "BSD-3-Clause",
    "BSL-1.0", "CC-BY-1.0", "CC-BY-2.0", "CC-BY-2.5", "CC-BY-3.0", "CC-BY-4.0", "CC-BY-NC-2.0",
    "CC-BY-NC-3.0", "CC-BY-NC-4.0", "CC-BY-NC-ND-3.0", "CC-BY-NC-ND-4.0", "CC-BY-NC-SA-2.0",
    "CC-BY-NC-SA-3.0", "CC-BY-NC-SA-4.0", "CC-BY-ND-4.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0",
    "CC0-1.0", "CDLA-Permissive-1.0", "CDLA-Permissive-2.0", "CDLA-Sharing-1.0", "ECL-2.0",
    "EPL-1.0", "EPL-2.0", "EUPL-1.1", "EUPL-1.2", "GPL-2.0", "GPL-3.0", "ISC", "LGPL-2.1",
    "LGPL-3.0", "LPPL-1.3c", "MIT", "MPL-2.0", "MS-PL", "NCSA", "ODbL-1.0", "ODC-By-1.0",
    "OFL-1.1", "OSL-3.0", "PDDL-1.0", "PostgreSQL", "Unlicense", "WTFPL", "Zlib",
]
BY_LOWER = {name.lower(): name for name in KNOWN}
ALIASES = {"odc-by": "ODC-By-1.0", "cc0": "CC0-1.0", "odbl": "ODbL-1.0", "apache 2.0": "Apache-2.0",
           "gpl-3.0-or-later": "GPL-3.0-or-later", "bsd": "BSD-3-Clause"}
CC_URL = re.compile(r"creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/(\d\.\d)", re.I)


def spdx(value: Any) -> str | None:
    """The SPDX expression of a Croissant licence value, or None when it names none."""
    if isinstance(value, list):
        names = [spdx(v) for v in value]
        found = [n for n in names if n]
        return " AND ".join(dict.fromkeys(found)) if found else None
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url") or value.get("name")
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().rstrip("/")
    lower = text.lower()
    cc = CC_URL.search(text)
    if cc:
        kind, version = cc[2].lower(), cc[3]
        name = "CC0-1.0" if kind == "zero" else f"CC-{kind.upper()}-{version}"
        return BY_LOWER.get(name.lower(), name)
    if "://" in text:
        lower = lower.rsplit("/", 1)[-1].removesuffix(".html")
    if lower in BY_LOWER:
        return BY_LOWER[lower]
    if lower in ALIASES:
        return ALIASES[lower]
    ref = re.sub(r"[^A-Za-z0-9.-]+", "-", lower if "://" in text else text).strip("-.")[:60]
    return f"LicenseRef-{ref or 'unknown'}"
