"""The data folder as a store: where a dataset lives, what it holds, and how it is filled.

- :mod:`dmconf.store.layout`: where each dataset's files live (the one function that says so).
- :mod:`dmconf.store.manifest`: the manifest of a prepared dataset (every file's relative path,
  size, sha256 and mode, the definition's content digest, the licence); its digest names the
  prepared bytes on every machine.
- :mod:`dmconf.store.assemble`: fill a dataset folder from a manifest and a source of verified
  blobs (a remote), resource by resource, through temporary names.

The state file of a dataset folder is :mod:`dmconf.state`, and its locks :mod:`dmconf.lock`.
Nothing records an absolute path: the state file, the locks and the manifest name files relative
to the data folder, so a data folder that is moved, copied or mounted elsewhere keeps every
dataset prepared. Remotes (:mod:`dmconf.remote`) share the manifest format.
"""

from __future__ import annotations

from dmconf.store.layout import content_key, dataset_folder, id_folder

__all__ = ["content_key", "dataset_folder", "id_folder"]
