"""Seed-style decorators (``@dataset``...): :mod:`dmconf.compat.datamaestro.definitions`.

Kept at this path so that a datamaestro definition works after replacing ``datamaestro`` by
``dmconf`` in its imports.
"""

from dmconf.compat.datamaestro.definitions import (
    AbstractDataset,
    Dataset,
    Meta,
    Option,
    Param,
    PythonDataset,
    argument,
    data,
    dataset,
    datatags,
    datatasks,
    metadataset,
    split_docstring,
)

__all__ = [
    "AbstractDataset", "Dataset", "Meta", "Option", "Param", "PythonDataset", "argument", "data",
    "dataset", "datatags", "datatasks", "metadataset", "split_docstring",
]
