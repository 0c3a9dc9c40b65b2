"""datamaestro's ``datamaestro.data.huggingface``: a dataset of the Hugging Face hub."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from dmconf.compat.datamaestro.data import Base

__all__ = ["HuggingFaceDataset", "JsonLines"]

JSON_LINES = (".jsonl", ".jsonl.gz", ".ndjson")


class JsonLines:
    """The rows of a JSON Lines file, as mappings; iterable again and again, like a
    ``datasets.Dataset``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from dmconf.data.reading import json_line, open_text

        with open_text(self.path) as stream:
            for number, line in enumerate(stream, 1):
                if line.strip():
                    yield json_line(self.path, number, line)


class HuggingFaceDataset(Base):
    """A Hugging Face hub dataset. ``data`` is its rows: read by dmconf from the prepared file
    when dmconf fetched one JSON Lines file (``local_path``), else loaded with the ``datasets``
    library (not a dmconf dependency), as datamaestro does."""

    repo_id: str
    name: str | None = None
    data_files: str | None = None
    split: str | None = None
    revision: str | None = None
    streaming: bool = False
    local_path: Path | None = None

    @cached_property
    def data(self) -> Any:
        """The rows (datamaestro's ``data`` property)."""
        if self.local_path is not None and self.local_path.is_file() and str(
                self.data_files or self.local_path.name).endswith(JSON_LINES):
            return JsonLines(self.local_path)
        import importlib

        try:
            datasets: Any = importlib.import_module("datasets")
        except ImportError:
            from dmconf.errors import DataFormatError

            raise DataFormatError(
                f"{self.repo_id}: reading this Hugging Face dataset needs the 'datasets' "
                "library (pip install datasets)", path=str(self.local_path or self.repo_id)
            ) from None
        if self.local_path is not None:
            return datasets.load_dataset(str(self.local_path), split=self.split)
        return datasets.load_dataset(
            self.repo_id, self.name, data_files=self.data_files, split=self.split,
            revision=self.revision, streaming=self.streaming,
        )
