"""``dmconf info``: describe one dataset (its text is noted: :mod:`dmconf.info_note`)."""

from __future__ import annotations

import argparse
import textwrap
import time
from typing import Any

from dmconf.cli import _out
from dmconf.errors import DefinitionError

__all__ = ["info"]


def info(args: argparse.Namespace) -> None:
    """``dmconf info ID``: a dataset described, or its definition as JSON/YAML, or its citation
    (noted for the next time: :mod:`dmconf.info_note`)."""
    from dmconf.info_note import recall_info, remember_info

    form = "json" if args.json else "yaml" if args.yaml else "bibtex" if args.bibtex else "text"
    noted = recall_info(args.id, form)
    if noted is not None:  # nothing it depends on changed (dmconf.info_note)
        _out(noted)
        return
    from dmconf.catalog_note import noted_catalog, remember
    from dmconf.settings import load_settings
    from dmconf.state import DatasetState

    started = time.time_ns()
    settings = load_settings()
    catalog = noted_catalog()
    definition = catalog.find(args.id)
    remember(catalog)
    hidden = [entry.location for entry in catalog.places(args.id)[1:]]
    if form != "text":
        if form == "json":
            text = definition.model_dump_json(indent=2)
        elif form == "yaml":
            text = definition.to_yaml().rstrip("\n")
        elif not definition.citation:
            raise DefinitionError("has no citation to print", dataset=definition.id)
        else:
            text = definition.citation.rstrip("\n")
        _out(text)
        if definition.croissant is None:
            remember_info(args.id, form, catalog, [text], started=started)
        return
    folder = settings.dataset_folder(definition)
    prepared = DatasetState(folder).is_prepared(definition)
    lines = [f"{definition.id} - {definition.title}"]
    if definition.description:
        lines += textwrap.indent(definition.description.strip(), "  ").splitlines()
    splits = ", ".join(f"{name} {count:,}" for name, count in definition.splits.items())
    lines += [
        f"homepage:  {definition.homepage or '-'}",
        f"license:   {definition.license or '-'}",
        f"version:   {definition.version or '-'}",
        *_declared(definition),
        f"tags:      {', '.join(definition.tags) or '-'}",
        f"tasks:     {', '.join(definition.tasks) or '-'}",
        f"splits:    {splits or '-'}",
        *([f"download:  {_size_with_bytes(definition.download_size)}",
           f"on disk:   {_size_with_bytes(definition.disk_size)}"] if definition.derive is None
          else ["download:  - (derived: made from its inputs, below)"]),
        f"type:      {definition.type or f'from {definition.croissant}'}",
        f"defined:   {definition.source}",
        *(f"hides:     {place}" for place in hidden),
    ]
    at = len(lines)
    lines += [
        f"prepared:  {'yes' if prepared else 'no'} ({folder})",
        f"hydra:     {settings.hydra_group}={definition.id}"
        if settings.hydra_group
        else "hydra:     - (hydra_group is off)",
        *([f"terms:     must be accepted (dmconf accept {definition.id})"]
          if definition.terms else []),
    ]
    if definition.citation:  # printed alone by `info --bibtex`
        lines += ["citation:", *textwrap.indent(definition.citation, "  ").splitlines()]
    else:
        lines.append("citation:  -")
    if definition.derive is not None:
        derive = definition.derive
        lines += [f"derive:    step {derive.step}"
                  + (f" (version {derive.version})" if derive.version is not None else ""),
                  *(f"  input {name}: {i.dataset}" + (f" part {i.part}" if i.part else "")
                    for name, i in derive.inputs.items()),
                  *(f"  param {k}: {v}" for k, v in derive.params.items())]
    lines += [
        "resources:",
    ]
    for key, resource in definition.resources.items():
        size = _size_with_bytes(resource.size)
        if resource.build is not None:
            build = resource.build
            lines += [f"  {key}: built by {build.code} ({build.plugin} {build.version})",
                      *([f"    from   {', '.join(build.inputs)}"] if build.inputs else []),
                      *([f"    reads  {', '.join(build.datasets)}"] if build.datasets else [])]
            continue
        lines.append(f"  {key}: {size}, unpack {resource.unpack}")
        lines.append(f"    sha256 {resource.sha256 or '(none: computed and printed on download)'}")
        if resource.manual:
            lines.append(f"    manual {' '.join(resource.manual.split())} (file "
                         f"{resource.filename}; dmconf add-file {definition.id} {key} PATH)")
        else:
            lines.append(f"    url    {resource.url}")
        lines += [f"    mirror {mirror}" for mirror in resource.mirrors]
    _out("\n".join(lines))
    if definition.croissant is None:
        state = (at, folder, definition.content_digest(), list(definition.resources))
        remember_info(args.id, form, catalog, lines, started=started, prepared=state)


def _declared(definition: Any) -> list[str]:
    """``info``'s lines for the versions and variants a definition declares (ID@V, ID:NAME)."""
    from dmconf.refs import Semver

    def listed(names: list[str], default: str | None) -> str:
        return ", ".join(f"{n} (default)" if n == default else n for n in names)

    newest_first = sorted(definition.versions, key=lambda v: Semver(v).key(), reverse=True)
    return [
        *([f"versions:  {listed(newest_first, definition.version)}"] if newest_first else []),
        *([f"variants:  {listed(sorted(definition.variants), definition.variant)}"]
          if definition.variants else []),
        *([f"variant:   {definition.variant}"] if definition.variant and not definition.variants
          else []),
    ]


def _size_with_bytes(size: int | None) -> str:
    """``9.5 MiB (9912422 B)``: readable, and exact for comparing with a server's listing."""
    from dmconf.progress import human_size

    if size is None:
        return "size unknown"
    return human_size(size) if size < 1024 else f"{human_size(size)} ({size} B)"
