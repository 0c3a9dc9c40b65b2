"""The prepare flow against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import json
import os

import numpy as np
import pytest
import yaml
from conftest import MNIST_ID, mnist_definition
from httpserver import Fault

import dmconf
from dmconf import prepare_dataset
from dmconf.errors import ChecksumMismatch, DownloadError, OfflineError


def read_idx_independently(gz: bytes) -> np.ndarray:
    """Decode gzipped IDX bytes without dmconf: header by hand, then numpy."""
    raw = gzip.decompress(gz)
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    assert raw[2] == 0x08
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def test_prepare_mnist_end_to_end(mnist_env, server, mnist):
    ds = prepare_dataset(MNIST_ID)
    images = ds.train.images.data()
    assert images.dtype == np.uint8
    assert images.shape == (60000, 28, 28)
    np.testing.assert_array_equal(images, read_idx_independently(mnist.gz["train_images"]))
    np.testing.assert_array_equal(ds.test.labels.data(), mnist.arrays["test_labels"])
    folder = mnist_env.folder(MNIST_ID)
    assert ds.train.images.path == folder / "train_images"
    assert ds.train.images.path.is_absolute()
    # Only final files and dmconf's own state and locks remain: no temporary left behind.
    names = os.listdir(folder)
    assert sorted(n for n in names if not n.startswith(".")) == [
        "test_images", "test_labels", "train_images", "train_labels",
    ]
    hidden = [n for n in names if n.startswith(".")]
    assert ".dmconf-state.json" in hidden
    assert all(n.endswith((".lock", "-lock", "state.json")) for n in hidden), hidden
    assert len(server.log) == 4


def test_a_prepared_dataset_makes_no_request(mnist_env, server):
    first = dmconf.prepare(MNIST_ID)
    server.log.clear()
    second = dmconf.prepare(MNIST_ID)
    assert server.log == []
    assert second == first


def test_prepared_data_works_offline(mnist_env, server, monkeypatch):
    dmconf.prepare(MNIST_ID)
    server.log.clear()
    monkeypatch.setenv("DMCONF_OFFLINE", "1")
    assert dmconf.prepare(MNIST_ID).train.labels.data().shape == (60000,)
    assert server.log == []


def test_offline_and_missing_is_a_clear_error(mnist_env, server, monkeypatch):
    monkeypatch.setenv("DMCONF_OFFLINE", "1")
    with pytest.raises(OfflineError) as info:
        dmconf.prepare(MNIST_ID)
    message = str(info.value)
    assert MNIST_ID in message and "DMCONF_OFFLINE" in message
    assert str(mnist_env.folder(MNIST_ID)) in message
    assert server.log == []


def test_checksum_mismatch_says_expected_actual_and_url(mnist_env, server, mnist):
    page = b"<html>Service unavailable</html>"
    server.faults["mnist/train_labels.gz"] = Fault(body=page)
    with pytest.raises(ChecksumMismatch) as info:
        dmconf.prepare(MNIST_ID)
    error = info.value
    assert error.expected == mnist.sha256("train_labels")
    assert error.actual == hashlib.sha256(page).hexdigest()
    assert error.size == len(page)
    assert error.url == server.url("mnist/train_labels.gz")
    for text in (error.expected, error.actual, error.url, "deleted"):
        assert text in str(error)
    folder = mnist_env.folder(MNIST_ID)
    assert not (folder / "train_labels").exists()
    assert not [n for n in os.listdir(folder) if n.endswith((".download", ".unpack"))]
    assert (folder / "train_images").is_file(), "verified resources before the failure stay"
    # Once the server is fixed, the next run completes and refetches only what is missing.
    server.reset()
    ds = dmconf.prepare(MNIST_ID)
    assert ds.train.labels.data().shape == (60000,)
    fetched = sorted(r.path for r in server.log)
    assert "/mnist/train_labels.gz" in fetched
    assert "/mnist/train_images.gz" not in fetched


def test_a_bad_url_falls_back_to_the_next_mirror(env, server, mnist):
    text = mnist_definition(server, mnist)
    definition = yaml.safe_load(text)
    labels = definition["resources"]["test_labels"]
    labels["mirrors"] = [labels["url"]]
    labels["url"] = server.url("nowhere/test_labels.gz")
    env.define("test.mirrored", yaml.safe_dump(definition))
    ds = dmconf.prepare("test.mirrored")
    np.testing.assert_array_equal(ds.test.labels.data(), mnist.arrays["test_labels"])
    assert "/nowhere/test_labels.gz" in [r.path for r in server.log]


def test_every_url_failing_names_each(env, server, mnist):
    definition = yaml.safe_load(mnist_definition(server, mnist))
    labels = definition["resources"]["test_labels"]
    labels["url"] = server.url("gone/a.gz")
    labels["mirrors"] = [server.url("gone/b.gz")]
    env.define("test.gone", yaml.safe_dump(definition))
    with pytest.raises(DownloadError) as info:
        dmconf.prepare("test.gone")
    message = str(info.value)
    assert "test_labels" in message and "404" in message
    assert server.url("gone/a.gz") in message and server.url("gone/b.gz") in message


def test_a_changed_checksum_refetches(mnist_env, server, mnist):
    dmconf.prepare(MNIST_ID)
    path = mnist_env.catalog / "test" / "mnist.yaml"
    definition = yaml.safe_load(path.read_text())
    new_labels = gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x02\x07\x03", mtime=0)
    server.files["mnist/v2_labels.gz"] = new_labels
    definition["resources"]["test_labels"].update(
        url=server.url("mnist/v2_labels.gz"), sha256=hashlib.sha256(new_labels).hexdigest(),
        size=len(new_labels),
    )
    path.write_text(yaml.safe_dump(definition))
    server.log.clear()
    ds = dmconf.prepare(MNIST_ID)
    assert ds.test.labels.data().tolist() == [7, 3]
    assert [r.path for r in server.log] == ["/mnist/v2_labels.gz"]


def test_a_definition_without_sha256_warns_with_the_computed_value(env, server, caplog):
    server.files["plain/notes.txt"] = b"hello\n"
    env.define("test.nosum", f"""\
        resources:
          notes: {{url: "{server.url('plain/notes.txt')}"}}
        type: file
        data: {{path: notes}}
        """)
    with caplog.at_level("WARNING", logger="dmconf"):
        obj = dmconf.prepare("test.nosum")
    assert obj.path.read_bytes() == b"hello\n"
    digest = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    assert any(digest in r.getMessage() for r in caplog.records)


def test_prepare_json_has_the_id_and_absolute_paths(mnist_env, server):
    from dmconf.cli import to_json

    dumped = json.loads(to_json(dmconf.prepare(MNIST_ID)))
    assert dumped["id"] == MNIST_ID
    assert set(dumped) == {"id", "train", "test"}
    for part in ("train", "test"):
        for item in ("images", "labels"):
            path = dumped[part][item]["path"]
            assert os.path.isabs(path) and os.path.isfile(path)


def test_a_wrong_data_structure_fails_before_any_download(env, server, mnist):
    definition = yaml.safe_load(mnist_definition(server, mnist))
    definition["data"]["train"]["images"]["type"] = "csv-typo"
    env.define("test.typo", yaml.safe_dump(definition))
    with pytest.raises(dmconf.DataTypeError, match="unknown type 'csv-typo'"):
        dmconf.prepare("test.typo")
    assert server.log == [], "nothing may be downloaded for a definition that cannot be built"
    assert not env.folder("test.typo").exists()
