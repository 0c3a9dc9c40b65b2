"""The ``dmconf`` logger as the catalogue's modules reach it: :func:`logger`, which imports
:mod:`logging` when something is logged rather than when a command starts (with ``traceback``,
``threading``, ``string``... ~8 ms of a ``dmconf list`` that logs nothing).

The command line asks for its stderr handler (``LEVEL message``) with :func:`to_stderr`; the
handler is added when the logger is first asked for, and removed by :func:`stop_stderr`.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging

# logging's own levels, named here so that choosing one does not import it
DEBUG, INFO, WARNING = 10, 20, 30

_level: int | None = None  # asked for by the command line, its handler not added yet
_handler: logging.Handler | None = None


def logger() -> logging.Logger:
    """The ``dmconf`` logger, with the command line's handler if it asked for one."""
    import logging

    global _level, _handler
    log = logging.getLogger("dmconf")
    if _level is not None:
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        log.addHandler(_handler)
        log.setLevel(_level)
        _level = None
    return log


def to_stderr(level: int) -> None:
    """Log ``level`` and above to stderr, from the first use of :func:`logger` on."""
    global _level
    _level = level


def stop_stderr() -> None:
    """Remove the handler :func:`to_stderr` asked for (if it was added)."""
    global _level, _handler
    _level = None
    if _handler is not None:
        import logging

        logging.getLogger("dmconf").removeHandler(_handler)
        _handler = None
