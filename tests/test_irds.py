"""The ir_datasets bridge: a dataset registered in ir_datasets' registry, its files on 127.0.0.1.

Each step runs in its own interpreter, as a user would: one registers the dataset in ir_datasets
and prepares ``irds.dmconftest.tiny`` (ir_datasets' own downloader fetches from the loopback
server into dmconf's data folder), another searches the cached index without importing
ir_datasets.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from httpserver import FileServer

pytest.importorskip("ir_datasets")

REGISTER = textwrap.dedent("""
    from dmconf.compat.irds import ir_datasets_module
    ir_datasets = ir_datasets_module()  # its files in dmconf's data folder
    from ir_datasets.datasets.base import Dataset
    from ir_datasets.formats import TrecQrels, TsvDocs, TsvQueries
    from ir_datasets.util import Cache, RequestsDownload, home_path

    base = home_path() / "dmconftest"
    def fetched(name):
        return Cache(RequestsDownload("{url}" + name), base / name)
    ir_datasets.registry.register("dmconftest/tiny", Dataset(
        TsvDocs(fetched("docs.tsv")), TsvQueries(fetched("queries.tsv")),
        TrecQrels(fetched("qrels.txt"), {{0: "not relevant", 1: "relevant"}}),
    ))
""")


def _python(script: str, env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
def test_an_ir_datasets_dataset_is_prepared_from_the_loopback_server(
    env, server: FileServer, tmp_path: Path
) -> None:
    server.files.update({
        "irds/docs.tsv": b"d1\tthe first document\nd2\tthe second one\n",
        "irds/queries.tsv": b"q1\tfirst\n",
        "irds/qrels.txt": b"q1 0 d1 1\nq1 0 d2 0\n",
    })
    environ = {k: v for k, v in os.environ.items() if k != "IR_DATASETS_HOME"}
    environ["DMCONF_CACHE"] = str(tmp_path / "irds-cache")  # lists the registry afresh
    register = REGISTER.format(url=server.url("irds/"))
    out = _python(register + textwrap.dedent("""
        import dmconf
        assert "irds.dmconftest.tiny" in dmconf.list_ids()
        tiny = dmconf.prepare("irds.dmconftest.tiny")
        print(type(tiny).__name__, tiny.irds_id)
        print(list(tiny.documents()))
        print(list(tiny.queries()))
        print(tiny.qrels())
        print(home_path())
    """), environ).splitlines()
    assert out[0] == "IrdsDataset dmconftest/tiny"
    assert out[1] == (
        "[{'id': 'd1', 'text': 'the first document'}, {'id': 'd2', 'text': 'the second one'}]"
    )
    assert out[2] == "[{'id': 'q1', 'text': 'first'}]"
    assert out[3] == "{'q1': {'d1': 1, 'd2': 0}}"
    assert out[4] == str(env.data / "_ir_datasets")  # ir_datasets' files in dmconf's data
    assert (env.data / "_ir_datasets" / "dmconftest" / "docs.tsv").is_file()
    assert {r.path for r in server.log} >= {"/irds/docs.tsv", "/irds/queries.tsv"}
    # Searching reads the cached index: ir_datasets is not even imported.
    found = _python(textwrap.dedent("""
        import sys, dmconf
        print(dmconf.search("dmconftest"), "ir_datasets" in sys.modules)
    """), environ)
    assert found.strip() == "['irds.dmconftest.tiny'] False"


def test_threads_listing_at_once_list_once_and_leave_logging_as_it_was(
    env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """ir_datasets imported here (as after a user's own registrations), several threads load the
    catalogue at once on an empty index cache: one lists, the others read its index, and INFO
    logging is on afterwards (interleaved listings used to leave ``logging.disable(INFO)``)."""
    import logging
    import threading
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("IR_DATASETS_HOME", str(tmp_path / "irds-home"))
    monkeypatch.setenv("DMCONF_CACHE", str(tmp_path / "irds-cache"))  # nothing listed yet
    from dmconf.compat.irds import ir_datasets_module, irds_entries

    ir_datasets_module()
    before = logging.root.manager.disable
    start = threading.Barrier(4)

    def listed(_: int) -> int:
        start.wait()
        return len(irds_entries())

    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(listed, range(4)))
    assert logging.root.manager.disable == before
    assert len(set(counts)) == 1 and counts[0] > 100
