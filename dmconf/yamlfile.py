"""Reading a YAML file someone else wrote (a definition, the settings) without hanging or
exploding.

A catalogue root or a settings path may hold a FIFO (opening it would wait forever for a
writer), a device, a huge file, bytes that are not UTF-8, or a YAML "billion laughs" whose
aliases expand to more nodes than memory holds once anything walks them (validation, digests,
Hydra). :func:`read_yaml` opens without blocking, reads regular files only, caps the size, and
counts the expanded nodes, failing with a reason that fits in one line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

__all__ = ["MAX_BYTES", "MAX_NODES", "UnreadableYaml", "read_yaml"]

MAX_BYTES = 16 << 20  # a definition or settings file is a few kB
MAX_NODES = 200_000  # values after expanding aliases; the largest real definition has ~10^4


class UnreadableYaml(Exception):
    """Why a YAML file cannot be used; callers wrap it into their own error with the path."""


def read_yaml(path: Path) -> Any:
    """The parsed content of a YAML file (None when empty)."""
    text = _read_text(path)
    if not text.strip():
        return None
    import yaml

    try:
        content = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise UnreadableYaml(f"cannot be read as YAML, it is not valid YAML: {reason}") from None
    except RecursionError:
        raise UnreadableYaml("cannot be read as YAML: it nests too deeply") from None
    _count_nodes(content)
    return content


def _read_text(path: Path) -> str:
    if os.path.realpath(path) == os.devnull:
        return ""  # /dev/null: deliberately nothing
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnreadableYaml(f"cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as stream:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a folder" if stat.S_ISDIR(mode) else (
                "a device or socket")
            raise UnreadableYaml(f"it is {kind}, not a regular file; dmconf reads YAML files only")
        data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise UnreadableYaml(f"it is larger than {MAX_BYTES} bytes; a YAML file this large is not "
                             "a definition or settings file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableYaml(
            f"it is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it "
            "as UTF-8") from None


def _count_nodes(content: Any) -> None:
    """Walk the content as its users will (aliases expanded); stop beyond MAX_NODES."""
    todo, seen = [content], 0
    while todo:
        node = todo.pop()
        seen += 1
        if seen > MAX_NODES:
            raise UnreadableYaml(
                f"it expands to more than {MAX_NODES} values once its aliases (&anchor / *alias) "
                "are followed; a definition this large is a YAML bomb or a mistake")
        if isinstance(node, dict):
            todo.extend(node.keys())
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
