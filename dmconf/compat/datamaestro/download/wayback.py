"""datamaestro's ``wayback_documents``: web pages from the Internet Archive's Wayback Machine,
one JSON line per URL.

``wayback_documents(timestamp, urls_fn, name="wayback.jsonl")`` asks, for each URL that
``urls_fn()`` computes (from another dataset's data, prepared first), the Wayback Machine's
availability API (``https://archive.org/wayback/available?url=URL&timestamp=T``) for the snapshot
closest to ``timestamp``, fetches that snapshot's raw page (the ``id_`` form,
``https://web.archive.org/web/TSid_/URL``) and writes, in URL order, one JSON line per URL:
``{"link", "id", "contents"}`` for a page, ``{"link", "page_id", "available": false,
"status_code", "wayback_url", "reason"}`` for a URL without one (as datamaestro does; ``page_id``
is derived from the URL, not random, so identical answers give an identical file).

Every request goes through dmconf's HTTP fetcher (its session, User-Agent, timeouts, retries
with backoff and ``Retry-After``, credentials, proxies from the environment), after the settings'
``mirrors:`` rewrite the two URLs above. What the archive answers is untrusted: an answer or a
page larger than its limit, an availability answer that is not the expected JSON, a snapshot URL
that is not a Wayback snapshot on the archive's own host (or on the mirror that stands for it),
and a page that is not text in its declared charset (UTF-8 when it declares none) are each
recorded as unavailable, with the reason; the snapshot actually fetched is always the
``https://web.archive.org/web/...`` URL rebuilt from the answer, mapped by ``mirrors:``, so an
answer can never point dmconf at another host, a ``file://`` path or a loopback service.

Answers are kept, as they come, in a progress file beside the output (``.NAME.progress``: a
header naming the timestamp, then one settled record a line); an interrupted run resumes from it,
dropping a torn last line. Pages the archive did not answer (a network failure after retries)
are not kept there, so the next run asks again. The output is written to a temporary file in
the same folder and renamed; the progress file goes once the output is in place.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import logging
import os
import re
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlencode, urlsplit

from dmconf.compat.datamaestro.download import Resource
from dmconf.errors import DefinitionError, DmconfError, DownloadError, OfflineError, StepFailed

if TYPE_CHECKING:
    from dmconf.settings import Settings

__all__ = ["wayback_documents"]

log = logging.getLogger("dmconf")

AVAILABILITY = "https://archive.org/wayback/available"
SNAPSHOTS = "https://web.archive.org/web/"
ARCHIVE_HOST = "web.archive.org"
ANSWER_MAX = 1 << 20  # an availability answer is a few hundred bytes
PAGE_MAX = 64 << 20  # one web page, held in memory; the settings' download_max_size if smaller
AVAILABILITY_TRIES = 3  # the API sometimes says "no snapshot" for one it has (datamaestro)
GIVE_UP_AFTER = 5  # URLs in a row the archive did not answer: the network is down, stop
TIMESTAMP = re.compile(r"\d{1,14}")
# after ".../web/": the snapshot's timestamp, an optional mode (id_, im_...), the original URL
SNAPSHOT_TAIL = re.compile(r"(\d{1,14})(?:[a-z]{2}_)?/([^\x00-\x20\x7f]+)")
URL_CHARS = re.compile(r"[^\x00-\x20\x7f]+")  # no space or control character
CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
PROGRESS_FORMAT = 1


class wayback_documents(Resource):  # datamaestro's spelling
    """Pages of the Wayback Machine for the URLs ``urls_fn()`` gives, as a JSON Lines file."""

    def __init__(
        self, timestamp: str, urls_fn: Callable[[], Iterable[str]], name: Any = None
    ) -> None:
        super().__init__(name)
        self.timestamp = timestamp
        self.urls_fn = urls_fn

    def _download(self, destination: Path, settings: Settings | None = None) -> None:
        """Write the JSON Lines file at ``destination`` (its folder must exist).

        ``urls_fn()`` is called once, so whatever it reads (another dataset's data) must be
        prepared. ``settings`` default to :func:`dmconf.settings.load_settings`.
        """
        if settings is None:
            from dmconf.settings import load_settings

            settings = load_settings()
        _Run(self, Path(destination), settings).run()


class _Unanswered(Exception):
    """The archive gave no usable answer for one URL (network, server, garbage): ask again
    in a later run."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class _Body:
    """A fetcher's sink holding one small answer in memory, refused beyond ``limit`` bytes."""

    def __init__(self, limit: int, why: str) -> None:
        self.limit, self.why = limit, why
        self.data = bytearray()
        self.url = ""
        self.content_type: str | None = None
        self.content_encoding: str | None = None  # set by _Fetcher

    def resume_point(self, url: str) -> tuple[int, str | None]:
        return 0, None  # small answers: every attempt starts over

    def begin(self, url: str, offset: int, validator: str | None, total: int | None) -> None:
        self.url = url
        self.data.clear()
        if total is not None and total > self.limit:
            raise self._oversize(f"the answer is {total} bytes")

    def write(self, data: bytes) -> None:
        if len(self.data) + len(data) > self.limit:
            raise self._oversize("the answer is larger")
        self.data += data

    def _oversize(self, what: str) -> DownloadError:
        return DownloadError(
            f"{self.url}: {what}, more than the {self.limit} bytes {self.why}; not kept",
            url=self.url, oversize=True,
        )


def _fetcher(settings: Settings) -> Any:
    """dmconf's HTTP fetcher, also telling the sink the answer's Content-Encoding: it asks for
    bytes as sent (identity), and a server may still compress a page."""
    from dmconf.fetch.http import HTTPFetcher

    class _Fetcher(HTTPFetcher):
        def _begin(self, url: str, response: Any, offset: int, sink: Any, session: Any
                   ) -> int | None:
            total = super()._begin(url, response, offset, sink, session)
            sink.content_encoding = response.headers.get("Content-Encoding")
            return total

    return _Fetcher(settings)


def unavailable(link: str, reason: str, status: int | None = None,
                wayback_url: str | None = None) -> dict[str, Any]:
    """datamaestro's record of a URL without a page, with the reason."""
    return {"link": link, "page_id": str(uuid.uuid5(uuid.NAMESPACE_URL, link)),
            "available": False, "status_code": status, "wayback_url": wayback_url,
            "reason": reason}


def _decoded(body: _Body, limit: int) -> bytes:
    """The answer without its Content-Encoding (gzip, deflate), at most ``limit`` bytes."""
    encoding = (body.content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return bytes(body.data)
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise ValueError(f"the answer is encoded as {encoding!r}, which dmconf does not decode")
    wbits = zlib.MAX_WBITS | 16 if "gzip" in encoding else zlib.MAX_WBITS
    try:
        inflater = zlib.decompressobj(wbits)
        data = inflater.decompress(bytes(body.data), limit + 1)
    except zlib.error as exc:
        raise ValueError(f"its {encoding} encoding is corrupt ({exc})") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise ValueError(f"the answer decompresses to more than {limit} bytes")
    return data


def _is_record(value: Any) -> bool:
    """Whether a progress line holds a record this module writes."""
    if not isinstance(value, dict) or not isinstance(value.get("link"), str):
        return False
    if value.get("available") is False:
        return isinstance(value.get("reason"), str)
    return isinstance(value.get("id"), str) and isinstance(value.get("contents"), str)


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


class _Run:
    """One ``_download``: the URLs, the settings' mirrors and fetcher, the progress file."""

    def __init__(self, resource: wayback_documents, destination: Path, settings: Settings
                 ) -> None:
        self.resource = resource
        self.destination = destination
        self.settings = settings
        self.fetcher = _fetcher(settings)
        self.progress_path = destination.with_name(f".{destination.name}.progress")
        target = resource.dataset
        self.dataset = (target.id or target.where) if target is not None else "(no dataset)"
        self.what = f"{self.dataset}: wayback_documents {destination.name!r}"
        self.page_max = min(PAGE_MAX, settings.download_max_size)

    def rewrite(self, url: str) -> str:
        from dmconf.materialise import rewrite

        return rewrite(url, self.settings.mirrors)

    # -- the whole run ----------------------------------------------------------------------

    def run(self) -> None:
        self._check_settings()
        links = self._links()
        kept = self._resume(set(links))
        failed: dict[str, dict[str, Any]] = {}
        answered, in_a_row = len(kept), 0
        if kept:
            log.info("%s: %d of %d URLs done by an earlier run", self.what, len(kept), len(links))
        with self._open_progress(kept) as progress, self._bar(len(links), len(kept)) as bar:
            for link in links:
                if link in kept:
                    continue
                try:
                    record = self._visit(link)
                except _Unanswered as exc:
                    in_a_row += 1
                    log.warning("%s: %s: %s", self.what, link, exc.reason)
                    failed[link] = unavailable(link, exc.reason, exc.status)
                    if in_a_row >= GIVE_UP_AFTER:
                        raise self._gave_up(
                            link, exc.reason, in_a_row, len(kept), len(links)) from None
                else:
                    in_a_row, answered = 0, answered + 1
                    kept[link] = self._append(progress, record)
                bar.update(1)
        if links and not answered:
            link = links[-1]
            raise self._gave_up(link, failed[link]["reason"], len(links), 0, len(links))
        self._write_output(links, kept, failed)
        missing = len(failed) + sum(1 for span in kept.values() if span[2])
        log.info("%s: %d URLs, %d without a page", self.what, len(links), missing)

    def _check_settings(self) -> None:
        if not TIMESTAMP.fullmatch(str(self.resource.timestamp)):
            raise DefinitionError(
                f"{self.what}: timestamp {self.resource.timestamp!r} is not a Wayback timestamp "
                "(YYYYMMDDhhmmss, or a prefix of it)", dataset=self.dataset,
            )
        for url in (AVAILABILITY, SNAPSHOTS):
            mapped = self.rewrite(url)
            if urlsplit(mapped).scheme.lower() not in ("http", "https"):
                raise DownloadError(
                    f"{self.what}: the settings' mirrors map {url} to {mapped}; the Wayback "
                    "Machine is asked over HTTP: map it to an http(s) URL", url=mapped,
                    dataset=self.dataset,
                )
        if self.settings.offline:
            raise OfflineError(
                f"{self.what}: pages are asked from the Wayback Machine ({AVAILABILITY}) and "
                "DMCONF_OFFLINE forbids the network; prepare this dataset on a machine with "
                "network and share its data folder", dataset=self.dataset, url=AVAILABILITY,
            )

    def _links(self) -> list[str]:
        """``urls_fn()``'s URLs, once each, sorted (the file's order)."""
        links: set[str] = set()
        try:
            given = list(self.resource.urls_fn())
        except DmconfError:
            raise
        except Exception as exc:  # the plugin's code, reading another dataset's data
            raise StepFailed(
                f"{self.what}: urls_fn, the plugin's code that computes the URLs, failed "
                f"({type(exc).__name__}: {exc}); the datasets it reads must be prepared first",
                dataset=self.dataset,
            ) from exc
        for link in given:
            if not isinstance(link, str):
                raise DefinitionError(
                    f"{self.what}: urls_fn gave {link!r}, not a URL string; fix the plugin",
                    dataset=self.dataset,
                )
            links.add(link)
        if not links:
            log.warning("%s: urls_fn gave no URL; the file is empty", self.what)
        return sorted(links)

    def _gave_up(self, link: str, reason: str, count: int, kept: int, total: int
                 ) -> DownloadError:
        saved = (f"{kept} of {total} URLs are kept in {self.progress_path} and the next "
                 "prepare continues from there" if kept else "nothing was kept")
        return DownloadError(
            f"{self.what}: the Wayback Machine gave no answer for {count} URLs in a row (the "
            f"last: {link}: {reason}); {saved}. Check the network and prepare again, or map "
            f"{AVAILABILITY} and {SNAPSHOTS} to a reachable copy in the settings' mirrors",
            dataset=self.dataset, url=link, path=str(self.destination),
        )

    @contextlib.contextmanager
    def _bar(self, total: int, done: int) -> Iterator[Any]:
        from tqdm import tqdm

        from dmconf.progress import progress_enabled

        with tqdm(total=total, initial=done, unit="URL", desc=self.what, leave=False,
                  disable=not progress_enabled(self.settings)) as bar:
            yield bar

    # -- one URL ----------------------------------------------------------------------------

    def _visit(self, link: str) -> dict[str, Any]:
        """The record of one URL; :class:`_Unanswered` when the archive could not be asked."""
        try:
            parts = urlsplit(link)
            usable = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
        except ValueError:
            usable = False
        if not usable or not URL_CHARS.fullmatch(link):
            return unavailable(link, "not an http(s) URL")
        closest = link if self._snapshot(link) else self._closest(link)
        if closest is None:
            return unavailable(link, f"no snapshot in the Wayback Machine near "
                                     f"{self.resource.timestamp}")
        snapshot = self._snapshot(closest)
        if snapshot is None:
            return unavailable(link, f"the archive answered {closest!r}, which is not a "
                                     f"snapshot URL of {ARCHIVE_HOST}; not followed")
        target = self.rewrite(snapshot)
        try:
            body = self._get(target, self.page_max, "a page may have (64 MiB, or the "
                                                    "settings' download_max_size if smaller)")
        except DownloadError as exc:
            # reasons name the archive's URL, not the mirror's: the file does not depend on it
            reason = str(exc).replace(target, snapshot)
            if exc.is_transient:
                raise _Unanswered(reason, exc.fields.get("status")) from None
            return unavailable(link, reason, exc.fields.get("status"), snapshot)
        try:
            text = self._text(body, self.page_max)
        except ValueError as exc:
            return unavailable(link, f"{snapshot}: {exc}", 200, snapshot)
        return {"link": link, "id": snapshot, "contents": text}

    def _get(self, url: str, limit: int, why: str) -> _Body:
        from dmconf.fetch.retry import with_retries

        body = _Body(limit, why)
        with_retries(lambda: self.fetcher.fetch(url, body), self.settings, lambda: 0)
        return body

    def _closest(self, link: str) -> str | None:
        """The closest snapshot's URL as the availability API gives it, None when it has none."""
        asked = f"{AVAILABILITY}?{urlencode({'url': link, 'timestamp': self.resource.timestamp})}"
        url = self.rewrite(asked)
        for _ in range(AVAILABILITY_TRIES):
            try:
                body = self._get(url, ANSWER_MAX, "an availability answer may have")
            except DownloadError as exc:
                raise _Unanswered(str(exc).replace(url, asked), exc.fields.get("status")
                                  ) from None
            try:
                answer = json.loads(_decoded(body, ANSWER_MAX))
            except ValueError as exc:
                raise _Unanswered(f"{asked}: the answer is not JSON ({exc})") from None
            snapshots = answer.get("archived_snapshots") if isinstance(answer, dict) else None
            if not isinstance(snapshots, dict):
                raise _Unanswered(f"{asked}: the answer has no archived_snapshots object")
            closest = snapshots.get("closest")
            if closest is None or (isinstance(closest, dict) and closest.get("available") is False):
                continue
            if not isinstance(closest, dict) or not isinstance(closest.get("url"), str):
                raise _Unanswered(f"{asked}: archived_snapshots.closest has no url string")
            return str(closest["url"])
        return None

    def _snapshot(self, url: str) -> str | None:
        """The raw (``id_``) snapshot URL on the archive's host for a snapshot URL of the
        archive (or of the mirror that stands for it), None for anything else."""
        mapped = self.rewrite(SNAPSHOTS)
        if mapped != SNAPSHOTS and url.startswith(mapped):
            tail = url[len(mapped):]
        else:
            try:
                parts = urlsplit(url)
                port = parts.port
            except ValueError:
                return None
            if (parts.scheme.lower() not in ("http", "https") or parts.hostname != ARCHIVE_HOST
                    or port not in (None, 80, 443) or not parts.path.startswith("/web/")):
                return None
            tail = url.split("/web/", 1)[1]
        match = SNAPSHOT_TAIL.fullmatch(tail)
        return f"{SNAPSHOTS}{match[1]}id_/{match[2]}" if match else None

    @staticmethod
    def _text(body: _Body, limit: int) -> str:
        """The page as text, in its declared charset (UTF-8 if none); ValueError if it is not."""
        data = _decoded(body, limit)
        found = CHARSET.search(body.content_type or "")
        charset = found[1] if found else "utf-8"
        try:
            codecs.lookup(charset)
        except LookupError:
            raise ValueError(f"the page declares an unknown charset {charset!r}") from None
        try:
            return data.decode(charset)
        except UnicodeDecodeError as exc:
            raise ValueError(f"the page is not {charset} text ({exc.reason} at byte "
                             f"{exc.start})") from None

    # -- the progress file and the output ---------------------------------------------------

    def _header(self) -> bytes:
        return _line({"wayback_documents": PROGRESS_FORMAT,
                      "timestamp": str(self.resource.timestamp)})

    def _resume(self, links: set[str]) -> dict[str, tuple[int, int, bool]]:
        """Records an earlier run kept for these URLs: link -> (offset, length, unavailable).

        The progress file counts only when it is ours (a regular file we own, never a link),
        starts with this run's header and parses line by line; reading stops at the first line
        that does not (a torn write), and the file is rewritten with what was read.
        """
        from dmconf.store.ownfiles import open_own

        kept: dict[str, tuple[int, int, bool]] = {}
        try:
            stream = open_own(self.progress_path, "rb")
        except FileNotFoundError:
            return kept
        lines: list[bytes] = []
        with stream:
            if os.fstat(stream.fileno()).st_uid != os.getuid() or stream.readline() != (
                    self._header()):
                return kept  # not ours, or of another timestamp: replaced by a new one
            dropped = False
            for line in stream:
                try:
                    record = json.loads(line) if line.endswith(b"\n") else None
                except ValueError:
                    record = None
                if not _is_record(record):
                    dropped = True
                    break
                assert isinstance(record, dict)
                if record["link"] in links and record["link"] not in kept:
                    kept[record["link"]] = (0, 0, record.get("available") is False)
                    lines.append(line)
                else:
                    dropped = True
        if dropped:
            log.info("%s: dropping the unusable end of %s", self.what, self.progress_path)
            self._replace(self.progress_path, [self._header(), *lines])
        offset = len(self._header())
        for link, line in zip(list(kept), lines, strict=True):
            kept[link] = (offset, len(line), kept[link][2])
            offset += len(line)
        return kept

    @contextlib.contextmanager
    def _open_progress(self, kept: dict[str, tuple[int, int, bool]]) -> Iterator[BinaryIO]:
        from dmconf.store.ownfiles import open_own

        if not kept:
            self._replace(self.progress_path, [self._header()])
        with open_own(self.progress_path, "ab") as stream:
            yield stream

    def _append(self, progress: BinaryIO, record: dict[str, Any]) -> tuple[int, int, bool]:
        line = _line(record)
        offset = os.fstat(progress.fileno()).st_size
        progress.write(line)
        progress.flush()
        return offset, len(line), record.get("available") is False

    def _write_output(self, links: list[str], kept: dict[str, tuple[int, int, bool]],
                      failed: dict[str, dict[str, Any]]) -> None:
        from dmconf.store.ownfiles import open_own

        def lines() -> Iterator[bytes]:
            with open_own(self.progress_path, "rb") as progress:
                for link in links:
                    if link in kept:
                        offset, length, _ = kept[link]
                        progress.seek(offset)
                        yield progress.read(length)
                    else:
                        yield _line(failed[link])

        self._replace(self.destination, lines())
        self.progress_path.unlink()

    @staticmethod
    def _replace(path: Path, lines: Iterable[bytes]) -> None:
        """Write ``path`` whole, through a temporary file in its folder and a rename."""
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp")
        try:
            with open(fd, "wb") as stream:
                for line in lines:
                    stream.write(line)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
