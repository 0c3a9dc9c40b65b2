"""MLCommons Croissant metadata (JSON-LD) in and out.

:mod:`~dmconf.croissant.document` reads a Croissant file (a path or a URL) into plain,
prefix-free mappings; :mod:`~dmconf.croissant.reader` turns one into a dmconf definition
(``dmconf import croissant``, and ``croissant: URL`` in a definition, resolved when the dataset
is prepared); :mod:`~dmconf.croissant.writer` writes any definition as Croissant 1.1
(``dmconf export croissant``).
"""
