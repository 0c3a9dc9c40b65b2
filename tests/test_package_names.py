"""``dmconf.prepare`` is the function whatever was imported first (the flow lives in
``dmconf.preparation``, so no submodule takes the name)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("first", ["import dmconf.cli", "dmconf.is_prepared",
                                   "import dmconf.preparation", "from dmconf import prepare"])
def test_prepare_stays_the_function(first):
    code = f"import dmconf; {first}; from dmconf import prepare; " \
           "assert callable(dmconf.prepare) and callable(prepare), dmconf.prepare"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
