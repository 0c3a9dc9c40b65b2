"""A real HTTP server on 127.0.0.1 for the tests, serving bytes the tests generated.

It logs every request (method, path, headers) so tests can check what was fetched and how
often, and it supports ``Range`` requests like a real static file server. Paths can be given
*faults* (see :class:`Fault`) to behave like the unreliable servers users meet.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Fault:
    """How one path misbehaves. Each field is applied while its counter is positive.

    status: answer this HTTP status (e.g. 404, 503) instead of the file, ``times`` times
    cut_after: send only this many body bytes, then drop the connection
    ignore_range: answer 200 with the whole file even when a Range is asked
    stall: sleep this many seconds before answering (or, with stall_after, mid-body)
    stall_after: send this many body bytes, then stall, then send the rest
    gate: with stall_after, wait for this event (at most ``stall`` seconds) instead of sleeping
    rate: send at most this many bytes a second (a slower network, for benchmarks)
    body: serve these bytes instead of the file (wrong content)
    retry_after: with status 429/503, the Retry-After header to send
    headers: more headers to send (Content-Encoding, Content-Type, Content-Range...)
    status_body: with status, this body instead of an HTML error page
    redirect: answer 302 with this Location (another path, port or host)
    require: headers a request must carry with these exact values (Authorization...): when one
        is missing the answer is 401 (with WWW-Authenticate), when one is wrong ``refuse``
    refuse: the status for wrong credentials (401 or 403)
    chunked: send the body with ``Transfer-Encoding: chunked`` (no Content-Length)
    times: how many requests the fault applies to (None: all)
    """

    status: int | None = None
    cut_after: int | None = None
    ignore_range: bool = False
    stall: float = 0.0
    stall_after: int | None = None
    gate: threading.Event | None = None
    rate: float | None = None
    body: bytes | None = None
    retry_after: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    status_body: bytes | None = None
    redirect: str | None = None
    require: dict[str, str] = field(default_factory=dict)
    refuse: int = 401
    chunked: bool = False
    times: int | None = None


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    sent: int = 0  # body bytes written to the client


@dataclass
class FileServer:
    """Serves ``files`` (path -> bytes) on 127.0.0.1; ``url(path)`` gives their URLs.

    ``answers`` (path -> function of the parsed query string) serve what the function returns
    (None: 404), for paths whose answer depends on the query (an API).
    """

    files: dict[str, bytes] = field(default_factory=dict)
    answers: dict[str, Callable[[dict[str, list[str]]], bytes | None]] = field(
        default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    log: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def requests_for(self, path: str) -> list[Request]:
        path = "/" + path.lstrip("/")
        with self.lock:
            return [r for r in self.log if r.path == path]

    def reset(self) -> None:
        with self.lock:
            self.log.clear()
            self.faults.clear()

    def _fault(self, path: str) -> Fault | None:
        with self.lock:
            fault = self.faults.get(path.lstrip("/"))
            if fault is None:
                return None
            if fault.times is not None:
                if fault.times <= 0:
                    return None
                fault.times -= 1
            return fault


def make_handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def handle(self) -> None:
            # the client may go away (killed, timed out, gave up on an error page)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            path = self.path.split("?", 1)[0]
            request = Request(self.command, path, dict(self.headers.items()))
            with server.lock:
                server.log.append(request)
            fault = server._fault(path)
            if fault and fault.stall and fault.stall_after is None:
                time.sleep(fault.stall)
            if fault and fault.redirect:
                self.send_response(302)
                self.send_header("Location", fault.redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if fault and fault.require:
                missing = [n for n in fault.require if self.headers.get(n) is None]
                wrong = [n for n, v in fault.require.items() if self.headers.get(n) not in (
                    None, v)]
                if missing or wrong:
                    status = fault.refuse if wrong else 401
                    self.send_response(status)
                    if status == 401:
                        self.send_header("WWW-Authenticate", 'Basic realm="test"')
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            if fault and fault.status:
                self.send_response(fault.status)
                if fault.retry_after is not None:
                    self.send_header("Retry-After", fault.retry_after)
                page = f"<html><body>error {fault.status}</body></html>".encode()
                if fault.status_body is not None:
                    page = fault.status_body
                for name, value in fault.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                if body:
                    self.wfile.write(page)
                return
            content = server.files.get(path.lstrip("/"))
            answer = server.answers.get(path.lstrip("/"))
            if answer is not None:
                content = answer(parse_qs(self.path.partition("?")[2]))
            if fault and fault.body is not None:
                content = fault.body
            if content is None:
                page = b"<html><body>404 not found</body></html>"
                self.send_response(404)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                if body:
                    self.wfile.write(page)
                return
            etag = f'"{len(content)}-{hash(content) & 0xFFFFFFFF:x}"'
            start, status = 0, 200
            wanted = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            if wanted and not (fault and fault.ignore_range) and (not if_range or if_range == etag):
                spec = wanted.removeprefix("bytes=").split("-")[0]
                if spec.isdigit() and int(spec) < len(content):
                    start, status = int(spec), 206
                elif spec.isdigit():
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(content)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            payload = content[start:]
            self.send_response(status)
            extra = fault.headers if fault else {}
            for name, value in extra.items():
                self.send_header(name, value)
            if "Content-Type" not in extra:
                self.send_header("Content-Type", "application/octet-stream")
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "bytes")
            if fault and fault.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(payload)))
            if status == 206:
                last = len(content) - 1
                self.send_header("Content-Range", f"bytes {start}-{last}/{len(content)}")
            self.end_headers()
            if body:
                self._send(request, fault, payload)

        def _send(self, request: Request, fault: Fault | None, payload: bytes) -> None:
            if fault and fault.chunked:
                self._send_chunked(request, fault, payload)
                return
            if fault and fault.cut_after is not None:
                self.wfile.write(payload[: fault.cut_after])
                request.sent += len(payload[: fault.cut_after])
                self.wfile.flush()
                self.close_connection = True
                return
            view = memoryview(payload)
            if fault and fault.stall_after is not None:
                self.wfile.write(view[: fault.stall_after])
                request.sent += len(view[: fault.stall_after])
                self.wfile.flush()
                if fault.gate is not None:
                    fault.gate.wait(fault.stall)
                else:
                    time.sleep(fault.stall)
                view = view[fault.stall_after :]
            step = 1 << 20 if not (fault and fault.rate) else max(1, int(fault.rate / 20))
            started = time.monotonic()
            for offset in range(0, len(view), step):
                self.wfile.write(view[offset : offset + step])
                request.sent += len(view[offset : offset + step])
                if fault and fault.rate:
                    time.sleep(max(0.0, started + request.sent / fault.rate - time.monotonic()))

        def _send_chunked(self, request: Request, fault: Fault, payload: bytes) -> None:
            """The body in chunks of 100,000 bytes (a cut drops the connection mid-chunk)."""
            cut = len(payload) if fault.cut_after is None else fault.cut_after
            for offset in range(0, len(payload), 100_000):
                chunk = payload[offset : offset + 100_000]
                framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
                if offset + len(chunk) > cut:
                    self.wfile.write(framed[: framed.index(b"\r\n") + 2 + cut - offset])
                    request.sent += cut - offset
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(framed)
                request.sent += len(chunk)
            self.wfile.write(b"0\r\n\r\n")

    return Handler


class Running:
    """A FileServer running in a thread; stop() shuts it down."""

    def __init__(self) -> None:
        self.state = FileServer()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.httpd.daemon_threads = True
        self.state.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
