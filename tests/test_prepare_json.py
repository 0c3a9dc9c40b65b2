"""``dmconf prepare`` prints the prepared object with every nested field (founding README)."""

from __future__ import annotations

import json

import pytest
from conftest import MNIST_ID, Env

from dmconf.cli import main


def test_prepare_prints_nested_paths(mnist_env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prepare", MNIST_ID]) == 0
    folder = mnist_env.folder(MNIST_ID)
    printed = json.loads(capsys.readouterr().out)
    # images and labels are declared as `Base` but hold IDX objects: their paths must show.
    assert printed == {
        "id": MNIST_ID,
        **{
            part: {
                "images": {"path": str(folder / f"{part}_images")},
                "labels": {"path": str(folder / f"{part}_labels")},
            }
            for part in ("train", "test")
        },
    }
