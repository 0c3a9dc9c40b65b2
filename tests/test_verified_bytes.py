"""Class 4: only verified bytes become data, and prepare never returns a path that does not
exist. Servers on 127.0.0.1 misbehave: a 416 with a body, gzip Content-Encoding on a .gz file,
an HTML page where a file should be; archives whose layout differs from the definition's."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile

import pytest
import yaml
from httpserver import Fault
from resources import cli, leftovers, serve_dataset, sha256, write_settings

import dmconf
from dmconf.errors import DefinitionError, DownloadError
from dmconf.fetch.download import HOST

PAYLOAD = os.urandom(50_000)


def test_a_416_body_is_never_appended(env, server):
    """The partial already holds every byte; the server says 416 and sends an error page."""
    write_settings(env)
    name = serve_dataset(env, server, "test.r416", PAYLOAD)
    definition = env.catalog / "test" / "r416.yaml"
    raw = yaml.safe_load(definition.read_text())
    del raw["resources"]["payload"]["sha256"]  # nothing else would catch appended bytes
    definition.write_text(yaml.safe_dump(raw))
    folder = env.folder("test.r416")
    folder.mkdir(parents=True)
    dead = folder / f".payload.4000000@{HOST}.part"
    dead.write_bytes(PAYLOAD)
    (folder / (dead.name + ".json")).write_text(json.dumps({"url": server.url(name),
                                                            "validator": None}))
    server.faults[name] = Fault(status=416, headers={"Content-Range": f"bytes */{len(PAYLOAD)}"},
                                status_body=b"<html>range not satisfiable</html>", times=1)
    assert dmconf.prepare("test.r416").path.read_bytes() == PAYLOAD
    assert [r.headers.get("Range") for r in server.requests_for(name)] == [
        f"bytes={len(PAYLOAD)}-"]


def test_a_gz_served_with_content_encoding_gzip_is_hashed_as_sent(env, server):
    write_settings(env)
    packed = gzip.compress(PAYLOAD)
    name = serve_dataset(env, server, "test.encoded", packed, unpack="gunzip")
    server.faults[name] = Fault(headers={"Content-Encoding": "gzip"})
    assert dmconf.prepare("test.encoded").path.read_bytes() == PAYLOAD


def test_without_sha256_size_and_html_pages_are_still_checked(env, server):
    write_settings(env)
    server.files["page"] = b"<html>please log in</html>"
    server.files["short.bin"] = PAYLOAD[:100]
    env.define("test.unpinned", yaml.safe_dump({
        "resources": {
            "login": {"url": server.url("page")},
            "short": {"url": server.url("short.bin"), "size": len(PAYLOAD)},
        }, "type": "generic", "data": {}}))
    server.faults["page"] = Fault(headers={"Content-Type": "text/html; charset=utf-8"})
    with pytest.raises(DownloadError) as caught:
        dmconf.prepare("test.unpinned")
    problems = str(caught.value)
    assert "web page" in problems or "100 bytes arrived" in problems
    folder = env.folder("test.unpinned")
    assert not (folder / "login").exists() and not (folder / "short").exists()
    assert leftovers(folder) == []
    proc = cli("prepare", "test.unpinned")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "pin the downloaded one" not in err  # nothing to pin


def _tar(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member in names:
            info = tarfile.TarInfo(member)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    return buffer.getvalue()


def test_a_path_the_archive_does_not_have_fails_naming_what_it_has(env, server):
    write_settings(env)
    archive = _tar(["corpus-v2/train.txt", "corpus-v2/test.txt"])
    server.files["c.tar.gz"] = archive
    env.define("test.layout", yaml.safe_dump({
        "resources": {"archive": {"url": server.url("c.tar.gz"), "sha256": sha256(archive),
                                  "unpack": "untar"}},
        "type": "generic",
        "data": {"train": {"type": "file", "path": "archive/corpus/train.txt"}}}))
    with pytest.raises(DefinitionError) as caught:
        dmconf.prepare("test.layout")
    message = str(caught.value)
    assert "data.train.path is archive/corpus/train.txt, which does not exist" in message
    assert "archive holds: corpus-v2/" in message
    proc = cli("prepare", "test.layout")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert len(server.requests_for("c.tar.gz")) == 1  # the data stays; fix the definition
