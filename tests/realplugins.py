"""The pinned real datamaestro plugins, and running their commands (the ``plugins`` fixture of
conftest ports them once a session)."""

from __future__ import annotations

import subprocess

PINNED = [
    "datamaestro-image==2025.9.21.1", "datamaestro-text==2026.4.22",
    "datamaestro-ml==2021.10.5", "datamaestro-ir==0.5.0",
]


def run_ok(args: list[str], env: dict[str, str], **kwargs: object
           ) -> subprocess.CompletedProcess:
    """Run ``args``; fail the test with the end of its stderr unless it succeeds."""
    result = subprocess.run(args, capture_output=True, text=True, env=env, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{args}: {result.stderr[-3000:]}"
    return result


