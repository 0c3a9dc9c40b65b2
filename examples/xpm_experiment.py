"""An experimaestro experiment whose task takes a dmconf dataset as a parameter.

Run it (needs ``pip install 'dmconf[xpm]'`` and the network, or a prepared MNIST)::

    python examples/xpm_experiment.py --workdir /tmp/xpm-mnist

The task computes the mean pixel intensity of each digit class of MNIST's training set and
writes it as JSON in its job folder. The dataset is prepared in the driver (``.prepare()``)
before the task is submitted; pass ``--on-node`` to let the job download it instead.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from experimaestro import Meta, Param, PathGenerator, Task, experiment, field

from dmconf.xpm import Dataset


class ClassMeans(Task):
    """Mean pixel intensity (0-255) of each class of a labelled image set."""

    # A fixed type id: the job folder and identity stay the same whether this file runs as a
    # script (module __main__) or is imported.
    __xpmid__ = "dmconf.examples.classmeans"

    dataset: Param[Dataset]
    """a labelled image set: a dataset with `images` and `labels` (e.g. part="train")"""

    output: Meta[Path] = field(default_factory=PathGenerator("class-means.json"))
    """where the result is written (inside the job folder)"""

    def execute(self) -> None:
        import numpy as np

        data = self.dataset.load()  # prepared (if needed) and typed: a LabelledImages
        images, labels = data.images.data(), data.labels.data()
        means = {}
        for label in np.unique(labels):
            selected = images[labels == label]
            means[int(label)] = float(selected.mean(dtype=np.float64))
        result = {"dataset": self.dataset.id, "count": len(labels), "means": means}
        self.output.write_text(json.dumps(result, indent=1), encoding="utf-8")


def run(workdir: Path, dataset_id: str = "com.lecun.mnist", on_node: bool = False) -> Path:
    """Run the experiment in ``workdir``; return the result file of the task."""
    dataset = Dataset.C(id=dataset_id, part="train")
    if not on_node:
        dataset.prepare()  # download and verify here, in the driver; the job only checks files
    with experiment(workdir, "dmconf-class-means", no_environmental_impact=True):
        task = ClassMeans.C(dataset=dataset).submit()
    return task.output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="experimaestro work folder")
    parser.add_argument("--dataset", default="com.lecun.mnist", help="an image-classification id")
    parser.add_argument(
        "--on-node", action="store_true", help="download in the job, not in this process"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    output = run(args.workdir, args.dataset, args.on_node)
    if not output.is_file():  # experimaestro logs failed jobs; it does not raise
        raise SystemExit(f"the task failed: its log is in {output.parent} (*.err)")
    print(output.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
