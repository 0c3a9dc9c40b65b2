"""datamaestro's ``linkfolder`` under its older name."""

from dmconf.compat.datamaestro.download.links import linkfolder as manual  # noqa: F401
