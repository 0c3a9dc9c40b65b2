"""``dmconf remote``, ``push``, ``pull`` and ``copy``: moving prepared data between machines."""

from __future__ import annotations

import argparse
import logging
from typing import Any

__all__ = ["register"]

log = logging.getLogger("dmconf")


def register(commands: Any) -> None:
    """Add the commands to the CLI's subparsers."""
    remote = commands.add_parser("remote", help="named remotes: add, list, remove")
    actions = remote.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="declare a remote in the settings file")
    add.add_argument("name")
    add.add_argument("url", help="a folder, ssh://user@host/path, s3://bucket/prefix, https://...")
    add.add_argument("--public", action="store_true",
                     help="anyone may read it (guards licences that forbid redistribution)")
    add.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                     help="backend option (endpoint_url=..., port=...), YAML value")
    add.add_argument("--use", action="store_true",
                     help="also let prepare try it before the original URLs (settings remotes:)")
    add.set_defaults(func=_add)
    listing = actions.add_parser("list", help="the declared remotes")
    listing.set_defaults(func=_list)
    remove = actions.add_parser("remove", help="forget a remote (its data stays where it is)")
    remove.add_argument("name")
    remove.set_defaults(func=_remove)

    push = commands.add_parser("push", help="upload prepared datasets to a remote")
    push.add_argument("ids", nargs="+", metavar="ID")
    push.add_argument("-r", "--remote", help="remote name or URL (default: the first declared)")
    push.add_argument("--force", action="store_true",
                      help="push to a public remote whatever the licence says")
    push.set_defaults(func=_push)

    pull = commands.add_parser("pull", help="download prepared datasets from a remote, verified")
    pull.add_argument("ids", nargs="+", metavar="ID[@DIGEST]")
    pull.add_argument("-r", "--remote", help="remote name or URL (default: the first declared)")
    pull.set_defaults(func=_pull)

    copy = commands.add_parser("copy", help="copy prepared datasets to another machine over ssh")
    copy.add_argument("ids", nargs="+", metavar="ID")
    copy.add_argument("destination", metavar="[USER@]HOST[:DATAFOLDER]")
    copy.add_argument("--dmconf", default="dmconf", metavar="COMMAND",
                      help="the dmconf command on the other machine (default: dmconf)")
    copy.add_argument("--force", action="store_true", help="as for push")
    copy.set_defaults(func=_copy)

    where = commands.add_parser("where", help="print the data folder")
    where.set_defaults(func=_where)


def _out(text: str) -> None:
    import sys

    sys.stdout.write(text + "\n")


def _add(args: argparse.Namespace) -> None:
    import yaml

    from dmconf.settings import update_settings_file

    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            from dmconf.errors import SettingsError

            raise SettingsError(f"--option {item!r}: expected KEY=VALUE")
        options[key] = yaml.safe_load(value)

    def change(values: dict[str, Any]) -> None:
        entry: dict[str, Any] = {"url": args.url}
        if args.public:
            entry["public"] = True
        if options:
            entry["options"] = options
        values.setdefault("remote", {})[args.name] = entry
        if args.use and args.name not in values.setdefault("remotes", []):
            values["remotes"].append(args.name)

    path = update_settings_file(change)
    log.info("remote %r added to %s", args.name, path)


def _list(args: argparse.Namespace) -> None:
    from dmconf.settings import load_settings

    settings = load_settings()
    for name, config in settings.remote.items():
        marks = [m for m, on in (("public", config.public), ("prepare", name in settings.remotes))
                 if on]
        _out(f"{name}\t{config.url}" + (f"\t({', '.join(marks)})" if marks else ""))


def _remove(args: argparse.Namespace) -> None:
    from dmconf.errors import SettingsError
    from dmconf.settings import update_settings_file

    def change(values: dict[str, Any]) -> None:
        if args.name not in (values.get("remote") or {}):
            raise SettingsError(f"no remote named {args.name!r} in the settings file")
        del values["remote"][args.name]
        values["remotes"] = [n for n in values.get("remotes") or [] if n != args.name]

    update_settings_file(change)


def _default_remote(name: str | None) -> tuple[Any, Any]:
    from dmconf.errors import SettingsError
    from dmconf.remote import open_remote
    from dmconf.settings import load_settings

    settings = load_settings()
    if name is None:
        if not settings.remote:
            raise SettingsError("no remote declared: `dmconf remote add NAME URL`, or pass -r URL")
        name = next(iter(settings.remote))
    return settings, open_remote(name, settings)


def _push(args: argparse.Namespace) -> None:
    from dmconf.catalog import Catalog
    from dmconf.cli import logs_above_bars
    from dmconf.progress import human_size
    from dmconf.remote.transfer import push

    settings, remote = _default_remote(args.remote)
    catalog = Catalog.from_settings(settings)
    for dataset_id in args.ids:
        with logs_above_bars(settings):
            done = push(catalog.find(dataset_id), settings, remote, force=args.force)
        log.info("%s: %d of %d blob(s) sent (%s) to %s", dataset_id, done.sent, done.blobs,
                 human_size(done.size), remote)
        _out(f"{dataset_id}@{done.digest}")


def _pull(args: argparse.Namespace) -> None:
    from dmconf.catalog import Catalog
    from dmconf.cli import logs_above_bars
    from dmconf.remote.transfer import pull

    settings, remote = _default_remote(args.remote)
    catalog = Catalog.from_settings(settings)
    for item in args.ids:
        dataset_id, digest = _with_digest(item)
        with logs_above_bars(settings):
            done = pull(dataset_id, digest or None, settings, remote, catalog)
        log.info("%s: %s from %s (%s)", dataset_id,
                 "pulled" if done.resources else "already here", remote, done.folder)
        _out(f"{dataset_id}@{done.digest}")


def _with_digest(item: str) -> tuple[str, str | None]:
    """``ID[@VERSION][:VARIANT][@DIGEST]``: the reference, and the digest after its last ``@``
    unless that part is a version (``2.1``, ``2.1+small``: digits first, never 64 hex)."""
    from dmconf.definition import SHA256_PATTERN

    head, sep, tail = item.rpartition("@")
    if not sep or (tail[:1].isdigit() and not SHA256_PATTERN.match(tail)):
        return item, None
    return head, tail  # a malformed digest is refused by pull, by name


def _copy(args: argparse.Namespace) -> None:
    from dmconf.catalog import Catalog
    from dmconf.remote.copy import copy
    from dmconf.settings import load_settings

    settings = load_settings()
    catalog = Catalog.from_settings(settings)
    definitions = [catalog.find(dataset_id) for dataset_id in args.ids]
    for line in copy(definitions, args.destination, settings, dmconf=args.dmconf,
                     force=args.force):
        _out(line)


def _where(args: argparse.Namespace) -> None:
    from dmconf.settings import load_settings

    _out(str(load_settings().data))
