"""Audio datasets: labelled clips in class folders (Speech Commands), clips with transcripts
(LJSpeech).

PCM WAV files are read with the standard ``wave`` module; other formats (FLAC, OGG...) with
soundfile (the ``audio`` extra).
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from dmconf.data import Base, File, Folder
from dmconf.data.ml import LabelledFiles
from dmconf.data.reading import require
from dmconf.data.text import TextTable
from dmconf.errors import DataFormatError, NotPrepared

if TYPE_CHECKING:
    import numpy as np

__all__ = ["AudioFolder", "AudioTranscripts", "read_audio"]

_PCM = {1: "u1", 2: "<i2", 4: "<i4"}


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Samples (frames, channels) and the sample rate of an audio file.

    8/16/32-bit PCM WAV needs nothing more than numpy; anything else needs the ``audio`` extra.
    """
    import numpy as np

    if path.suffix.lower() == ".wav":
        try:
            with wave.open(str(path), "rb") as clip:
                width, channels = clip.getsampwidth(), clip.getnchannels()
                rate, frames = clip.getframerate(), clip.readframes(clip.getnframes())
        except FileNotFoundError:
            raise NotPrepared(f"{path} does not exist: prepare the dataset first",
                              path=str(path)) from None
        except (wave.Error, EOFError) as exc:
            if "unknown format" not in str(exc):
                raise DataFormatError(f"{path}: not a readable WAV file ({exc})",
                                      path=str(path)) from None
        else:
            if width in _PCM:
                return np.frombuffer(frames, dtype=_PCM[width]).reshape(-1, channels), rate
    soundfile = require("soundfile", "audio", f"decoding {path.name}")
    try:
        data, rate = soundfile.read(str(path), always_2d=True)
    except RuntimeError as exc:  # soundfile's LibsndfileError
        raise DataFormatError(f"{path}: not a readable audio file ({exc})",
                              path=str(path)) from None
    return data, int(rate)


class AudioFolder(LabelledFiles):
    """Audio clips sorted into one folder per label (Speech Commands: ``yes/*.wav``)."""

    pattern: str = "*.wav"

    def clip(self, path: Path) -> tuple[np.ndarray, int]:
        return read_audio(path)


class AudioTranscripts(Base):
    """Clips with their transcripts: a metadata table naming each clip (LJSpeech's
    ``metadata.csv``: ``id|transcript|normalised transcript``, no header)."""

    clips: Folder = Field(description="the folder of audio files")
    metadata: File = Field(description="the table of clip ids and transcripts")
    delimiter: str = "|"
    id_column: int = Field(default=0, ge=0)
    text_column: int = Field(default=1, ge=0)
    suffix: str = Field(default=".wav", description="appended to an id to name its file")

    def items(self) -> Iterator[tuple[Path, str]]:
        """``(clip path, transcript)`` pairs, streamed."""
        table = TextTable(path=self.metadata.path, delimiter=self.delimiter, header=False,
                          quoting=False)
        for row in table.rows():
            values = list(row.values())
            if max(self.id_column, self.text_column) >= len(values):
                raise DataFormatError(f"{self.metadata.path}: a row has {len(values)} columns",
                                      path=str(self.metadata.path))
            name = values[self.id_column] + self.suffix
            if "/" in name or "\\" in name or name.startswith("."):
                raise DataFormatError(
                    f"{self.metadata.path}: clip id {values[self.id_column]!r} is not a file name "
                    "in the clips folder", path=str(self.metadata.path),
                )
            yield self.clips.path / name, values[self.text_column]

    def clip(self, path: Path) -> tuple[np.ndarray, int]:
        return read_audio(path)
