"""Single-file decompressors (gunzip, bunzip2, unxz) fed chunk by chunk while downloading.

The download streams through sha256 into its partial file *and* through the decompressor into
the output file, so a compressed resource is read once: one pass from the network to the
decompressed file. Resuming replays the partial file through the decompressor first (the
decompressor's state cannot be saved across processes, re-reading local bytes is cheap). The
output stays under a temporary name until the download's sha256 is verified.

Three threads share the work, each handing chunks to the next through a bounded queue
(:class:`~dmconf.unpack.pipe.Pipe`): the download's thread reads, hashes and writes the partial
file; another inflates (:class:`Background`); a third hashes the output with sha256 and writes
it (zlib, ISA-L, bz2, lzma, hashlib and file writes release the GIL, so each can use a core).
gunzip uses ISA-L's inflate (the ``isal`` package, dmconf's ``fast`` extra) where it is
installed, zlib otherwise.

Concatenated streams (``cat a.gz b.gz``) are decompressed like ``gzip -d`` does; trailing bytes
after the first xz stream are ignored like Python's ``lzma.open`` does.
"""

from __future__ import annotations

import bz2
import hashlib
import importlib
import lzma
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dmconf.errors import UnpackError
from dmconf.store.ownfiles import open_own
from dmconf.unpack.base import Unpacker
from dmconf.unpack.limits import DEFAULT, Limits
from dmconf.unpack.pipe import Pipe

__all__ = ["Background", "Decompressor", "StreamDecompressor"]


def _inflate_module() -> Any:
    """ISA-L's inflate (2-3x zlib's, zlib's interface: ``pip install dmconf[fast]``) or zlib."""
    try:
        return importlib.import_module("isal.isal_zlib")
    except ImportError:  # pragma: no cover - depends on what is installed
        return zlib


inflate = _inflate_module()
INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, inflate.error)

FACTORIES: dict[str, Callable[[], Any]] = {
    "gunzip": lambda: inflate.decompressobj(wbits=16 + zlib.MAX_WBITS),
    "bunzip2": bz2.BZ2Decompressor,
    "unxz": lambda: lzma.LZMADecompressor(format=lzma.FORMAT_AUTO),
}
FORMATS = {"gunzip": "gzip", "bunzip2": "bzip2", "unxz": "xz"}
OUTPUT = 1 << 20  # bytes of output per step of the decompressor
ERRORS: tuple[type[Exception], ...] = (
    *INFLATE_ERRORS, lzma.LZMAError, OSError, EOFError, ValueError)
QUEUED = 8  # chunks (1 MiB each) waiting for the next thread, at most


class Decompressor:
    """Decompress what is written into ``path``; hash the output (for ``dmconf verify``).

    A corrupt stream does not raise at once: it sets :attr:`error`, and the caller decides
    after checking the download's sha256 (a mismatch explains a corrupt stream better).
    """

    def __init__(self, method: str, path: Path, limits: Limits = DEFAULT) -> None:
        self.method = method
        self.path = path
        self.limits = limits
        self.error: str | None = None
        self._out = open_own(path, "wb")  # closed by finish()/close()
        self._output: Pipe[bytes] = Pipe(self._hash_and_write, "dmconf-output", QUEUED)
        self.reset()

    def reset(self) -> None:
        """Forget everything written: the download starts over."""
        self._output.discard()
        self._out.seek(0)
        self._out.truncate()
        self._engine = FACTORIES[self.method]()
        self._fed = False  # whether the current engine has seen input
        self._streams = 0
        self._done = False  # unxz: the first stream ended, the rest is ignored
        self.error = None
        self.hash = hashlib.sha256()
        self.consumed = self.produced = 0

    def write(self, data: bytes) -> None:
        if self.error is not None or self._done:
            return
        self.consumed += len(data)
        try:
            while data:
                self._fed = True
                self._inflate(data)
                if not self._engine.eof:
                    return
                self._streams += 1
                data = self._engine.unused_data
                self._engine, self._fed = FACTORIES[self.method](), False
                if self.method == "unxz":
                    self._done = True  # what follows an xz stream is padding or junk: ignored
                    return
        except ERRORS as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # disk full, permission denied: not the stream's fault
            if self._streams and self.method == "gunzip" and not data.strip(b"\0"):
                self._engine, self._fed = FACTORIES[self.method](), False
                return  # zero padding after the last member, as gzip -d accepts
            self.error = f"not a valid {FORMATS[self.method]} stream ({exc})"

    def finish(self) -> str:
        """Close the output; return its sha256. Raises UnpackError if the stream was bad."""
        try:
            self._output.drain()
        finally:
            self.close()
        if self.error is None and (self._fed or not self._streams):
            self.error = f"the {FORMATS[self.method]} stream is truncated"
        if self.error is not None:
            raise UnpackError(f"{self.path.name}: cannot {self.method}: {self.error}",
                              path=str(self.path))
        return self.hash.hexdigest()

    def close(self) -> None:
        self._output.stop()
        self._out.close()

    def _inflate(self, data: bytes) -> None:
        """Decompress ``data`` in pieces of at most OUTPUT bytes, so that a bomb's chunk never
        expands in memory before the limits see it."""
        engine = self._engine
        if self.method == "gunzip":  # zlib keeps what it could not use in unconsumed_tail
            while True:
                piece = engine.decompress(data, OUTPUT)
                self._emit(piece)
                data = engine.unconsumed_tail
                if engine.eof or (not data and len(piece) < OUTPUT):
                    return
        self._emit(engine.decompress(data, max_length=OUTPUT))
        while not engine.eof and not engine.needs_input:
            self._emit(engine.decompress(b"", max_length=OUTPUT))

    def _emit(self, data: bytes) -> None:
        if data:
            self.produced += len(data)
            self.limits.check(self.path.name, self.produced, self.consumed)
            self._output.write(data)

    def _hash_and_write(self, data: bytes) -> None:  # on the output's thread
        self.hash.update(data)
        self._out.write(data)


class Background:
    """A :class:`Decompressor` fed from a thread of its own (a pipe), with the same interface;
    ``reset`` and ``finish`` first wait for every chunk written."""

    def __init__(self, inner: Decompressor) -> None:
        self.inner = inner
        self._pipe: Pipe[bytes] = Pipe(inner.write, "dmconf-inflate", QUEUED)

    @property
    def error(self) -> str | None:
        return self.inner.error

    def write(self, data: bytes) -> None:
        self._pipe.write(bytes(data))

    def reset(self) -> None:
        self._pipe.discard()
        self.inner.reset()

    def finish(self) -> str:
        try:
            self._pipe.drain()
        except BaseException:
            self.close()
            raise
        self._pipe.stop()
        return self.inner.finish()

    def close(self) -> None:
        self._pipe.stop()
        self.inner.close()


class StreamDecompressor(Unpacker):
    """``gunzip``, ``bunzip2``, ``unxz``: decompress one file into one file, while downloading."""

    streams = True

    def __init__(self, method: str, limits: Limits = DEFAULT) -> None:
        self.method = method
        self.limits = limits

    def open_stream(self, target: Path) -> Background:
        return Background(Decompressor(self.method, target, self.limits))

    def unpack(self, source: Path, target: Path) -> str:  # pragma: no cover - streamed instead
        raise NotImplementedError("stream decompressors unpack while downloading")
