"""A bounded hand-off of work items to a thread of its own, in order.

The download and the single-file unpackers use it to put a second core to work:
:mod:`~dmconf.unpack.stream` inflates on one thread and hashes and writes the output on another
while the download's thread reads; :mod:`~dmconf.fetch.download` hashes and writes a plain
download behind the thread that receives. Each item there is a chunk of up to 1 MiB, so a
hand-off is rare beside the work it moves; :mod:`~dmconf.unpack.tar` does not use it (a hand-off
per few small members cost more than the parse it overlapped).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Pipe"]

T = TypeVar("T")


class Pipe(Generic[T]):
    """``consume`` called on every item written, in order, on a thread of its own.

    At most ``size`` items wait and one is being consumed, so memory stays bounded: once
    ``write`` returns, the item written ``size + 1`` writes before is done with (a writer may
    reuse its buffer, as :class:`~dmconf.fetch.download.Download` does). What ``consume``
    raises (a full disk, a bomb past the limits, a hostile member) is raised by the next
    ``write`` or by ``drain``; the items after it are dropped. Use it as a context manager, or
    ``stop`` it.
    """

    def __init__(self, consume: Callable[[T], object], name: str, size: int) -> None:
        self._consume = consume
        self._queue: queue.Queue[tuple[T] | None] = queue.Queue(maxsize=size)
        self._failure: BaseException | None = None
        self._dropping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def write(self, item: T) -> None:
        self._raise()
        self._queue.put((item,))

    def drain(self) -> None:
        """Wait for every item written; raise what consuming one raised."""
        self._queue.join()
        self._raise()

    def discard(self) -> None:
        """Wait for every item written; forget a failure (the caller starts over)."""
        self._queue.join()
        self._failure = None

    def stop(self, drop: bool = False) -> None:
        """End the thread once the items written are consumed (or dropped, if ``drop``)."""
        self._dropping = drop
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def __enter__(self) -> Pipe[T]:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        self.stop(drop=kind is not None)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self._failure is None and not self._dropping:
                    self._consume(item[0])
            except BaseException as exc:  # handed to the writing thread
                self._failure = exc
            finally:
                self._queue.task_done()

    def _raise(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
