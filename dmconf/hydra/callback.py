"""Preparing every dataset of a job before its task function runs, and of a sweep before its
jobs are launched.

Opt-in: add ``+dmconf=prepare`` on the command line, or ``- dmconf: prepare`` to the defaults
list; the option (``conf/dmconf/prepare.yaml``) adds :class:`PrepareDatasets` to
``hydra.callbacks``. Preparing is idempotent and locked, so the jobs of a sweep share one
download, and the config is not modified, so the job's saved ``.hydra/config.yaml`` stays the
plain definition.

In a multirun, the driver composes each job's config as Hydra's basic sweeper will (the same
expansion of ``a=1,2``, ``glob(...)``, ``range(...)`` and ``hydra.sweeper.params``) and
prepares every distinct dataset node once, before any job is submitted: a sweep sent to a
cluster does not make its jobs wait on a download, and each job only checks its files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from dmconf.hydra.node import dataset_nodes

__all__ = ["PrepareDatasets"]

log = logging.getLogger("dmconf")

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


class PrepareDatasets(Callback):
    """A Hydra callback that prepares every dataset node of a job's config at job start, and of
    every job of a multirun in the driver, before the jobs are launched.

    A dataset that cannot be prepared stops the run before the task function starts (or the
    sweep before any job starts), with one line naming the node, the dataset and the cause.
    """

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check_own_option(config)
        for key, node in dataset_nodes(config).items():
            _prepare(key, node, "the job")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweeper = OmegaConf.select(config, "hydra.sweeper._target_")
        if sweeper != BASIC_SWEEPER:
            log.info("sweeper %s: each job prepares its datasets when it starts", sweeper)
            return
        prepared: set[str] = set()
        for key, node in _sweep_dataset_nodes(config):
            digest = _node_digest(node)
            if digest not in prepared:
                prepared.add(digest)
                _prepare(key, node, "the sweep")


def _check_own_option(config: DictConfig) -> None:
    """A node of the app's own dataset folder that is a definition without ``_target_`` has
    dmconf's failing one (:mod:`dmconf.hydra.own`): it would be skipped here, so say what
    to add before the task function starts."""
    from dmconf.hydra.own import WITHOUT_TARGET, without_target_message

    for key, node in dataset_nodes(config, WITHOUT_TARGET).items():
        message = without_target_message(node, key)
        log.error("%s", message)
        raise SystemExit(f"dmconf: {message}")


def _prepare(key: str, node: DictConfig, what: str) -> None:
    from dmconf.api import load

    log.info("preparing %s (%s) before %s starts", key, node.get("id"), what)
    try:
        load(node)
    except Exception as exc:
        message = (
            f"dataset node {key!r} ({node.get('id')}) could not be prepared, so {what} "
            f"did not start: {exc}"
        )
        log.error("%s", message)
        # Hydra turns a callback's exceptions into warnings and runs the task anyway;
        # SystemExit is not an Exception, so it stops the run as the user asked.
        raise SystemExit(f"dmconf: {message}") from exc


def _sweep_dataset_nodes(config: DictConfig) -> Iterator[tuple[str, DictConfig]]:
    """The dataset nodes of every job the basic sweeper will launch, composed as it will."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    loader = GlobalHydra.instance().config_loader()
    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    arguments = [f"{k}={v}" for k, v in params.items()]
    arguments += [str(o) for o in config.hydra.overrides.task]
    parser = OverridesParser.create(config_loader=loader)
    [jobs] = BasicSweeper.split_arguments(parser.parse_overrides(arguments), None)
    for overrides in jobs:
        job = loader.load_sweep_config(config, list(overrides))
        yield from dataset_nodes(job).items()


def _node_digest(node: DictConfig) -> str:
    import json

    plain = OmegaConf.to_container(node, resolve=True)
    return json.dumps(plain, sort_keys=True, default=str)
