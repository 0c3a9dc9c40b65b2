"""Word embeddings in text form: GloVe (``word v1 ... vd`` a line) and word2vec / fastText
``.vec`` files (the same after a ``count dimension`` header line)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from pydantic import Field

from dmconf.data import File
from dmconf.data.reading import LineLookup, open_binary
from dmconf.errors import DataFormatError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["WordVectors"]


class WordVectors(File):
    """Word vectors, one word a line followed by its values, space-separated.

    ``header: true`` for word2vec/fastText text files, whose first line is ``count dimension``.
    Vectors are float32; :meth:`lookup` maps a word to its vector, reading only that line.
    """

    header: bool = Field(default=False, description="first line is 'count dimension'")
    dimension: int | None = Field(default=None, ge=1, description="values per word, if known")

    def _vector(self, number: int, line: bytes) -> np.ndarray:
        import numpy as np

        word, _, values = line.rstrip(b"\r\n").partition(b" ")
        try:
            vector = np.array(values.split(), dtype=np.float32)
        except ValueError:
            vector = np.empty(0, dtype=np.float32)
        if not len(vector) or (self.dimension is not None and len(vector) != self.dimension):
            raise DataFormatError(
                f"{self.path}, line {number}: {len(vector)} values for "
                f"{word.decode('utf-8', 'replace')!r}, expected {self.dimension or 'some'}",
                path=str(self.path),
            )
        return vector

    @staticmethod
    def _word(number: int, line: bytes) -> str:
        return line.split(b" ", 1)[0].decode("utf-8", "replace")

    def iter(self) -> Iterator[tuple[str, np.ndarray]]:
        """``(word, vector)`` pairs, streamed."""
        with open_binary(self.path) as stream:
            for number, line in enumerate(stream, 1):
                if (self.header and number == 1) or not line.strip():
                    continue
                yield self._word(number, line), self._vector(number, line)

    def head(self, count: int = 10) -> list[tuple[str, np.ndarray]]:
        return list(itertools.islice(self.iter(), count))

    def vocabulary(self) -> list[str]:
        """Every word, in file order (does not parse the vectors)."""
        return list(self.lookup())

    def lookup(self) -> Mapping[str, np.ndarray]:
        """word -> vector, indexed on first use (one scan), then one line read per word."""
        return LineLookup(self.path, self._word, self._vector, skip=1 if self.header else 0)

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """All words and a (words, dimension) float32 matrix (reads the whole file)."""
        import numpy as np

        words, vectors = [], []
        for word, vector in self.iter():
            words.append(word)
            vectors.append(vector)
        return words, np.stack(vectors) if vectors else np.empty((0, self.dimension or 0))
