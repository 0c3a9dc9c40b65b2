"""``lines``: a text file's lines rewritten or filtered after download and unpacking.

A resource's ``lines`` is a list of steps, each applied in order to every line (its newline
included, as datamaestro's ``Replace`` and ``Filter`` do):

- ``{replace: PATTERN, by: TEXT}``: every match of the regular expression replaced (``by`` is
  a Python ``re`` template: ``\\1`` is the first group);
- ``{keep: PATTERN}``: only the lines where the expression matches are kept;
- ``{drop: PATTERN}``: the lines where it matches are dropped.

A line that becomes empty is dropped (as datamaestro does). Expressions are compiled when the
definition is read; a pattern longer than :data:`MAX_PATTERN` characters is refused. They run
on the ``regex`` package (the syntax of ``re``) because it can stop a match: a definition's
pattern that backtracks without end (``(a|aa)+$``) stops after :data:`STEP_TIMEOUT` seconds on
one line with an error naming the step, instead of holding the prepare (``re`` cannot stop).
The file
is decoded strictly as UTF-8 and read one line at a time (a line longer than
:data:`MAX_LINE` bytes is refused, so memory stays bounded); the output goes to a temporary
file renamed over the unpacked one, so nothing half-written is ever in place. The downloaded
bytes are verified against the ``sha256`` before any of this runs.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from dmconf.errors import UnpackError
from dmconf.store.ownfiles import open_own
from dmconf.unpack.base import Unpacker
from dmconf.unpack.limits import DEFAULT, Limits

__all__ = ["MAX_LINE", "MAX_PATTERN", "STEP_TIMEOUT", "LineStep", "Lines"]

MAX_PATTERN = 1000  # characters: datamaestro's patterns are a few dozen
MAX_LINE = 64 << 20  # bytes: a "line" longer than this is not a text file's line
STEP_TIMEOUT = 10.0  # seconds one step may spend on one line (a linear pattern on 64 MiB: ~1 s)


class LineStep(BaseModel):
    """One step of a resource's ``lines``: exactly one of ``replace`` (with ``by``), ``keep``
    or ``drop``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    replace: str | None = Field(default=None, max_length=MAX_PATTERN,
                                description="a regular expression whose matches are replaced")
    by: str | None = Field(default=None, max_length=MAX_PATTERN,
                           description="with replace: the replacement (\\1 is the first group)")
    keep: str | None = Field(default=None, max_length=MAX_PATTERN,
                             description="keep only the lines this regular expression matches")
    drop: str | None = Field(default=None, max_length=MAX_PATTERN,
                             description="drop the lines this regular expression matches")
    _regex: Any = PrivateAttr()  # a regex.Pattern

    @model_validator(mode="after")
    def _compile(self) -> LineStep:
        given = [name for name in ("replace", "keep", "drop") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a lines step has exactly one of `replace` (with `by`), `keep` or "
                             f"`drop` (got {', '.join(given) or 'none'})")
        if (self.by is None) != (self.replace is None):
            raise ValueError("`by` goes with `replace`, and `replace` needs `by` "
                             "(by: '' deletes the matches)")
        pattern = getattr(self, given[0])
        import regex  # ~20 ms: paid by definitions with lines steps only

        try:
            checked = re.compile(pattern)  # the documented syntax is re's
            self._regex = regex.compile(pattern, regex.VERSION0)  # re's behaviour, and timeouts
        except (re.error, regex.error) as exc:
            raise ValueError(f"`{given[0]}`: invalid regular expression {pattern!r}: {exc}"
                             ) from None
        if self.by is not None:
            try:
                checked.sub(self.by, "")  # checks the template (\\2 of one group...)
            except (re.error, IndexError) as exc:
                raise ValueError(f"`by`: invalid replacement {self.by!r}: {exc}") from None
        return self

    def apply(self, line: str, timeout: float = STEP_TIMEOUT) -> str:
        """The line after this step (``""`` when it is dropped); ``TimeoutError`` when the
        expression takes more than ``timeout`` seconds on it."""
        if self.by is not None:
            return str(self._regex.sub(self.by, line, timeout=timeout))
        found = self._regex.search(line, timeout=timeout) is not None
        return line if found == (self.keep is not None) else ""

    def describe(self) -> str:
        kind = next(k for k in ("replace", "keep", "drop") if getattr(self, k) is not None)
        return f"{kind}: {getattr(self, kind)!r}"


class Lines(Unpacker):
    """The resource's unpack step (``inner``), then its ``lines`` steps on the file it made."""

    def __init__(self, inner: Unpacker, steps: Sequence[LineStep], limits: Limits = DEFAULT,
                 timeout: float = STEP_TIMEOUT) -> None:
        if inner.makes_folder:
            raise ValueError("line steps apply to a file, not to an archive's folder")
        self.inner, self.steps, self.limits = inner, list(steps), limits
        self.timeout = timeout
        self.streams = inner.streams

    def open_stream(self, target: Path) -> Any:
        return _Finishing(self.inner.open_stream(target), lambda: self.rewrite(target))

    def unpack(self, source: Path, target: Path) -> str:
        self.inner.unpack(source, target)
        return self.rewrite(target)

    def rewrite(self, path: Path) -> str:
        """Apply the steps to ``path`` in place (through a temporary renamed over it); return
        the sha256 of the result."""
        temporary = path.with_name(path.name + ".lines")
        digest, consumed, produced, number = hashlib.sha256(), 0, 0, 0
        try:
            with open(path, "rb") as source, open_own(temporary, "wb") as out:
                while raw := source.readline(MAX_LINE + 1):
                    number += 1
                    consumed += len(raw)
                    if len(raw) > MAX_LINE:
                        raise UnpackError(f"{path.name}: line {number} is longer than "
                                          f"{MAX_LINE} bytes: not a text file whose lines "
                                          "can be rewritten", path=str(path))
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise UnpackError(
                            f"{path.name}: line {number} is not UTF-8 text ({exc.reason} at "
                            f"byte {exc.start}); its `lines` steps need a UTF-8 file",
                            path=str(path)) from None
                    for index, step in enumerate(self.steps):
                        try:
                            line = step.apply(line, self.timeout)
                        except TimeoutError:
                            raise UnpackError(
                                f"{path.name}: lines step {index} ({step.describe()}) took more "
                                f"than {self.timeout:g} s on line {number}: the expression "
                                "backtracks without end; rewrite it in the definition",
                                path=str(path)) from None
                        if not line:
                            break
                    if line:
                        data = line.encode("utf-8")
                        produced += len(data)
                        self.limits.check(path.name, produced, consumed)
                        digest.update(data)
                        out.write(data)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        return digest.hexdigest()


class _Finishing:
    """A streaming unpacker's writer whose ``finish`` also runs the line steps."""

    def __init__(self, inner: Any, then: Any) -> None:
        self._inner, self._then = inner, then

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def finish(self) -> str:
        self._inner.finish()
        return str(self._then())
