"""A step for the derived-dataset tests: copies its inputs, and tells the test what it does.

``DERIVE_RUNS``: a file the step appends one line to each time it runs (its pid).
``DERIVE_WAIT``: once the output is written, the step waits until this file exists (a test
kills it meanwhile). ``DERIVE_SLEEP``: seconds to sleep after starting (processes pile up).
Subprocesses find this module through ``PYTHONPATH`` (tests/).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from dmconf.derive import step


class CopyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suffix: str = ".copy"
    tags: frozenset[str] = frozenset()  # a set: its order depends on the hash seed


@step(version=1, params=CopyParams)
def copy(inputs: dict[str, Any], output: Path, params: CopyParams) -> None:
    runs = os.environ.get("DERIVE_RUNS")
    if runs:
        with open(runs, "a") as log:
            log.write(f"{os.getpid()}\n")
    time.sleep(float(os.environ.get("DERIVE_SLEEP", "0")))
    for name, value in inputs.items():
        (output / f"{name}{params.suffix}").write_bytes(Path(value.path).read_bytes())
    wait = os.environ.get("DERIVE_WAIT")
    while wait and not os.path.exists(wait):
        time.sleep(0.02)


def not_a_step(inputs: dict[str, Any], output: Path, params: Any) -> None:
    """Not decorated: a definition naming it is refused."""


@step(version=1)
def fails(inputs: dict[str, Any], output: Path, params: Any) -> None:
    (output / "half").write_bytes(b"x")
    raise RuntimeError("the input is not what I expected")
