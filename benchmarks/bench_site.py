"""Figures for the catalogue's site (not a test: it prints, it asserts nothing).

Builds the site of the bundled catalogue plus COUNT generated definitions (default 10,000),
then, in headless Chromium (Debian's, as the tests use it), measures with performance.now()
in the page:
- building: seconds and pages per second;
- opening index.html from file:// until the first list is shown;
- each keystroke typed into the search box until the list is updated ("list"), and until the
  next frame has been rendered ("frame": a message posted from requestAnimationFrame); the
  product target is 100 ms;
- a filter change (domain, then sort by size);
- the reference, measured in the same page: rendering every row at once (what the page's
  incremental rendering avoids).

Run: python benchmarks/bench_site.py [COUNT]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser import chromium
from generated_catalog import generate

from dmconf.cli import main as dmconf_main

TIMING = """() => {
  window.benchKeys = [];
  let down = 0;
  document.getElementById('q').addEventListener('keydown', () => { down = performance.now(); });
  document.addEventListener('dmconf:results', () => {
    if (!down) return;
    const started = down, listed = performance.now() - started; down = 0;
    // After the next frame's style, layout and paint: a message posted from requestAnimationFrame
    // is delivered once that frame is done.
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => window.benchKeys.push([listed, performance.now() - started]);
      channel.port2.postMessage(null);
    });
  });
}"""
REFERENCE = """() => {
  const list = document.getElementById('results'), rows = window.DMCONF_INDEX.datasets;
  const started = performance.now();
  list.textContent = '';
  const fragment = document.createDocumentFragment();
  for (const row of rows) {
    const li = document.createElement('li'), a = document.createElement('a');
    a.href = row.p; a.textContent = row.n; li.appendChild(a);
    const p = document.createElement('p'); p.textContent = row.d; li.appendChild(p);
    fragment.appendChild(li);
  }
  list.appendChild(fragment);
  document.body.offsetHeight;  // force layout, as a paint would
  return performance.now() - started;
}"""


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    work = Path(tempfile.mkdtemp(prefix="dmconf-bench-site-"))
    generate(work / "catalog", count)
    os.environ.update({"DMCONF_DATA": str(work / "data"), "DMCONF_CACHE": str(work / "cache"),
                       "DMCONF_SETTINGS": str(work / "settings.yaml")})
    (work / "settings.yaml").write_text("{}\n")
    started = time.perf_counter()
    if dmconf_main(["-q", "catalog", "--html", str(work / "site"), "--root",
                    str(work / "catalog")]):
        sys.exit(1)
    built = time.perf_counter() - started
    pages = len(list((work / "site" / "d").iterdir()))
    index_mb = (work / "site" / "search-index.js").stat().st_size / 1e6
    print(f"build: {pages} pages in {built:.1f} s ({pages / built:.0f} pages/s); "
          f"search-index.js {index_mb:.1f} MB")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        opened = time.perf_counter()
        page.goto((work / "site" / "index.html").as_uri())
        page.wait_for_function("window.dmconfSite && window.dmconfSite.last !== null")
        loaded = page.evaluate("performance.now()")
        print(f"open index.html: first list after {loaded:.0f} ms in the page "
              f"({(time.perf_counter() - opened) * 1000:.0f} ms as the driver sees it)")
        page.evaluate(TIMING)
        for query in ("mnist", "ember image", "token04242x", "zzzz"):
            page.fill("#q", "")
            page.focus("#q")
            page.evaluate("window.benchKeys = []")
            page.keyboard.type(query, delay=150)
            page.wait_for_function("n => window.benchKeys.length >= n", arg=len(query))
            keys = page.evaluate("window.benchKeys")
            listed = [k[0] for k in keys]
            framed = [k[1] for k in keys]
            print(f"typing {query!r:14} list: median {statistics.median(listed):5.1f} ms, "
                  f"max {max(listed):5.1f}; frame: median {statistics.median(framed):5.1f} ms, "
                  f"max {max(framed):5.1f} (target 100 ms); "
                  f"{page.evaluate('dmconfSite.last.count')} matches")
        page.fill("#q", "")
        for selector, value in (("#f-domain", "image"), ("#sort", "-size")):
            page.select_option(selector, value)
            print(f"{selector} = {value}: {page.evaluate('dmconfSite.last.ms'):.1f} ms "
                  "(the first sort by a key also sorts the whole index once)")
        reference = page.evaluate(REFERENCE)
        print(f"reference: rendering all {page.evaluate('window.DMCONF_INDEX.datasets.length')} "
              f"rows at once: {reference:.0f} ms")
    print(f"(site left in {work / 'site'})")


if __name__ == "__main__":
    main()
