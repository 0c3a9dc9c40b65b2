"""Preparing every dataset of a job before its task function runs.

Opt-in: add ``+dmconf=prepare`` on the command line, or ``- dmconf: prepare`` to the defaults
list; the option (``conf/dmconf/prepare.yaml``) adds :class:`PrepareDatasets` to
``hydra.callbacks``. Preparing is idempotent and locked, so the jobs of a sweep share one
download, and the config is not modified, so the job's saved ``.hydra/config.yaml`` stays the
plain definition.
"""

from __future__ import annotations

import logging
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from dmconf.hydra.node import dataset_nodes

__all__ = ["PrepareDatasets"]

log = logging.getLogger("dmconf")


class PrepareDatasets(Callback):
    """A Hydra callback that prepares every dataset node of a job's config at job start.

    A dataset that cannot be prepared stops the run before the task function starts, with one
    line naming the node, the dataset and the cause; in a sweep, the sweep stops there.
    """

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        from dmconf.api import load

        for key, node in dataset_nodes(config).items():
            log.info("preparing %s (%s) before the job starts", key, node.get("id"))
            try:
                load(node)
            except Exception as exc:
                message = (
                    f"dataset node {key!r} ({node.get('id')}) could not be prepared, so the job "
                    f"did not start: {exc}"
                )
                log.error("%s", message)
                # Hydra turns a callback's exceptions into warnings and runs the task anyway;
                # SystemExit is not an Exception, so it stops the run as the user asked.
                raise SystemExit(f"dmconf: {message}") from exc
