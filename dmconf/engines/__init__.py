"""Handing prepared data to distributed engines (Ray Data, Dask, Spark on a shared disk).

- :mod:`dmconf.engines.paths`: the absolute path and ``file://`` URI of every item of a prepared
  dataset (``dmconf paths ID [PART] --json``), for readers that take lists of files;
- :mod:`dmconf.engines.dask`: a lazy Dask array over an IDX file (``IDX.to_dask()``, the
  ``dask`` extra), whose graph carries a path and offsets, never data.
"""
