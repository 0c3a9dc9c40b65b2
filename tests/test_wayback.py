"""datamaestro's ``wayback_documents``, fetched by dmconf from a loopback "Wayback Machine".

The archive is the suite's HTTP server: an availability API answering from a table of
snapshots, and the snapshots' raw (``id_``) pages; the settings' ``mirrors:`` map
``https://archive.org/`` and ``https://web.archive.org/`` to it. ``_download`` is called on the
resource of a class-based dataset written as a ported plugin writes it.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from httpserver import Fault, FileServer

from dmconf.compat.datamaestro.data import File
from dmconf.compat.datamaestro.definitions import Dataset, dataset
from dmconf.compat.datamaestro.download.wayback import wayback_documents
from dmconf.errors import DefinitionError, DownloadError, OfflineError, StepFailed
from dmconf.settings import Settings

TS = "20191127"
SNAPSHOT_TS = "20191127093012"


def content(links: Callable[[], Iterable[str]]) -> wayback_documents:
    """The resource of a dataset like datamaestro-text's ``com.github.apple.ml-qrecc.content``."""

    @dataset(id="test.wayback.content")
    class Content(Dataset):
        """Pages the conversations mention"""

        WAYBACK_DOCS = wayback_documents(TS, links, name="wayback.jsonl")

        def config(self) -> File:
            return File.C(path=self.WAYBACK_DOCS.path)

    return Content.WAYBACK_DOCS


@dataclass
class Archive:
    """A Wayback Machine on the loopback server, under its own prefix."""

    server: FileServer
    prefix: str
    closest: dict[str, str] = field(default_factory=dict)  # link -> closest.url answered
    down: bool = False

    @property
    def availability(self) -> str:
        return f"{self.prefix}/archive/wayback/available"

    def page(self, link: str, body: bytes, content_type: str = "text/html; charset=utf-8"
             ) -> None:
        """Archive ``link`` with this page."""
        self.closest[link] = f"http://web.archive.org/web/{SNAPSHOT_TS}/{link}"
        path = self.page_path(link)
        self.server.files[path] = body
        self.server.faults[path] = Fault(headers={"Content-Type": content_type})

    def page_path(self, link: str) -> str:
        return f"{self.prefix}/web/web/{SNAPSHOT_TS}id_/{link}"

    def answer(self, query: dict[str, list[str]]) -> bytes | None:
        if self.down:
            return None
        link = query["url"][0]
        assert query["timestamp"] == [TS]
        if link not in self.closest:
            return json.dumps({"url": link, "archived_snapshots": {}}).encode()
        snapshot = {"available": True, "url": self.closest[link], "timestamp": SNAPSHOT_TS,
                    "status": "200"}
        return json.dumps({"url": link, "archived_snapshots": {"closest": snapshot}}).encode()

    def settings(self, tmp_path: Path, **more: Any) -> Settings:
        mirrors = {"https://archive.org/": self.server.url(f"{self.prefix}/archive/"),
                   "https://web.archive.org/": self.server.url(f"{self.prefix}/web/")}
        values: dict[str, Any] = {"data": tmp_path / "data", "mirrors": mirrors, "retries": 1,
                                  "backoff": 0, "progress": False, **more}
        return Settings(**values)

    def asked(self) -> int:
        return len(self.server.requests_for(self.availability))


@pytest.fixture
def archive(server: FileServer) -> Archive:
    made = Archive(server, f"wb-{uuid.uuid4().hex[:8]}")
    server.answers[made.availability] = made.answer
    return made


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_pages_through_mirrors_in_url_order_and_a_stable_file(archive, server, tmp_path):
    archive.page("https://b.example/page", "<p>été</p>".encode())
    archive.page("https://a.example/x/y", b"<p>a</p>")
    archive.page("https://c.example/latin", "<p>café</p>".encode("latin-1"),
                 "text/html; charset=ISO-8859-1")
    archive.page("https://d.example/", b"<p>d</p>")  # a mirror answering with its own URLs
    archive.closest["https://d.example/"] = server.url(
        f"{archive.prefix}/web/web/{SNAPSHOT_TS}/https://d.example/")
    archive.page("https://e.example/", b"<p>e</p>")  # a link that is a snapshot already
    snapshot = f"http://web.archive.org/web/{SNAPSHOT_TS}/https://e.example/"
    links = ["https://b.example/page", "https://a.example/x/y", "https://z.example/missing",
             "https://c.example/latin", "https://a.example/x/y", "https://d.example/", snapshot]
    resource = content(lambda: iter(links))
    out = tmp_path / "one" / "wayback.jsonl"
    out.parent.mkdir()
    resource._download(out, archive.settings(tmp_path))

    got = records(out)
    assert [r["link"] for r in got] == sorted(set(links))
    pages = {r["link"]: r for r in got}
    assert pages["https://a.example/x/y"] == {
        "link": "https://a.example/x/y", "id":
        f"https://web.archive.org/web/{SNAPSHOT_TS}id_/https://a.example/x/y",
        "contents": "<p>a</p>"}
    assert pages["https://b.example/page"]["contents"] == "<p>été</p>"
    assert pages["https://c.example/latin"]["contents"] == "<p>café</p>"
    assert pages["https://d.example/"]["contents"] == "<p>d</p>"
    assert pages[snapshot]["contents"] == "<p>e</p>"
    missing = pages["https://z.example/missing"]
    assert missing["available"] is False and missing["status_code"] is None
    assert "no snapshot" in missing["reason"] and missing["page_id"]
    # one question per archived link (none for the snapshot link); datamaestro asks three
    # times before believing "no snapshot"
    assert archive.asked() == 4 + 3
    agent = archive.server.requests_for(archive.page_path("https://a.example/x/y"))[0]
    assert agent.headers["User-Agent"].startswith("dmconf/")
    assert leftovers(out.parent) == []  # no progress file, no temporary file

    again = tmp_path / "two" / "wayback.jsonl"
    again.parent.mkdir()
    resource._download(again, archive.settings(tmp_path))
    assert again.read_bytes() == out.read_bytes()


def test_429_then_success_honours_retry_after(archive, server, tmp_path, caplog):
    archive.page("https://a.example/", b"<p>a</p>")
    server.faults[archive.availability] = Fault(status=429, retry_after="1", times=1)
    out = tmp_path / "wayback.jsonl"
    with caplog.at_level(logging.WARNING, logger="dmconf"):
        content(lambda: ["https://a.example/"])._download(out, archive.settings(tmp_path))
    assert records(out)[0]["contents"] == "<p>a</p>"
    assert archive.asked() == 2
    assert any("retrying in 1.0 s (the server's Retry-After)" in r.getMessage()
               for r in caplog.records)


def test_hostile_answers_and_urls_are_recorded_never_followed(archive, server, tmp_path):
    elsewhere = f"{archive.prefix}/secret/web/{SNAPSHOT_TS}/https://h.example/"
    server.files[elsewhere] = b"secret"
    archive.page("https://a.example/good", b"<p>good</p>")
    hostile = {
        "https://h.example/file": "file:///etc/passwd",
        "https://h.example/loopback": server.url(elsewhere),
        "https://h.example/lookalike": f"http://web.archive.org.evil.test/web/{SNAPSHOT_TS}/x",
        "https://h.example/userinfo": f"http://web.archive.org@evil.test/web/{SNAPSHOT_TS}/x",
        "https://h.example/shape": "http://web.archive.org/about/",
    }
    archive.closest.update(hostile)
    archive.page("https://n.example/bytes", b"<p>\xff\xfe</p>")
    archive.page("https://n.example/charset", b"x", "text/html; charset=no-such-charset")
    data = ["file:///etc/passwd", "ftp://a.example/x", "http://", "https://a.example/ sp"]
    links = [*hostile, "https://a.example/good", "https://n.example/bytes",
             "https://n.example/charset", *data]
    out = tmp_path / "wayback.jsonl"
    content(lambda: links)._download(out, archive.settings(tmp_path))

    got = {r["link"]: r for r in records(out)}
    assert got["https://a.example/good"]["contents"] == "<p>good</p>"
    for link in hostile:
        assert got[link]["available"] is False and "not followed" in got[link]["reason"]
    assert server.requests_for(elsewhere) == []
    assert "not utf-8 text" in got["https://n.example/bytes"]["reason"]
    assert "unknown charset" in got["https://n.example/charset"]["reason"]
    for link in data:
        assert got[link]["reason"] == "not an http(s) URL"
    # only the archive was asked, and never about the URLs that are not http(s) ones
    assert archive.asked() == len(hostile) + 3


@pytest.mark.parametrize("answer", [b"<html>not json</html>", b"[]",
                                    b'{"archived_snapshots": []}',
                                    b'{"archived_snapshots": {"closest": {"url": 7}}}'])
def test_a_malformed_availability_answer_is_no_answer(archive, server, tmp_path, answer):
    archive.page("https://a.example/good", b"<p>good</p>")
    server.answers[archive.availability] = lambda query: (
        archive.answer(query) if query["url"] == ["https://a.example/good"] else answer)
    out = tmp_path / "wayback.jsonl"
    content(lambda: ["https://a.example/good", "https://b.example/bad"])._download(
        out, archive.settings(tmp_path))
    bad = records(out)[1]
    assert bad["available"] is False and bad["link"] == "https://b.example/bad"
    assert "/wayback/available" in bad["reason"]


def test_an_oversize_page_is_refused_with_the_limit(archive, tmp_path):
    archive.page("https://a.example/huge", b"x" * 5000)
    archive.page("https://a.example/small", b"<p>ok</p>")
    out = tmp_path / "wayback.jsonl"
    settings = archive.settings(tmp_path, download_max_size=1000)
    content(lambda: ["https://a.example/huge", "https://a.example/small"])._download(out, settings)
    huge, small = records(out)
    assert huge["available"] is False and "than the 1000 bytes" in huge["reason"]
    assert huge["wayback_url"].endswith("id_/https://a.example/huge")
    assert small["contents"] == "<p>ok</p>"


def test_a_missing_snapshot_page_is_recorded_with_its_status(archive, server, tmp_path):
    archive.page("https://a.example/gone", b"")
    del server.files[archive.page_path("https://a.example/gone")]
    out = tmp_path / "wayback.jsonl"
    content(lambda: ["https://a.example/gone"])._download(out, archive.settings(tmp_path))
    assert records(out)[0]["status_code"] == 404


@pytest.mark.parametrize("network", ["server error", "no server"])
def test_when_every_url_fails_the_prepare_fails_and_writes_nothing(
        archive, server, tmp_path, network):
    links = [f"https://a.example/{n}" for n in range(8)]
    settings = archive.settings(tmp_path, retries=0)
    if network == "server error":
        server.faults[archive.availability] = Fault(status=503)
    else:  # nothing listens on port 9 of the loopback (discard): connection refused
        settings = settings.model_copy(update={"mirrors": {
            "https://archive.org/": "http://127.0.0.1:9/", "https://web.archive.org/":
            "http://127.0.0.1:9/"}})
    out = tmp_path / "wayback.jsonl"
    with pytest.raises(DownloadError) as failed:
        content(lambda: links)._download(out, settings)
    message = str(failed.value)
    assert message.startswith("test.wayback.content: wayback_documents 'wayback.jsonl'")
    assert "https://a.example/4" in message and "Check the network" in message
    assert "5 URLs in a row" in message  # it stopped there, without asking about the others
    assert not out.exists()
    with pytest.raises(DownloadError, match="2 URLs in a row"):
        content(lambda: links[:2])._download(out, settings)
    assert not out.exists()
    if network == "server error":
        assert archive.asked() == 5 + 2


def test_an_interrupted_run_resumes_without_asking_again(archive, server, tmp_path):
    links = [f"https://a.example/{n}" for n in range(10)]
    for link in links[::2]:
        archive.page(link, f"<p>{link}</p>".encode())
    fresh = tmp_path / "fresh.jsonl"
    content(lambda: links)._download(fresh, archive.settings(tmp_path))
    server.log.clear()

    answered = archive.answer

    def goes_down(query: dict[str, list[str]]) -> bytes | None:
        archive.down = len(server.requests_for(archive.availability)) > 5
        return answered(query)

    server.answers[archive.availability] = goes_down
    out = tmp_path / "run" / "wayback.jsonl"
    out.parent.mkdir()
    with pytest.raises(DownloadError, match=r"3 of 10 URLs are kept in .*the next prepare"):
        content(lambda: links)._download(out, archive.settings(tmp_path))
    assert not out.exists() and leftovers(out.parent) == [".wayback.jsonl.progress"]
    progress = out.parent / ".wayback.jsonl.progress"
    with progress.open("ab") as torn:  # a crash in the middle of a line
        torn.write(b'{"link": "https://a.example/3", "contents": "half')

    server.answers[archive.availability] = archive.answer
    with pytest.raises(DownloadError, match="3 of 10 URLs are kept"):  # still down
        content(lambda: links)._download(out, archive.settings(tmp_path))
    lines = progress.read_bytes().splitlines(keepends=True)
    assert len(lines) == 4 and all(json.loads(line) for line in lines)  # the torn line went

    archive.down = False
    server.log.clear()
    content(lambda: links)._download(out, archive.settings(tmp_path))
    assert out.read_bytes() == fresh.read_bytes()
    assert leftovers(out.parent) == []
    # the three kept answers (two pages, one "no snapshot") are not asked for again
    assert server.requests_for(archive.page_path(links[0])) == []
    assert server.requests_for(archive.page_path(links[2])) == []
    assert archive.asked() == 4 * 3 + 3  # links 3..9: four without a snapshot, asked 3 times


def test_progress_of_another_timestamp_or_another_user_is_not_used(archive, tmp_path):
    archive.page("https://a.example/", b"<p>a</p>")
    out = tmp_path / "wayback.jsonl"
    progress = tmp_path / ".wayback.jsonl.progress"
    forged = '{"link": "https://a.example/", "id": "x", "contents": "forged"}\n'
    progress.write_text('{"wayback_documents": 1, "timestamp": "2010"}\n' + forged)
    content(lambda: ["https://a.example/"])._download(out, archive.settings(tmp_path))
    assert records(out)[0]["contents"] == "<p>a</p>"
    if os.getuid() == 0:  # root (CI) can give the file to someone else sharing the folder
        progress.write_text(f'{{"wayback_documents": 1, "timestamp": "{TS}"}}\n' + forged)
        os.chown(progress, 12345, -1)
        out.unlink()
        content(lambda: ["https://a.example/"])._download(out, archive.settings(tmp_path))
        assert records(out)[0]["contents"] == "<p>a</p>"


def test_called_alone_it_reads_the_users_settings(archive, tmp_path, monkeypatch):
    """The engine may call ``_download(destination)`` alone: the settings file's mirrors."""
    archive.page("https://a.example/", b"<p>a</p>")
    settings = archive.settings(tmp_path)
    written = tmp_path / "settings.yaml"
    written.write_text(json.dumps({"mirrors": settings.mirrors, "progress": False}))
    monkeypatch.setenv("DMCONF_SETTINGS", str(written))
    monkeypatch.setenv("DMCONF_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DMCONF_OFFLINE", "1")
    out = tmp_path / "wayback.jsonl"
    resource = content(lambda: ["https://a.example/"])
    with pytest.raises(OfflineError, match=r"test\.wayback\.content: .*DMCONF_OFFLINE forbids"):
        resource._download(out)
    assert archive.asked() == 0 and not out.exists()
    monkeypatch.setenv("DMCONF_OFFLINE", "0")
    resource._download(out)
    assert records(out)[0]["contents"] == "<p>a</p>"


def test_a_mirror_that_is_not_http_is_refused_before_any_request(archive, tmp_path):
    settings = archive.settings(tmp_path)
    mirrors = {**settings.mirrors, "https://web.archive.org/": f"file://{tmp_path}/"}
    out = tmp_path / "wayback.jsonl"
    with pytest.raises(DownloadError, match=r"map it to an http\(s\) URL"):
        content(lambda: ["https://a.example/"])._download(
            out, settings.model_copy(update={"mirrors": mirrors}))
    assert archive.asked() == 0


def test_urls_fn_failing_or_giving_non_strings_names_the_dataset(archive, tmp_path):
    def reads_a_missing_file() -> list[str]:
        return (tmp_path / "qrecc_train.json").read_text().split()

    out = tmp_path / "wayback.jsonl"
    with pytest.raises(StepFailed, match=r"test\.wayback\.content: .*FileNotFoundError.*prepared"):
        content(reads_a_missing_file)._download(out, archive.settings(tmp_path))
    with pytest.raises(DefinitionError, match=r"urls_fn gave 3, not a URL string"):
        content(lambda: ["https://a.example/", 3])._download(out, archive.settings(tmp_path))
    assert archive.asked() == 0 and not out.exists()


def test_the_file_does_not_depend_on_the_mirror(archive, server, tmp_path):
    archive.page("https://a.example/", b"<p>a</p>")
    archive.page("https://b.example/bytes", b"\xff")
    archive.page("https://c.example/gone", b"")
    del server.files[archive.page_path("https://c.example/gone")]
    links = ["https://a.example/", "https://b.example/bytes", "https://c.example/gone"]
    settings = archive.settings(tmp_path)
    other = {prefix: target.replace("127.0.0.1", "localhost")
             for prefix, target in settings.mirrors.items()}
    made = []
    for number, mirrors in enumerate([settings.mirrors, other]):
        out = tmp_path / f"{number}.jsonl"
        content(lambda: links)._download(out, settings.model_copy(update={"mirrors": mirrors}))
        made.append(out.read_bytes())
    assert made[0] == made[1] and b"127.0.0.1" not in made[0]
    assert len(server.requests_for(archive.page_path("https://a.example/"))) == 2


def test_a_compressed_page_is_decoded_within_the_limit(archive, tmp_path):
    gzipped = "https://a.example/gzip"
    archive.page(gzipped, gzip.compress("<p>été</p>".encode()))
    archive.server.faults[archive.page_path(gzipped)].headers["Content-Encoding"] = "gzip"
    bomb = "https://a.example/bomb"
    archive.page(bomb, gzip.compress(b" " * 100_000))
    archive.server.faults[archive.page_path(bomb)].headers["Content-Encoding"] = "gzip"
    brotli = "https://a.example/br"
    archive.page(brotli, b"\x0b\x02\x80hi\x03")
    archive.server.faults[archive.page_path(brotli)].headers["Content-Encoding"] = "br"
    out = tmp_path / "wayback.jsonl"
    settings = archive.settings(tmp_path, download_max_size=10_000)
    content(lambda: [gzipped, bomb, brotli])._download(out, settings)
    got = {r["link"]: r for r in records(out)}
    assert got[gzipped]["contents"] == "<p>été</p>"
    assert "decompresses to more than 10000 bytes" in got[bomb]["reason"]
    assert "encoded as 'br'" in got[brotli]["reason"]
