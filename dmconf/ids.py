"""What a dataset id looks like (kept apart so that listing never imports the models)."""

from __future__ import annotations

import re

__all__ = ["ID_PATTERN"]

# Dot-separated names, each usable as a file name: the id is one folder name in the data
# folder (dmconf.store.layout) and a path below a catalogue root.
ID_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)*$")
