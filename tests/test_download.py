"""Resume, retries, mirrors, the rewrite map and offline mode, against the loopback server."""

from __future__ import annotations

import logging
import os
import socket
import sys

import pytest
import yaml
from conftest import MNIST_ID
from httpserver import Fault
from resources import leftovers, serve_dataset, sha256, write_settings

import dmconf
from dmconf.cli import main
from dmconf.errors import ChecksumMismatch, DownloadError, OfflineError
from dmconf.fetch.retry import backoff_delay, parse_retry_after
from dmconf.settings import Settings

BIG = os.urandom(3 * (1 << 20) + 12345)  # a few chunks, so cuts land mid-file


def payload(env, dataset_id="test.big"):
    return (env.folder(dataset_id) / "payload").read_bytes()


def test_dropped_connection_resumes_with_range_and_if_range(env, server):
    write_settings(env)
    name = serve_dataset(env, server, "test.big", BIG)
    server.faults[name] = Fault(cut_after=(1 << 20) + 1000, times=1)
    dmconf.prepare("test.big")
    assert payload(env) == BIG
    first, second = server.requests_for(name)
    assert "Range" not in first.headers
    start = int(second.headers["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < start <= (1 << 20) + 1000
    assert second.headers["If-Range"].startswith('"')  # the ETag of the first answer
    assert first.sent + second.sent < len(BIG) + (1 << 20) + 1000  # nothing fetched twice
    assert leftovers(env.folder("test.big")) == []


def test_a_200_answer_to_a_range_starts_over_cleanly(env, server):
    write_settings(env, retries=0)
    name = serve_dataset(env, server, "test.big", BIG)
    server.faults[name] = Fault(cut_after=(1 << 20) + 10, times=1)
    with pytest.raises(DownloadError, match="dropped before the end"):
        dmconf.prepare("test.big")
    assert [p.endswith(".part") for p in leftovers(env.folder("test.big"))].count(True) == 1
    server.faults[name] = Fault(ignore_range=True)
    dmconf.prepare("test.big")
    assert payload(env) == BIG
    last = server.requests_for(name)[-1]
    assert last.headers["Range"].startswith("bytes=") and last.sent == len(BIG)


def test_a_file_changed_upstream_is_fetched_whole_again(env, server):
    """If-Range carries the old ETag: the server answers 200 with the new file, not a splice."""
    write_settings(env, retries=0)
    name = serve_dataset(env, server, "test.big", BIG)
    server.faults[name] = Fault(cut_after=(1 << 20) + 10, times=1)
    with pytest.raises(DownloadError):
        dmconf.prepare("test.big")
    changed = BIG[::-1]
    serve_dataset(env, server, "test.big", changed)
    dmconf.prepare("test.big")
    assert payload(env) == changed
    assert server.requests_for(name)[-1].sent == len(changed)


def test_a_stalled_transfer_times_out_and_resumes(env, server):
    write_settings(env, read_timeout=1.0)
    name = serve_dataset(env, server, "test.big", BIG)
    server.faults[name] = Fault(stall_after=2 << 20, stall=4, times=1)
    dmconf.prepare("test.big")
    assert payload(env) == BIG
    assert len(server.requests_for(name)) == 2
    assert server.requests_for(name)[1].headers["Range"] != "bytes=0-"


def test_a_connection_that_keeps_dropping_still_finishes_while_it_progresses(env, server):
    write_settings(env, retries=1)
    name = serve_dataset(env, server, "test.big", BIG)
    server.faults[name] = Fault(cut_after=1 << 20)  # every answer: 1 MiB, then the cut
    dmconf.prepare("test.big")
    assert payload(env) == BIG
    ranges = [r.headers.get("Range") for r in server.requests_for(name)]
    assert ranges == [None, *(f"bytes={n << 20}-" for n in (1, 2, 3))]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_transient_statuses_are_retried(env, server, status):
    write_settings(env)
    name = serve_dataset(env, server, "test.small", b"x" * 1000)
    server.faults[name] = Fault(status=status, times=2)
    dmconf.prepare("test.small")
    assert len(server.requests_for(name)) == 3


def test_retry_after_is_honoured(env, server, caplog):
    write_settings(env, backoff_max=5)
    name = serve_dataset(env, server, "test.small", b"x" * 1000)
    server.faults[name] = Fault(status=429, retry_after="1", times=1)
    with caplog.at_level(logging.WARNING, "dmconf"):
        dmconf.prepare("test.small")
    assert "retrying in 1.0 s (the server's Retry-After)" in caplog.text


def test_a_404_is_not_retried_and_the_mirror_is_tried(env, server):
    write_settings(env)
    server.files["mirror/payload.bin"] = b"m" * 5000
    name = serve_dataset(env, server, "test.small", b"m" * 5000,
                         mirrors=[server.url("mirror/payload.bin")])
    server.faults[name] = Fault(status=404)
    dmconf.prepare("test.small")
    assert len(server.requests_for(name)) == 1
    assert len(server.requests_for("mirror/payload.bin")) == 1


def test_retries_give_up_with_one_clear_line(env, server, capsys):
    write_settings(env, retries=2)
    name = serve_dataset(env, server, "test.small", b"x" * 1000)
    server.faults[name] = Fault(status=503)
    assert main(["prepare", "test.small"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("dmconf: error: ") and "HTTP 503" in err[-1]
    assert len(server.requests_for(name)) == 3
    folder = env.folder("test.small")
    assert leftovers(folder) == [] and not (folder / "payload").exists()


def test_connection_refused_is_a_clear_error(env, server, capsys):
    write_settings(env, retries=1)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve_dataset(env, server, "test.small", b"x")
    text = env.catalog.joinpath("test", "small.yaml")
    text.write_text(text.read_text().replace(f":{server.port}/", f":{port}/"))
    assert main(["prepare", "test.small"]) == 1
    assert "cannot connect" in capsys.readouterr().err.splitlines()[-1]


def test_wrong_bytes_are_deleted_and_the_next_mirror_is_tried(env, server, caplog):
    write_settings(env)
    good = b"good" * 1000
    server.files["mirror/payload.bin"] = good
    name = serve_dataset(env, server, "test.small", good,
                         mirrors=[server.url("mirror/payload.bin")])
    server.faults[name] = Fault(body=b"<html>oops</html>")
    with caplog.at_level(logging.WARNING, "dmconf"):
        dmconf.prepare("test.small")
    assert payload(env, "test.small") == good
    assert "checksum mismatch" in caplog.text and sha256(b"<html>oops</html>") in caplog.text


def test_wrong_bytes_everywhere_name_url_checksums_and_size(env, server):
    write_settings(env)
    name = serve_dataset(env, server, "test.small", b"good" * 1000)
    server.faults[name] = Fault(body=b"<html>oops</html>")
    with pytest.raises(ChecksumMismatch) as caught:
        dmconf.prepare("test.small")
    message = str(caught.value)
    assert server.url(name) in message and sha256(b"good" * 1000) in message
    assert sha256(b"<html>oops</html>") in message and "17 bytes" in message
    assert "check the URL" in message
    folder = env.folder("test.small")
    assert leftovers(folder) == [] and not (folder / "payload").exists()


def test_more_bytes_than_the_size_stop_the_transfer_and_the_mirror_is_tried(env, server,
                                                                           caplog):
    write_settings(env)
    server.files["mirror/payload.bin"] = BIG
    name = serve_dataset(env, server, "test.big", BIG, size=len(BIG),
                         mirrors=[server.url("mirror/payload.bin")])
    server.faults[name] = Fault(body=BIG * 3)  # an endless or wrong answer
    with caplog.at_level(logging.WARNING, "dmconf"):
        dmconf.prepare("test.big")
    assert payload(env) == BIG
    assert f"sent more than the {len(BIG)} bytes the definition expects" in caplog.text
    assert "checksum mismatch" not in caplog.text  # stopped before the end, not after
    assert leftovers(env.folder("test.big")) == []


def test_rewrite_map_sends_urls_to_a_lab_mirror(env, server):
    server.files["lab/mnist/payload.bin"] = BIG
    write_settings(env, mirrors={"http://yann.lecun.invalid/": server.url("lab/")})
    env.define("test.rewritten", yaml.safe_dump({
        "resources": {"payload": {"url": "http://yann.lecun.invalid/mnist/payload.bin",
                                  "sha256": sha256(BIG)}},
        "type": "file", "data": {"path": "payload"},
    }))
    dmconf.prepare("test.rewritten")
    assert payload(env, "test.rewritten") == BIG
    assert len(server.requests_for("lab/mnist/payload.bin")) == 1


def test_rewrite_longest_prefix_wins():
    from dmconf.materialise import rewrite as _rewrite

    mirrors = {"http://a/": "http://m1/", "http://a/b/": "file:///srv/b/"}
    assert _rewrite("http://a/b/c.gz", mirrors) == "file:///srv/b/c.gz"
    assert _rewrite("http://a/x.gz", mirrors) == "http://m1/x.gz"
    assert _rewrite("http://z/x.gz", mirrors) == "http://z/x.gz"


_connects: list[object] = []
_hooked = False


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect" and _connects and _connects[0] == "on":
        _connects.append(args[1])


@pytest.fixture
def socket_watch():
    """The addresses this process connects to while the fixture is active (audit hook)."""
    global _hooked
    if not _hooked:  # audit hooks cannot be removed: install one, switched on and off
        sys.addaudithook(_audit)
        _hooked = True
    _connects[:] = ["on"]
    yield _connects
    _connects[:] = []


def test_offline_prepared_datasets_work_without_a_socket(mnist_env, server, monkeypatch,
                                                          socket_watch, mnist):
    dmconf.prepare(MNIST_ID)
    assert socket_watch[1:]  # the hook sees real connections
    socket_watch[:] = ["on"]
    monkeypatch.setenv("DMCONF_OFFLINE", "1")
    ds = dmconf.prepare(MNIST_ID)
    assert (ds.test.labels.data() == mnist.arrays["test_labels"]).all()
    assert socket_watch[1:] == []


def test_offline_missing_file_is_a_clear_error_and_opens_no_socket(
    mnist_env, server, monkeypatch, socket_watch, capsys
):
    monkeypatch.setenv("DMCONF_OFFLINE", "1")
    with pytest.raises(OfflineError) as caught:
        dmconf.prepare(MNIST_ID)
    message = str(caught.value)
    target = mnist_env.folder(MNIST_ID) / "train_images"
    assert str(target) in message and "dmconf prepare test.mnist" in message
    assert server.url("mnist/train_images.gz") in message
    assert socket_watch[1:] == [] and server.log == []
    assert not mnist_env.folder(MNIST_ID).exists()  # nothing written either
    assert main(["prepare", MNIST_ID]) == 1
    assert capsys.readouterr().err.splitlines()[-1].startswith("dmconf: error: test.mnist: ")


def test_offline_uses_a_file_mirror_from_the_rewrite_map(env, server, monkeypatch, tmp_path,
                                                         socket_watch):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "payload.bin").write_bytes(BIG)
    serve_dataset(env, server, "test.big", BIG)
    write_settings(env, mirrors={server.url("test.big/"): shared.as_uri() + "/"})
    monkeypatch.setenv("DMCONF_OFFLINE", "1")
    dmconf.prepare("test.big")
    assert payload(env) == BIG and socket_watch[1:] == [] and server.log == []


def test_parse_retry_after():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert 50 < parse_retry_after(_http_date(60)) <= 60


def _http_date(seconds_ahead: float) -> str:
    import time
    from email.utils import formatdate

    return formatdate(time.time() + seconds_ahead, usegmt=True)


def test_backoff_grows_with_jitter_and_is_capped():
    settings = Settings(backoff=1.0, backoff_max=10.0)
    for attempt, ceiling in [(0, 1), (1, 2), (2, 4), (3, 8), (4, 10), (9, 10)]:
        delays = {backoff_delay(attempt, settings) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert backoff_delay(0, settings, retry_after=3) == 3
    assert backoff_delay(0, settings, retry_after=3600) == 10


def _leftover(env, dataset_id: str, owner: str, data: bytes):
    """A partial file as a process ``owner`` (pid@host) would have left it."""
    folder = env.folder(dataset_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".payload.{owner}.part"
    path.write_bytes(data)
    return path


def _dead_pid() -> int:
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_complete_partial_without_sha256_is_finished_by_a_416(env, server, caplog):
    from dmconf.fetch.download import HOST

    write_settings(env)
    name = serve_dataset(env, server, "test.big", BIG)
    text = env.catalog.joinpath("test", "big.yaml")
    text.write_text("\n".join(
        line for line in text.read_text().splitlines() if "sha256" not in line))
    _leftover(env, "test.big", f"{_dead_pid()}@{HOST}", BIG)
    with caplog.at_level(logging.WARNING, "dmconf"):
        dmconf.prepare("test.big")
    assert payload(env) == BIG and "has no sha256" in caplog.text
    (only,) = server.requests_for(name)
    assert only.headers["Range"] == f"bytes={len(BIG)}-" and only.sent == 0
    assert leftovers(env.folder("test.big")) == []


def test_a_corrupt_partial_is_detected_and_fetched_again_from_zero(env, server, caplog):
    from dmconf.fetch.download import HOST

    write_settings(env)
    name = serve_dataset(env, server, "test.big", BIG)
    _leftover(env, "test.big", f"{_dead_pid()}@{HOST}", b"\0" * (1 << 20))  # torn by NFS, say
    with caplog.at_level(logging.WARNING, "dmconf"):
        dmconf.prepare("test.big")
    assert payload(env) == BIG and "resumed download of payload does not match" in caplog.text
    resumed, fresh = server.requests_for(name)
    assert resumed.headers["Range"] == f"bytes={1 << 20}-" and "Range" not in fresh.headers


def test_partials_of_live_processes_and_recent_other_hosts_are_left_alone(env, server):
    import subprocess
    import time

    from dmconf.fetch.download import HOST

    write_settings(env)
    name = serve_dataset(env, server, "test.big", BIG)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        try:
            mine = _leftover(env, "test.big", f"{alive.pid}@{HOST}", b"x")
            recent = _leftover(env, "test.big", "12@other-node.cluster", b"y")
            stale = _leftover(env, "test.big", "13@old-node.cluster", BIG[:1000])
            day_ago = time.time() - 2 * 24 * 3600
            os.utime(stale, (day_ago, day_ago))
            dmconf.prepare("test.big")
        finally:
            alive.kill()
    assert payload(env) == BIG
    assert mine.read_bytes() == b"x" and recent.read_bytes() == b"y"  # untouched
    assert not stale.exists()  # adopted: resumed from its 1000 bytes
    assert [r.headers.get("Range") for r in server.requests_for(name)] == ["bytes=1000-"]


def test_resources_of_a_dataset_download_in_parallel(mnist_env, server, mnist):
    """While one resource is held by the server, the three others finish."""
    import threading
    import time

    gate = threading.Event()
    server.faults["mnist/train_images.gz"] = Fault(stall_after=1 << 20, gate=gate, stall=120)
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(dmconf.prepare(MNIST_ID)))
    worker.start()
    folder = mnist_env.folder(MNIST_ID)
    others = [folder / key for key in mnist.gz if key != "train_images"]
    try:
        deadline = time.monotonic() + 120
        while not all(p.exists() for p in others) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert all(p.exists() for p in others) and not (folder / "train_images").exists()
    finally:
        gate.set()
        worker.join(120)
    assert outcome and (outcome[0].train.images.data() == mnist.arrays["train_images"]).all()


def test_the_pipelined_sink_writes_and_hashes_every_byte_in_order_and_resumes(tmp_path):
    """The partial file is written and hashed on the pipe's thread, behind the receiving one:
    what reaches the disk and the digests are the bytes written, in order, and a later run
    resumes from the file as written (replayed through the same digests)."""
    import hashlib

    from dmconf.fetch.download import QUEUED, Download
    from dmconf.progress import Bar

    part = tmp_path / "x.part"
    chunks = [BIG[i:i + 65536] for i in range(0, len(BIG), 65536)]
    assert len(chunks) > 4 * QUEUED  # the queue fills: the receiver waits for the writer
    cut = len(chunks) // 3
    first = Download(part, None, Bar("t", False), md5=True)
    first.begin("http://x/y", 0, '"v1"', len(BIG))
    for chunk in chunks[:cut]:
        first.write(chunk)
    first.close()  # an interrupted transfer: the bytes received are on disk
    assert part.read_bytes() == b"".join(chunks[:cut])
    again = Download(part, None, Bar("t", False), md5=True)
    assert again.resume_point("http://x/y") == (len(part.read_bytes()), '"v1"')
    again.begin("http://x/y", again.size, '"v1"', len(BIG))
    for chunk in chunks[cut:]:
        again.write(chunk)
    assert again.hexdigest() == sha256(BIG)
    assert again.md5.hexdigest() == hashlib.md5(BIG).hexdigest()
    again.close()
    assert part.read_bytes() == BIG
    again = Download(part, None, Bar("t", False), md5=False)
    again.restart()  # wrong bytes are never kept
    again.write(b"abc")
    assert again.hexdigest() == sha256(b"abc")
    again.close()
    assert part.read_bytes() == b"abc"


@pytest.mark.parametrize("unpack", ["none", "gunzip"])
def test_an_answer_stalled_mid_body_is_one_read_timeout_line(env, server, unpack):
    """The body is read beneath urllib3 (plain: into reused buffers): a stall still says so."""
    import gzip
    import threading

    write_settings(env, retries=0, read_timeout=0.3)
    data = gzip.compress(BIG, compresslevel=1) if unpack == "gunzip" else BIG
    name = serve_dataset(env, server, "test.stall", data, unpack=unpack)
    gate = threading.Event()
    server.faults[name] = Fault(stall_after=1 << 20, stall=30, gate=gate, times=1)
    try:
        with pytest.raises(DownloadError, match=r"no data for too long \(read timeout\)$"):
            dmconf.prepare("test.stall")
    finally:
        gate.set()


@pytest.mark.parametrize("unpack", ["none", "gunzip"])
@pytest.mark.parametrize("cut", [None, (1 << 20) + 1000])
def test_a_chunked_answer_is_read_whole_and_a_cut_one_resumes(env, server, unpack, cut):
    import gzip

    write_settings(env, retries=1)
    data = gzip.compress(BIG, compresslevel=1) if unpack == "gunzip" else BIG
    name = serve_dataset(env, server, "test.chunked", data, unpack=unpack)
    server.faults[name] = Fault(chunked=True, cut_after=cut, times=None if cut is None else 1)
    dmconf.prepare("test.chunked")
    assert payload(env, "test.chunked") == BIG
    requests = server.requests_for(name)
    assert len(requests) == (1 if cut is None else 2)
    if cut is not None:  # the bytes of the cut answer were kept: the second asks for the rest
        assert 0 < int(requests[1].headers["Range"].removeprefix("bytes=").rstrip("-")) <= cut
    assert leftovers(env.folder("test.chunked")) == []


def test_the_reused_buffers_are_never_written_again_before_the_pipe_is_done(tmp_path):
    """A plain download reads into a ring of QUEUED + 2 buffers while its pipe writes and
    hashes them behind: with the pipe slower than the reads (the queue full), every byte still
    reaches the file and the digests as read, through short reads and a last partial chunk."""
    import hashlib
    import io
    import time

    from dmconf.fetch.download import CHUNK, QUEUED, Download
    from dmconf.progress import Bar

    class SlowDisk(Download):
        def _store(self, data):  # the pipe's thread: a disk slower than the network
            time.sleep(0.002)
            super()._store(data)

    class Trickle(io.BytesIO):  # a socket answers what it holds: short reads
        def readinto(self, buffer):
            return super().readinto(memoryview(buffer)[:300_000])

    source = os.urandom((QUEUED + 4) * CHUNK + 12345)
    part = tmp_path / "x.part"
    download = SlowDisk(part, None, Bar("t", False), md5=True)
    body = Trickle(source)
    while download.write_from(body):
        pass
    assert download.hexdigest() == sha256(source)
    assert download.md5.hexdigest() == hashlib.md5(source).hexdigest()
    download.close()
    assert part.read_bytes() == source
