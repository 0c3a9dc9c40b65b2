"""The ``dmconf`` command line.

Results go to stdout (ids, JSON); logs and progress to stderr. Errors print one line on stderr
and exit non-zero; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys

from dmconf import __version__
from dmconf.errors import DmconfError, SettingsError

TYPE_CHECKING = False  # imported when used: a warm `prepare` answers before any of them
if TYPE_CHECKING:
    import argparse
    import contextlib
    from collections.abc import Sequence
    from typing import Any


class CheckFailed(DmconfError):
    """`dmconf check --network` found URLs that do not answer as pinned."""

__all__ = ["main"]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    """The parser, with every command."""
    return _build(None)[0]


def _build(wanted: str | None) -> tuple[argparse.ArgumentParser, list[str]]:
    """The parser with every command's sub-parser, or (``wanted``) with that one's only: the
    others' arguments are not built (a command's start-up is part of its time). Returns the
    parser and the names of every command."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="dmconf",
        description="Find, download, verify and describe datasets by their qualified id.",
    )
    parser.add_argument("--version", action="version", version=f"dmconf {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    commands = _Commands(
        parser.add_subparsers(dest="command", required=True, metavar="COMMAND"), wanted)

    search = commands.add_parser("search", help="ids matching words (and tags, tasks)")
    search.add_argument("query", nargs="*", help="words to find (tag:X and task:X also work)")
    search.add_argument("--tag", action="append", default=[], help="only datasets with this tag")
    search.add_argument("--task", action="append", default=[], help="only with this task")
    search.add_argument("--license", action="append", default=[],
                        help="only with this licence (SPDX id, case-insensitive)")
    search.add_argument("-l", "--long", action="store_true",
                        help="a table: download size, licence, tasks, splits")
    search.add_argument("--json", action="store_true", help="id, name, tags, tasks as JSON")
    search.set_defaults(func=_search)

    listing = commands.add_parser("list", help="every known id")
    listing.add_argument("--json", action="store_true", help="as a JSON list")
    listing.set_defaults(func=_list)

    info = commands.add_parser("info", help="describe one dataset")
    info.add_argument("id")
    form = info.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="the definition as JSON")
    form.add_argument("--yaml", action="store_true", help="the definition as a YAML file")
    form.add_argument("--bibtex", action="store_true", help="only the citation, as BibTeX")
    info.set_defaults(func=_info)

    check = commands.add_parser(
        "check", help="do the pinned URLs still answer with the pinned sizes? (needs internet)")
    check.add_argument("ids", nargs="*", metavar="ID", help="datasets to check (default: all)")
    check.add_argument("--network", action="store_true", required=True,
                       help="required: this command makes requests to every URL and mirror")
    check.add_argument("--workers", type=int, default=16, help="requests in parallel")
    check.set_defaults(func=_check)

    prepare = commands.add_parser("prepare", help="download what is missing, print JSON")
    prepare.add_argument("ids", nargs="*", metavar="ID")
    prepare.add_argument("--locked", action="store_true",
                         help="prepare exactly what dmconf.lock records (all of it without IDs)")
    prepare.add_argument("--lock-file", default="dmconf.lock", metavar="FILE",
                         help="the lock file for --locked (default: ./dmconf.lock)")
    prepare.add_argument("--rebuild", action="store_true",
                         help="derived datasets: run their step again, replacing the output")
    prepare.set_defaults(func=_prepare)

    verify = commands.add_parser("verify", help="re-hash prepared files against what was verified")
    verify.add_argument("ids", nargs="+", metavar="ID")
    verify.set_defaults(func=_verify)

    remove = commands.add_parser("rm", help="delete the prepared data of datasets")
    remove.add_argument("ids", nargs="+", metavar="ID")
    remove.set_defaults(func=_rm)

    usage = commands.add_parser("du", help="prepared datasets and the disk space they use")
    usage.add_argument("--json", action="store_true", help="id, path, bytes, complete as JSON")
    usage.set_defaults(func=_du)

    collect = commands.add_parser(
        "gc", help="remove derived outputs that no definition references any more")
    collect.add_argument("--dry-run", action="store_true", help="only list what would go")
    collect.set_defaults(func=_gc)

    agree = commands.add_parser("accept", help="accept a dataset's data-use terms (per user)")
    agree.add_argument("id")
    agree.set_defaults(func=_accept)

    adding = commands.add_parser(
        "add-file", help="use a file you downloaded by hand for a resource, then prepare")
    adding.add_argument("id")
    adding.add_argument("resource", help="the resource's key (dmconf info ID lists them)")
    adding.add_argument("path", type=Path, help="the file you downloaded")
    adding.set_defaults(func=_add_file)

    porting = commands.add_parser("port", help="make a datamaestro plugin a dmconf plugin")
    porting.add_argument("source", help="a folder, an sdist, a wheel or an installed distribution")
    porting.add_argument("--out", required=True, type=Path, help="where to write the project")
    porting.set_defaults(func=_port)

    import importlib

    for target, names in _ELSEWHERE:  # a module is imported when one of its commands may run
        if wanted is None or wanted in names:
            module, _, function = target.partition(":")
            getattr(importlib.import_module(module), function)(commands)
        else:
            commands.names += names
    return parser, commands.names


def _add_schema(commands: Any) -> None:
    schema = commands.add_parser("schema", help="JSON schema of a data type or of definitions")
    schema.add_argument("type", nargs="?", help="a type name (idx, csv...); default: definitions")
    schema.set_defaults(func=_schema)


# Commands registered by functions of their own, in the order `dmconf --help` lists them. A
# command missing here still runs: the whole parser is built for a word that is no command.
_ELSEWHERE = (
    ("dmconf.commands.remote:register", ("remote", "push", "pull", "copy", "where")),
    ("dmconf.commands.lockfile:register", ("lock",)),
    ("dmconf.commands.catalog:register", ("catalog",)),
    ("dmconf.commands.paths:register", ("paths",)),
    ("dmconf.cli:_add_schema", ("schema",)),
    ("dmconf.cli_hubs:add_commands", ("import", "export")),  # datasets from and to the hubs
)


class _Commands:
    """The sub-parsers action, making the parser of the command being run only (all of them
    when ``wanted`` is None: for help and usage errors)."""

    def __init__(self, action: Any, wanted: str | None) -> None:
        self._action, self._wanted = action, wanted
        self.names: list[str] = []

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        self.names.append(name)
        if self._wanted is None or name == self._wanted:
            return self._action.add_parser(name, **kwargs)
        return _Unused()


class _Unused:
    """Stands for the parser of a command not being run: every call is ignored."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self


def _accept(args: argparse.Namespace) -> None:
    from dmconf.agreements import accept, describe_terms
    from dmconf.catalog import Catalog

    definition = Catalog.from_settings().find(args.id)
    if not definition.terms:
        _out(f"{definition.id} asks for no agreement")
        return
    _out(describe_terms(definition.terms))
    path = accept(definition)
    _out(f"{definition.id}: accepted (recorded in {path})")


def _add_file(args: argparse.Namespace) -> None:
    from dmconf.manual import add_file
    from dmconf.settings import load_settings

    settings = load_settings(progress=False) if args.quiet else load_settings()
    with logs_above_bars(settings):
        _out(to_json(add_file(args.id, args.resource, args.path, settings=settings)))


def _port(args: argparse.Namespace) -> None:
    import logging

    from dmconf.compat.datamaestro.port import port

    result = port(args.source, args.out)
    for problem in result.problems:
        logging.getLogger("dmconf").warning("not ported: %s", problem)
    _out(str(result.project))


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _search(args: argparse.Namespace) -> None:
    import json

    from dmconf.catalog_note import noted_catalog, remember
    from dmconf.catalog_stat import command

    catalog = noted_catalog()
    with command():  # this process is dmconf's own: its stat calls may use a forked child
        ids = catalog.search(" ".join(args.query), tags=args.tag, tasks=args.task,
                             licenses=args.license)
    described = catalog.described(ids) if args.json or args.long else []
    remember(catalog)
    if args.json:
        rows = [{"id": i, **meta} for i, meta in described]
        # Search reads a definition's fields unvalidated: YAML may give a date, printed as text.
        _out(json.dumps(rows, indent=2, default=str))
    elif args.long:
        from dmconf.progress import human_size

        for dataset_id, meta in described:
            size = meta.get("download_size")
            splits = meta.get("splits")
            splits = splits if isinstance(splits, dict) else {}
            tasks = meta.get("tasks") or []
            tasks = ",".join(map(str, tasks if isinstance(tasks, list) else [tasks]))
            _out(f"{dataset_id:<42} {human_size(size) if isinstance(size, int) else '?':>9}  "
                 f"{meta.get('license') or '-'!s:<22} {tasks or '-'}"
                 f"  [{', '.join(f'{k} {v:,}' for k, v in splits.items() if isinstance(v, int))}]")
    else:
        for dataset_id in ids:
            _out(dataset_id)


def _list(args: argparse.Namespace) -> None:
    import json

    from dmconf.catalog_note import noted_catalog, remember

    catalog = noted_catalog()
    ids = catalog.ids()
    remember(catalog)
    _out(json.dumps(ids, indent=2) if args.json else "\n".join(ids))


def _info(args: argparse.Namespace) -> None:
    from dmconf.commands.info import info

    info(args)


def _check(args: argparse.Namespace) -> None:
    from dmconf.catalog import Catalog
    from dmconf.check import check_urls
    from dmconf.settings import load_settings

    settings = load_settings()
    catalog = Catalog.from_settings(settings)
    definitions = [catalog.find(i) for i in (args.ids or catalog.ids())]
    rows = check_urls(definitions, settings, workers=args.workers)
    for row in rows:
        verdict = "ok" if row.ok else f"FAIL {row.problem}"
        size = f"{row.actual}" if row.actual is not None else "-"
        _out(f"{row.dataset}  {row.resource}  {size:>12}  {verdict}  {row.url}")
    failed = [r for r in rows if not r.ok]
    _out(f"{len(rows) - len(failed)} of {len(rows)} URLs answer with the pinned size")
    if failed:
        raise CheckFailed(f"{len(failed)} URL(s) failed the check (see the table above)")


def _prepare(args: argparse.Namespace) -> None:
    import time

    from dmconf.catalog import Catalog
    from dmconf.preparation import prepared
    from dmconf.settings import load_settings
    from dmconf.warm import claimed, noted, release_claims, remember

    started = time.time_ns()
    settings = load_settings(progress=False) if args.quiet else load_settings()
    claimed(settings.lock_timeout)
    catalog = Catalog.from_settings(settings)
    if not args.ids and not args.locked:
        raise SettingsError("prepare: name at least one dataset id (or use --locked)")
    with logs_above_bars(settings):
        if args.locked:
            from dmconf.lockfile import prepare_locked

            for typed in prepare_locked(args.lock_file, args.ids, settings, catalog):
                _out(to_json(typed))
            return
        for dataset_id in args.ids:
            def known(answer: Any, dataset_id: str = dataset_id) -> None:
                if args.rebuild or not noted(dataset_id, catalog, answer, started=started):
                    release_claims()  # no note to wait for: who waits takes the full path now

            answer = prepared(dataset_id, settings, catalog, rebuild=args.rebuild, known=known)
            text = to_json(answer.typed)
            _out(text)
            if not args.rebuild:
                remember(dataset_id, catalog, answer, started=started, output=text)


def _warm_prepare(argv: Sequence[str]) -> int | None:
    """``dmconf [-q] prepare ID...`` of datasets prepared before, when nothing changed: the
    JSON printed then, without loading settings or definitions (see :mod:`dmconf.warm`)."""
    words = list(argv)
    while words and words[0] in ("-q", "--quiet"):
        words.pop(0)
    if len(words) < 2 or words[0] != "prepare" or any(w.startswith("-") for w in words):
        return None
    from dmconf.warm import claim_or_wait, recall_json

    answers = [recall_json(dataset_id) for dataset_id in words[1:]]
    if len(answers) == 1 and answers[0] is None:  # one id: claim it, or wait for its claim
        quiet = len(words) != len(argv)
        answers = [claim_or_wait(words[1], None if quiet else _waiting)]
    if any(answer is None for answer in answers):
        return None
    for answer in answers:
        _out(str(answer))
    return 0


def _warm_info(argv: Sequence[str]) -> int | None:
    """``dmconf [-q] info ID [--json|--yaml|--bibtex]`` when nothing it depends on changed
    since it was printed: the text printed then, without argparse, the settings, the catalogue
    or the models (see :mod:`dmconf.info_note`)."""
    words = list(argv)
    while words and words[0] in ("-q", "--quiet"):
        words.pop(0)
    forms = {"--json": "json", "--yaml": "yaml", "--bibtex": "bibtex"}
    options = [w for w in words[1:] if w.startswith("-")]
    names = [w for w in words[1:] if not w.startswith("-")]
    if words[:1] != ["info"] or len(names) != 1 or len(options) > 1 or not set(options) <= set(
            forms):
        return None
    from dmconf.info_note import recall_info

    text = recall_info(names[0], forms[options[0]] if options else "text")
    if text is None:
        return None
    _out(text)
    return 0


def _waiting(message: str) -> None:
    print(f"INFO {message}", file=sys.stderr, flush=True)  # as the dmconf logger prints


def logs_above_bars(settings: Any) -> contextlib.AbstractContextManager[Any]:
    """While progress bars show, log lines print above them, not through them."""
    import contextlib
    import logging

    from dmconf.progress import progress_enabled

    if not progress_enabled(settings):
        return contextlib.nullcontext()
    from tqdm.contrib.logging import logging_redirect_tqdm

    return logging_redirect_tqdm([logging.getLogger("dmconf")])


def _verify(args: argparse.Namespace) -> None:
    from dmconf.catalog import Catalog
    from dmconf.preparation import resolve_definition
    from dmconf.prepared import verify
    from dmconf.settings import load_settings

    settings = load_settings()
    catalog = Catalog.from_settings(settings)
    for dataset_id in args.ids:
        definition = resolve_definition(dataset_id, settings=settings, catalog=catalog)
        checked = verify(definition, settings)
        what = "derived output" if definition.derive else f"{len(checked)} resource(s)"
        _out(f"{dataset_id}: {what} verified")


def _rm(args: argparse.Namespace) -> None:
    import logging

    from dmconf.prepared import remove
    from dmconf.settings import load_settings

    settings = load_settings()
    for dataset_id in args.ids:
        folder = remove(dataset_id, settings)
        logging.getLogger("dmconf").info("%s: removed %s", dataset_id, folder)


def _du(args: argparse.Namespace) -> None:
    import json

    from dmconf.prepared import disk_usage
    from dmconf.progress import human_size
    from dmconf.settings import load_settings

    found = disk_usage(load_settings())
    if args.json:
        rows = [{"id": d.id, "path": str(d.folder), "bytes": d.size, "complete": d.complete,
                 "derived": d.derived} for d in found]
        _out(json.dumps(rows, indent=2))
        return
    for item in found:
        partial = "" if item.complete else "  (not fully prepared)"
        derived = f"  (derived, {item.folder.name})" if item.derived else ""
        _out(f"{human_size(item.size):>10}  {item.id}{derived}{partial}")
    _out(f"{human_size(sum(d.size for d in found)):>10}  total")


def _gc(args: argparse.Namespace) -> None:
    import logging

    from dmconf.derive.gc import collect
    from dmconf.progress import human_size
    from dmconf.settings import load_settings

    result = collect(load_settings(), dry_run=args.dry_run)
    for reason in result.kept:
        logging.getLogger("dmconf").warning("%s", reason)
    for dataset_id, folder, size in result.removed:
        _out(f"{human_size(size):>10}  {dataset_id}  {folder.name}")
    verb = "would free" if args.dry_run else "freed"
    _out(f"{verb} {human_size(result.freed)} ({len(result.removed)} unreferenced output(s))")


def to_json(obj: Any) -> str:
    """A prepared object as JSON: absolute paths, the id, no unset fields.

    ``serialize_as_any``: a field declared ``Base`` holds an ``IDX``; dump the ``IDX`` fields.
    """
    return str(obj.model_dump_json(indent=2, exclude_none=True, serialize_as_any=True))


def _schema(args: argparse.Namespace) -> None:
    import json

    if args.type is None:
        from dmconf.definition import DatasetDefinition

        _out(json.dumps(DatasetDefinition.model_json_schema(), indent=2))
        return
    from dmconf.data.registry import resolve_type

    _out(json.dumps(resolve_type(args.type).model_json_schema(), indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    _freeze_at_exit()
    try:
        words = sys.argv[1:] if argv is None else argv
        answered = _warm_prepare(words)
        if answered is None:
            answered = _warm_info(words)
        return _main(argv) if answered is None else answered
    finally:
        if "dmconf.warm" in sys.modules:  # the note is written: who waits on it answers from it
            sys.modules["dmconf.warm"].release_claims()


def _freeze_at_exit() -> None:
    """At the interpreter's exit, move every object out of the garbage collector's reach
    (:func:`gc.freeze`), so that its last collections do not walk the ~45,000 objects a cold
    ``prepare`` leaves (pydantic's schemas, ~450 modules) only for the process to hand its
    memory back anyway: 0.05-0.1 CPU-s of a command's time. The rest of the shutdown runs as
    before (the other exit handlers, closing files, flushing stdout). An exit handler, so that
    :func:`main` called in a process that goes on (tests, a notebook) leaves the collector
    alone until that process ends."""
    import atexit
    import gc

    atexit.unregister(gc.freeze)  # once, however many times main runs in a process
    atexit.register(gc.freeze)


def _main(argv: Sequence[str] | None) -> int:
    from dmconf import logs

    words = list(sys.argv[1:] if argv is None else argv)
    wanted = next((w for w in words if not w.startswith("-")), None)
    parser, names = _build(wanted)
    if wanted not in names:  # help, a usage error: every command is shown
        parser = _parser()
    args = parser.parse_args(words)
    logs.to_stderr(logs.DEBUG if args.debug else logs.WARNING if args.quiet else logs.INFO)
    if args.func is not _list:  # list's modules log through logs.logger(): logging when used
        logs.logger()
    try:
        args.func(args)
    except KeyboardInterrupt:
        # A progress bar may still hold the terminal's line: start the message on a new one.
        newline = "\n" if sys.stderr.isatty() else ""
        print(f"{newline}dmconf: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (DmconfError, OSError) as exc:
        if args.debug:
            raise
        print(f"dmconf: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        logs.stop_stderr()
    return 0


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, DmconfError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return " ".join(str(exc).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
