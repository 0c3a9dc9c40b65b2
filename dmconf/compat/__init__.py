"""Compatibility layers: other tools' APIs mapped onto dmconf's one model of a definition.

:mod:`dmconf.compat.datamaestro` runs ported datamaestro plugins (``dmconf port``);
:mod:`dmconf.compat.experimaestro` is the declarative part of experimaestro their data types use.
"""
