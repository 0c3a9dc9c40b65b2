"""The catalogue as a static web site: ``dmconf catalog --html OUT`` (needs ``dmconf[site]``).

A folder that opens from ``file://`` and from any static host, with nothing fetched at view
time (no CDN, no web fonts)::

    index.html            search over ids, names, descriptions, tags and tasks; filters by
                          domain, task, licence and size; sorting (assets/index.js)
    d/<id>.html           one page per dataset: metadata, citation, resources with sha256,
                          splits, the typed structure of its data, copy-ready snippets
    search-index.json     the index, built once: one row per dataset, short keys
    search-index.js       the same JSON assigned to ``window.DMCONF_INDEX``: browsers refuse
                          ``fetch()`` of a ``file://`` URL, but load a script
    assets/               site.css, index.js, copy.js (plain CSS and JavaScript)

Modules: :mod:`~dmconf.site.build` (the flow: read, render, write, replace),
:mod:`~dmconf.site.describe` (a definition as a page and an index row),
:mod:`~dmconf.site.structure` (the data's pydantic models as a tree); Jinja2 templates and
static files ship inside the package.
"""

from dmconf.site.build import SiteBuilt, build_site

__all__ = ["SiteBuilt", "build_site"]
