"""A Hydra experiment on a dmconf dataset: nearest-centroid digit classification, numpy only.

    python examples/hydra_train.py                       # MNIST, from conf/config.yaml
    python examples/hydra_train.py --cfg job             # the full definition: URLs, checksums
    python examples/hydra_train.py train_size=1000 +dmconf=prepare
    python examples/hydra_train.py -m train_size=100,1000,10000

Nothing in this script or in conf/ tells Hydra about dmconf: the `dataset` group comes from
dmconf's Hydra plugin, installed with dmconf.
"""

from __future__ import annotations

import logging

import hydra
import numpy as np
from omegaconf import DictConfig

import dmconf

log = logging.getLogger(__name__)


def flat(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 784) float32 in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> float:
    dataset = dmconf.load(cfg.dataset)  # prepared on first use, then a few file checks
    n = min(int(cfg.train_size), len(dataset.train.labels.data()))
    train_x = flat(dataset.train.images.data()[:n])
    train_y = np.asarray(dataset.train.labels.data()[:n])
    classes = np.unique(train_y)
    centroids = np.stack([train_x[train_y == c].mean(axis=0) for c in classes])

    test_x = flat(dataset.test.images.data())
    test_y = np.asarray(dataset.test.labels.data())
    # squared distances |x|^2 - 2 x.c + |c|^2, without building an (N, 10, 784) array
    distances = (
        (test_x**2).sum(axis=1, keepdims=True)
        - 2 * test_x @ centroids.T
        + (centroids**2).sum(axis=1)
    )
    accuracy = float((classes[distances.argmin(axis=1)] == test_y).mean())
    log.info(
        "%s: nearest centroid on %d training digits: test accuracy %.4f",
        cfg.dataset.id,
        n,
        accuracy,
    )
    print(f"accuracy={accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
