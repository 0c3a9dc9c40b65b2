"""datamaestro's ``datamaestro.data.huggingface``: a dataset of the Hugging Face hub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dmconf.compat.datamaestro.data import Base

__all__ = ["HuggingFaceDataset"]


class HuggingFaceDataset(Base):
    """A Hugging Face hub dataset, read with the ``datasets`` library (not a dmconf dependency)."""

    repo_id: str
    name: str | None = None
    data_files: str | None = None
    split: str | None = None
    revision: str | None = None
    streaming: bool = False
    local_path: Path | None = None

    def data(self) -> Any:
        """The dataset, loaded with ``datasets.load_dataset``."""
        from datasets import load_dataset  # type: ignore[attr-defined,unused-ignore]

        return load_dataset(
            str(self.local_path or self.repo_id), self.name, data_files=self.data_files,
            split=self.split, revision=self.revision, streaming=self.streaming,
        )
