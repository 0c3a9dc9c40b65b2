"""A real headless Chromium driven by Playwright's Python API, for the site's tests.

The browser is Debian's ``chromium`` (``.ci/run`` installs it; ``DMCONF_TEST_CHROMIUM`` names
another binary): Playwright's own browser download needs a network this machine does not have.
The flags keep Chromium from reaching for Google's services, refused here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("DMCONF_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"no Chromium at {path}: install Debian's chromium (apt-get install -y "
                    "chromium; .ci/run does) or set DMCONF_TEST_CHROMIUM", pytrace=False)
    return path


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched browser, closed (and its driver stopped) on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now (every rule axe runs by default).

    ``preload: false``: axe would re-read the stylesheets with XMLHttpRequest, which a file://
    page may not do (the page itself loads them fine).
    """
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {preload: false}))"
                           ".violations.map(v => "
                           "({id: v.id, impact: v.impact, help: v.help, "
                           "nodes: v.nodes.map(n => n.target.join(' '))}))")
    return list(result)
