"""HTTP(S) downloads with requests: streamed in large chunks, resumed with ``Range``.

A partial download continues with ``Range: bytes=N-`` and, when the server gave a strong
validator (an ``ETag``, else ``Last-Modified``), ``If-Range``, so a file that changed upstream
comes back whole (200) rather than spliced. A 200 answer to a range request starts over
cleanly. Failures say whether another attempt may help (``transient``): connection errors,
timeouts, 408, 425, 429 and 5xx do; other 4xx do not.
"""

from __future__ import annotations

import http.client
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import requests
import urllib3

from dmconf import __version__
from dmconf.credentials.session import CredentialSession
from dmconf.errors import DownloadError
from dmconf.fetch.base import CHUNK_SIZE, BodySink, Fetcher, Sink
from dmconf.fetch.retry import parse_retry_after

# identity: the checksum is of the file as published, so ask servers not to re-encode it.
HEADERS = {
    "User-Agent": f"dmconf/{__version__} (+https://pypi.org/project/dmconf/)",
    "Accept-Encoding": "identity",
}
TRANSIENT_STATUS = frozenset({408, 425, 429})
# Errors another attempt cannot fix: a bad URL, a certificate that does not verify.
PERMANENT = (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
             requests.exceptions.InvalidSchema, requests.exceptions.URLRequired,
             requests.exceptions.SSLError, urllib3.exceptions.SSLError,
             urllib3.exceptions.LocationParseError)
CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)")


class HTTPFetcher(Fetcher):
    """GET the URL (the rest of it, when the sink holds a part) and stream the body."""

    def fetch(self, url: str, sink: Sink) -> None:
        self.get(url, url, sink)

    def get(self, url: str, target: str, sink: Sink, extra: dict[str, str] | None = None) -> None:
        """Stream ``target`` (an http(s) URL) into the sink as the bytes of ``url``, the URL
        named in messages and remembered with a partial download (they differ for schemes
        that resolve to HTTP, such as ``hf://``); ``extra`` headers are sent too."""
        offset, validator = sink.resume_point(url)
        headers = {**HEADERS, **(extra or {})}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if validator:
                headers["If-Range"] = validator
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        try:
            with CredentialSession(self.settings) as session, session.get(
                    target, stream=True, timeout=timeout, headers=headers) as response:
                total = self._begin(url, response, offset, sink, session)
                if total == 0:
                    return  # a 416 that says the bytes held are the whole file: its body is not
                received = 0
                # The raw stream: the bytes as sent, never decoded (a .gz served with
                # Content-Encoding: gzip is hashed as the file it is).
                body = _Body.of(response, url)
                if body is not None and isinstance(sink, BodySink):
                    while count := sink.write_from(body):
                        received += count
                else:
                    for chunk in response.raw.stream(CHUNK_SIZE, decode_content=False):
                        sink.write(chunk)
                        received += len(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            transient = not isinstance(exc, PERMANENT)
            raise DownloadError(f"{url}: {_reason(exc)}", url=url, transient=transient) from None
        if total is not None and received < total:
            raise DownloadError(
                f"{url}: the transfer stopped after {received} of {total} bytes",
                url=url, transient=True,
            )

    def _begin(
        self, url: str, response: requests.Response, offset: int, sink: Sink,
        session: CredentialSession,
    ) -> int | None:
        """Check the status, tell the sink where the answer starts; return the bytes to come."""
        status = response.status_code
        start, size = _content_range(response.headers.get("Content-Range"))
        if status == 416 and offset and size == offset:
            sink.begin(url, offset, _validator(response), size)  # held bytes were all of it
            return 0
        if status == 416 or (status == 206 and start != offset):
            sink.begin(url, 0, None, None)  # the held bytes are of no use: start over
            raise DownloadError(
                f"{url}: the server refused to continue at byte {offset}; starting over",
                url=url, status=status, transient=True,
            )
        if status in (401, 403):  # who answered, and which rule's credential it was shown
            raise DownloadError(
                f"{url}: the server answered HTTP {status} {response.reason or ''}".rstrip(),
                url=url, status=status, answered=response.url or url,
                credential=session.credential.describe() if session.credential else None,
                advice=self.explain(url, response),
            )
        if status >= 400:
            transient = status in TRANSIENT_STATUS or status >= 500
            default = f"{url}: the server answered HTTP {status} {response.reason or ''}".rstrip()
            raise DownloadError(
                self.explain(url, response) or default,
                url=url, status=status, transient=transient,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None  # of the raw body
        begin_at = offset if status == 206 else 0  # 200 to a range: the whole file again
        full = size if status == 206 else expected
        sink.begin(url, begin_at, _validator(response), full)
        sink.content_type = response.headers.get("Content-Type")
        return expected


    def explain(self, url: str, response: requests.Response) -> str | None:
        """A message for an HTTP error that says more than its status, or None."""
        return None


class _Body:
    """An answer's body read by :mod:`http.client` beneath urllib3, into the sink's buffers
    (urllib3's ``readinto`` reads a new ``bytes`` and copies it). ``http.client`` never decodes
    (the bytes as sent) and undoes chunked encoding. Failures are raised as urllib3's ``stream``
    raises them (``HTTPResponse._error_catcher``), so each keeps its message (:func:`_reason`).
    """

    def __init__(self, answer: http.client.HTTPResponse, url: str) -> None:
        self._answer, self._url = answer, url

    @classmethod
    def of(cls, response: requests.Response, url: str) -> _Body | None:
        """The body of ``response`` when urllib3 holds an ``http.client`` answer (requests
        reads the same attribute for cookies); None: urllib3 streams it."""
        answer = getattr(response.raw, "_original_response", None)
        return cls(answer, url) if isinstance(answer, http.client.HTTPResponse) else None

    def read(self, size: int) -> bytes:
        with self._errors():
            data = self._answer.read(size)
            self._check(len(data), size)
        return data

    def readinto(self, buffer: memoryview) -> int:
        with self._errors():
            count = self._answer.readinto(buffer)
            self._check(count, len(buffer))
        return count

    def _check(self, count: int, asked: int) -> None:
        """http.client answers nothing when the connection closes early; urllib3 raises."""
        if count == 0 and asked and self._answer.length:
            raise http.client.IncompleteRead(b"", self._answer.length)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except TimeoutError as exc:  # socket.timeout
            raise urllib3.exceptions.ReadTimeoutError(
                None, self._url, "Read timed out.") from exc  # type: ignore[arg-type]
        except ssl.SSLError as exc:
            raise urllib3.exceptions.SSLError(exc) from exc
        except (http.client.HTTPException, OSError) as exc:
            raise urllib3.exceptions.ProtocolError(f"Connection broken: {exc!r}", exc) from exc


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """``(first byte, full size)`` of a ``Content-Range`` header (None where absent)."""
    match = CONTENT_RANGE.fullmatch(value.strip()) if value else None
    if not match:
        return None, None
    first, size = match.groups()
    return (int(first) if first else None), (int(size) if size != "*" else None)


def _validator(response: requests.Response) -> str | None:
    """What If-Range may carry: a strong ETag, else Last-Modified."""
    etag = response.headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return response.headers.get("Last-Modified")


def _reason(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.SSLError | urllib3.exceptions.SSLError):
        return (f"the TLS connection failed ({_innermost(exc)}); if the certificate does not "
                "verify, the server or a proxy is misconfigured: use a mirror, or set "
                "REQUESTS_CA_BUNDLE to your organisation's certificate authorities")
    if isinstance(exc, PERMANENT):
        return f"invalid URL ({_innermost(exc)}); fix it in the definition or the mirrors"
    if isinstance(exc, requests.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError):
        return "timed out while connecting"
    if isinstance(exc, requests.ReadTimeout | urllib3.exceptions.ReadTimeoutError) or (
            "Read timed out" in str(exc)):
        return "no data for too long (read timeout)"
    if isinstance(exc, urllib3.exceptions.ProtocolError | urllib3.exceptions.DecodeError) or (
        isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.ConnectionError)
        and ("IncompleteRead" in str(exc) or "Connection broken" in str(exc))
    ):
        return "the connection dropped before the end of the transfer"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect (no network, wrong host, or the server is down)"
    return str(exc)


def _innermost(exc: BaseException) -> str:
    """The message of the deepest cause (requests wraps urllib3 wraps ssl)."""
    seen = exc
    while True:
        nested = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        nested = nested or getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
        if not isinstance(nested, BaseException) or nested is seen:
            break
        seen = nested
    return " ".join(str(seen).split())
