"""The data folder as a store: where a dataset lives, what it holds, and how it is filled.

- :mod:`dmconf.store.layout`: the one function that gives a dataset's folder.
- :mod:`dmconf.store.manifest`: the manifest of a prepared dataset (every file's relative path,
  size, sha256 and mode, the definition's content digest, the licence); its digest names the
  prepared bytes on every machine.
- :mod:`dmconf.store.assemble`: fill a dataset folder from a manifest and a source of verified
  blobs (a remote), resource by resource, through temporary names.

Nothing here records an absolute path: the state file, the locks and the manifest name files
relative to the dataset's folder, so a data folder that is moved, copied or mounted elsewhere
keeps every dataset prepared. Remotes (:mod:`dmconf.remote`) share the manifest format.
"""
