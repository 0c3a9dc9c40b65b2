"""`dmconf catalog` and the files of its site (`--html`): what is written, what is refused,
what is left out, and what `--local` marks. The pages in a browser: test_site_browser.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from clusterkit import read_only_view
from conftest import MNIST_ID

import dmconf
from dmconf.catalog import bundled_root
from dmconf.cli import main
from dmconf.definition import load_definition_file
from dmconf.site.build import MARKER
from dmconf.site.describe import link, page_name
from dmconf.site.structure import data_structure

SMALL = """\
name: Small {n}
description: A small dataset, number {n}.
license: MIT
tags: [text]
tasks: [text-classification]
resources:
  a: {{url: 'https://example.org/{n}.bin', sha256: '{sha}', size: {size}}}
type: file
data: {{path: a}}
"""


def _define(env, n: int, size: int = 1000) -> str:
    dataset_id = f"test.small{n}"
    env.define(dataset_id, SMALL.format(n=n, sha=f"{n:02d}" * 32, size=size))
    return dataset_id


def _build(env, out, *options: str) -> int:
    """The site of the test catalogue alone (the bundled one and ir_datasets' make it slow)."""
    return main(["catalog", "--html", str(out), "--root", str(env.catalog), "--only-roots",
                 *options])


def _index(folder):
    return json.loads((folder / "search-index.json").read_text())


def test_catalog_without_html_counts_datasets_by_source(env, capsys):
    _define(env, 1)
    _define(env, 2)
    assert main(["catalog"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "     2  catalogue root (DMCONF_CATALOG or settings)" in lines
    assert any(line.endswith("bundled catalogue") for line in lines)
    assert lines[-1].endswith("datasets in all")


def test_html_writes_pages_an_index_built_once_and_its_script_twin(env, tmp_path, capsys):
    first = _define(env, 1, size=3 << 20)
    out = tmp_path / "site"
    assert main(["catalog", "--html", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / "index.html")
    index = _index(out)
    rows = {row["i"]: row for row in index["datasets"]}
    assert rows[first] == {
        "i": first, "n": "Small 1", "d": "A small dataset, number 1.", "p": f"d/{first}.html",
        "g": "text", "t": ["text"], "k": ["text-classification"], "l": "MIT", "s": 3 << 20,
    }
    assert "com.lecun.mnist" in rows and "u" not in rows[first]  # no --local: no local state
    script = (out / "search-index.js").read_text()
    assert script == f"window.DMCONF_INDEX={(out / 'search-index.json').read_text()};\n"
    html = (out / "index.html").read_text()
    assert 'src="search-index.js"' in html and "http" not in html.replace(
        'href="https://', "").split("<body>")[0]  # nothing fetched from the network
    page = (out / rows[first]["p"]).read_text()
    assert f"{'01' * 32}" in page and ">MIT<" in page
    for asset in ("site.css", "index.js", "copy.js"):
        assert (out / "assets" / asset).is_file()
    for name in (out / "d").iterdir():  # pages name only their own files, never a CDN
        text = name.read_text()
        assert '<script src="http' not in text and 'rel="stylesheet" href="http' not in text


def test_html_replaces_its_own_site_whole_and_refuses_other_folders(env, tmp_path, capsys):
    _define(env, 1)
    out = tmp_path / "site"
    assert _build(env, out) == 0
    (out / "stale.html").write_text("from an earlier build")
    assert _build(env, out) == 0
    assert not (out / "stale.html").exists() and (out / MARKER).is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    capsys.readouterr()
    assert _build(env, mine) == 1
    err = capsys.readouterr().err
    assert "not written by `dmconf catalog --html`" in err and str(mine) in err
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]
    afile = tmp_path / "file"
    afile.write_text("x")
    assert _build(env, afile) == 1
    assert "is not a folder" in capsys.readouterr().err and afile.read_text() == "x"
    (tmp_path / "empty").mkdir()
    assert _build(env, tmp_path / "empty") == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--local"], "--local marks datasets on the site"),
    (["--only-roots", "--html", "x"], "--only-roots: name the folders with --root"),
    (["--root", "no-such-folder", "--html", "x"], "--root no-such-folder: not a folder"),
])
def test_catalog_option_mistakes_are_one_line_errors(env, capsys, args, message):
    assert main(["catalog", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dmconf: error: ") and message in err and len(err.splitlines()) == 1


def test_only_roots_builds_a_labs_own_catalogue(env, tmp_path):
    lab = tmp_path / "lab"
    (lab / "org" / "lab").mkdir(parents=True)
    (lab / "org" / "lab" / "corpus.yaml").write_text(SMALL.format(n=7, sha="07" * 32, size=1))
    out = tmp_path / "site"
    assert main(["catalog", "--html", str(out), "--root", str(lab), "--only-roots"]) == 0
    assert [row["i"] for row in _index(out)["datasets"]] == ["org.lab.corpus"]
    assert main(["catalog", "--html", str(out), "--root", str(lab)]) == 0
    ids = [row["i"] for row in _index(out)["datasets"]]
    assert "org.lab.corpus" in ids and "com.lecun.mnist" in ids


def test_a_broken_definition_is_reported_and_left_out(env, tmp_path, capsys):
    good = _define(env, 1)
    env.define("test.broken", "name: [unclosed\n")
    env.define("test.badtype", "type: no.such.module.Model\nresources: {}\ndata: {}\n")
    out = tmp_path / "site"
    assert _build(env, out) == 0
    err = capsys.readouterr().err
    assert "broken.yaml" in err and "skipped" in err
    ids = [row["i"] for row in _index(out)["datasets"]]
    assert good in ids and "test.broken" not in ids
    # A type that cannot be imported here still gets its page, which says so.
    page = (out / "d" / "test.badtype.html").read_text()
    assert "its model cannot be read" in page


def test_hostile_metadata_is_escaped_and_never_a_link(env, tmp_path):
    env.define("test.hostile", """\
        name: '<script>alert(1)</script>'
        description: '<img src=x onerror=alert(2)>'
        homepage: 'javascript:alert(3)'
        resources:
          a: {url: 'javascript://x%0Aalert(4)', mirrors: ['data://x/y'], sha256: '%s'}
        type: file
        data: {path: a}
        """.replace("%s", "cd" * 32))
    out = tmp_path / "site"
    assert _build(env, out) == 0
    page = (out / "d" / "test.hostile.html").read_text()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript' not in page and 'href="data:' not in page
    assert link("javascript:alert(1)") is None and link("HTTPS://example.org/") is not None


def test_page_names_are_safe_and_unique_without_case(tmp_path):
    taken: set[str] = set()
    assert page_name("com.lecun.mnist", taken) == "com.lecun.mnist.html"
    other_case = page_name("com.lecun.MNIST", taken)
    assert other_case != "com.lecun.MNIST.html" and other_case.endswith(".html")
    odd = page_name("org.x[name=y]/../z", taken)
    assert "/" not in odd and "[" not in odd and odd.endswith(".html")


def test_local_marks_prepared_datasets_with_their_disk_use(mnist_env, tmp_path, capsys):
    _define(mnist_env, 3)
    dmconf.prepare(MNIST_ID)
    out = tmp_path / "site"
    assert _build(mnist_env, out, "--local") == 0
    rows = {row["i"]: row for row in _index(out)["datasets"]}
    used = sum(f.stat().st_size for f in mnist_env.folder(MNIST_ID).rglob("*") if f.is_file())
    assert rows[MNIST_ID]["u"] == used > 0
    assert rows["test.small3"]["u"] is None
    page = (out / "d" / f"{MNIST_ID}.html").read_text()
    assert "prepared here</span>" in page and '<dd id="local">yes, ' in page
    assert '<dd id="local">no</dd>' in (out / "d" / "test.small3.html").read_text()
    assert "Prepared here only" in (out / "index.html").read_text()


def test_local_counts_what_a_read_only_store_holds_prepared(mnist_env, tmp_path, monkeypatch):
    lab, personal, out = tmp_path / "lab", tmp_path / "personal", tmp_path / "site"
    monkeypatch.setenv("DMCONF_DATA", str(lab))
    dmconf.prepare(MNIST_ID)  # the login node prepares the lab's store
    with read_only_view(lab, tmp_path / "lab-ro") as lab_ro:
        monkeypatch.setenv("DMCONF_DATA", os.pathsep.join([str(lab_ro), str(personal)]))
        assert _build(mnist_env, out, "--local") == 0
    row = next(r for r in _index(out)["datasets"] if r["i"] == MNIST_ID)
    assert row["u"] and row["u"] > 0
    page = (out / "d" / f"{MNIST_ID}.html").read_text()
    assert f"(in the read-only store {lab_ro})" in page


@pytest.mark.parametrize("path", sorted(bundled_root().rglob("*.yaml")), ids=lambda p: p.stem)
def test_every_bundled_dataset_has_a_readable_typed_structure(path):
    dataset_id = ".".join(path.relative_to(bundled_root()).with_suffix("").parts)
    definition = load_definition_file(path, dataset_id)
    tree = data_structure(definition.type, definition.data)
    assert tree.model and tree.children, dataset_id

    def walk(node):
        assert "cannot be read" not in node.model_doc, (dataset_id, node.name)
        for child in node.children:
            walk(child)

    walk(tree)


def test_mnist_structure_follows_its_models():
    definition = load_definition_file(bundled_root() / "com/lecun/mnist.yaml", "com.lecun.mnist")
    tree = data_structure(definition.type, definition.data)
    assert (tree.type, tree.model) == ("image-classification", "ImageClassification")
    train = tree.children[0]
    assert (train.name, train.type) == ("train", "labelled-images")
    images = train.children[0]
    assert (images.name, images.type, images.doc) == ("images", "idx", "the images (an IDX "
                                                      "tensor, a folder...)")
    assert [(c.name, c.value) for c in images.children] == [("path", "train_images")]


def test_without_jinja2_the_error_names_the_extra(env, tmp_path):
    code = (
        "import sys; sys.modules['jinja2'] = None\n"  # as if the extra were not installed
        "from dmconf.cli import main\n"
        f"sys.exit(main(['catalog', '--html', {str(tmp_path / 'site')!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "pip install 'dmconf[site]'" in done.stderr and not (tmp_path / "site").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_manual_resources_terms_and_croissant_references_get_their_pages(env, tmp_path):
    """Definitions with no URL (a manual file) or terms to accept get a page saying so; a
    `croissant:` reference whose metadata cannot be fetched is left out, the others written."""
    env.define("test.byhand", """\
        terms: https://example.org/terms
        resources:
          a: {manual: 'Sign the form at https://example.org/form', filename: a.zip,
              sha256: '%s'}
        type: file
        data: {path: a}
        """.replace("%s", "ab" * 32))
    env.define("test.ref", "croissant: https://example.org/croissant.json\n")
    out = tmp_path / "site"
    assert _build(env, out) == 0
    page = (out / "d" / "test.byhand.html").read_text()
    assert "Sign the form at https://example.org/form" in page and "a.zip" in page
    assert "dmconf add-file test.byhand a PATH" in page
    assert 'href="https://example.org/terms"' in page and "dmconf accept test.byhand" in page
    assert "None" not in page
    # the reference is completed from its metadata, which this machine cannot fetch: reported
    # by URL and left out, the other pages are written
    assert not (out / "d" / "test.ref.html").exists()
    assert "test.ref" not in {row["i"] for row in _index(out)["datasets"]}
