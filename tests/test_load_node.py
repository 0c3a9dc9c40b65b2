"""dmconf.load on config nodes: a Hydra/OmegaConf node prepares the same dataset as its id."""

from __future__ import annotations

from conftest import MNIST_ID, Env
from httpserver import FileServer

import dmconf


def test_a_dictconfig_node_prepares_the_catalogue_dataset(
    mnist_env: Env, server: FileServer
) -> None:
    from omegaconf import OmegaConf

    node = OmegaConf.create(
        {"_target_": "ignored", **dmconf.find(MNIST_ID).model_dump(mode="json")}
    )
    loaded = dmconf.load(node)
    assert loaded.id == MNIST_ID
    # Same content digest as the catalogue's definition: prepared once, for both.
    assert dmconf.is_prepared(MNIST_ID)
    assert dmconf.load(MNIST_ID) == loaded
    assert len(server.requests_for("mnist/train_images.gz")) == 1
