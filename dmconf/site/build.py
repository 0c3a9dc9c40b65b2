"""Build the static site of a catalogue into a folder, replacing an earlier build whole.

Every page is rendered into a temporary folder beside the target, which replaces the target
only once complete: an interrupted or failed build leaves the previous site as it was. A
folder is replaced only if it is empty or holds the marker an earlier build wrote, so a typo
in ``--html`` never deletes someone's files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dmconf import __version__
from dmconf.errors import DmconfError, MissingExtra, SettingsError
from dmconf.site.describe import Local, index_row, page_context, page_name
from dmconf.site.structure import data_structure

if TYPE_CHECKING:
    from dmconf.catalog import Catalog
    from dmconf.definition import DatasetDefinition
    from dmconf.settings import Settings

__all__ = ["MARKER", "SIZE_BUCKETS", "SiteBuilt", "build_site"]

MARKER = ".dmconf-site"  # in a folder this command wrote, and may therefore replace
INDEX_FORMAT = 1
STATIC = Path(__file__).resolve().parent / "static"
# Size filter of the index: key, label, smallest and largest download size (bytes, exclusive).
SIZE_BUCKETS: list[tuple[str, str, int | None, int | None]] = [
    ("xs", "under 1 MiB", 0, 1 << 20),
    ("s", "1 MiB to 100 MiB", 1 << 20, 100 << 20),
    ("m", "100 MiB to 1 GiB", 100 << 20, 1 << 30),
    ("l", "1 GiB to 10 GiB", 1 << 30, 10 << 30),
    ("xl", "10 GiB or more", 10 << 30, None),
    ("unknown", "size not given", None, None),
]


@dataclass
class SiteBuilt:
    """What a build wrote: the site's folder, the number of dataset pages, what was skipped."""

    path: Path
    datasets: int
    skipped: list[str] = field(default_factory=list)


def build_site(
    out: Path, catalog: Catalog, settings: Settings, *, local: bool = False,
    ids: Iterable[str] | None = None,
) -> SiteBuilt:
    """Write the site of ``catalog`` (or of ``ids`` in it) into the folder ``out``.

    A definition that cannot be read is reported once (``catalog.report``) and left out.
    ``local`` marks the datasets prepared in ``settings.data`` with the space they use.
    """
    templates = _templates()
    target = _checked_target(Path(out))
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 would hide the site from a server
        (staging / "d").mkdir()
        usage = _prepared_sizes(settings) if local else None
        page = templates.get_template("dataset.html")
        common = {"version": __version__, "root": "../"}
        rows: list[dict[str, Any]] = []
        taken: set[str] = set()
        skipped_before = len(catalog.problems)
        for dataset_id in catalog.ids() if ids is None else ids:
            try:
                entry = catalog.entry(dataset_id)
                definition = entry.definition()
                structure = data_structure(definition.type, definition.data)
            except DmconfError as exc:  # one broken definition never hides the others
                catalog.report(str(exc))
                continue
            state = _local(definition, settings, usage) if usage is not None else None
            name = page_name(definition.id, taken)
            html = page.render(**common, **page_context(
                definition, origin=entry.origin, structure=structure,
                hydra_group=settings.hydra_group, local=state))
            (staging / "d" / name).write_text(html, encoding="utf-8")
            rows.append(index_row(definition, f"d/{name}", state))
        facets = _facets(rows)
        index = {"format": INDEX_FORMAT, "generator": f"dmconf {__version__}", "local": local,
                 "sizes": SIZE_BUCKETS, "datasets": rows}
        text = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
        (staging / "search-index.json").write_text(text, encoding="utf-8")
        # file:// pages may not fetch() a file: the same JSON, as a script that assigns it.
        (staging / "search-index.js").write_text(
            f"window.DMCONF_INDEX={text};\n", encoding="utf-8")
        (staging / "index.html").write_text(templates.get_template("index.html").render(
            version=__version__, root="", count=len(rows), facets=facets, local=local,
            sizes=SIZE_BUCKETS), encoding="utf-8")
        shutil.copytree(STATIC, staging / "assets")
        (staging / MARKER).write_text(
            json.dumps({"generator": f"dmconf {__version__}", "datasets": len(rows)}) + "\n",
            encoding="utf-8")
        _replace(target, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SiteBuilt(target, len(rows), catalog.problems[skipped_before:])


def _templates() -> Any:
    try:
        import jinja2
    except ImportError:
        raise MissingExtra(module="jinja2", extra="site",
                           purpose="dmconf catalog --html (the site's templates)") from None
    return jinja2.Environment(
        loader=jinja2.PackageLoader("dmconf.site", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _checked_target(out: Path) -> Path:
    target = out.expanduser().absolute()
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise SettingsError(f"--html {target}: exists and is not a folder; name a new folder "
                            "(nothing was written)")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise SettingsError(
            f"--html {target}: the folder is not empty and was not written by `dmconf catalog "
            "--html`, so it is not replaced; name an empty or new folder (nothing was written)")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _replace(target: Path, staging: Path) -> None:
    """Put the new site in place of the old one (two renames), then delete the old one."""
    if not target.exists():
        os.rename(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rename(target, old / "site")
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old / "site", target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _prepared_sizes(settings: Settings) -> dict[Path, int]:
    """The dataset folders fully prepared in every store (the data folder, and the read-only
    stores before it), with the bytes each uses."""
    from dmconf.prepared import disk_usage

    sizes = {}
    for store in (settings.data, *settings.read_only):
        in_store = settings.model_copy(update={"data": store})
        sizes.update({found.folder: found.size for found in disk_usage(in_store) if found.complete})
    return sizes


def _local(definition: DatasetDefinition, settings: Settings, usage: dict[Path, int]) -> Local:
    """Prepared in the data folder, or else in a read-only store (a lab's): as prepare sees it."""
    from dmconf.state import DatasetState
    from dmconf.store.stores import prepared_elsewhere

    folder = settings.dataset_folder(definition)
    if folder in usage:
        try:
            if DatasetState(folder).is_prepared(definition):
                return Local(prepared=True, size=usage[folder])
        except DmconfError:  # a foreign file where a resource should be: not usable
            pass
    elsewhere = prepared_elsewhere(settings, definition) if settings.read_only else None
    if elsewhere is not None and elsewhere in usage:
        return Local(prepared=True, size=usage[elsewhere], store=str(elsewhere.parents[1]))
    return Local(prepared=False, size=None)


def _facets(rows: list[dict[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    """The filter choices with their counts: domains, tasks and licences, sorted by name."""
    domains = Counter(row["g"] for row in rows)
    tasks = Counter(task for row in rows for task in dict.fromkeys(row["k"]))
    licences = Counter(row["l"] for row in rows)  # "": not given
    return {name: sorted(counts.items()) for name, counts in
            (("domains", domains), ("tasks", tasks), ("licences", licences))}
