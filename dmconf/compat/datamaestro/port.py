"""``dmconf port SOURCE --out DIR``: a datamaestro plugin made an installable dmconf plugin.

SOURCE is a folder (a project or its package), an sdist (``.tar.gz``), a wheel (``.whl``), or the
name of an installed distribution. Each top-level package ``datamaestro_X`` is copied as
``dmconf_X`` with its imports rewritten (``datamaestro`` -> ``dmconf.compat.datamaestro``,
``experimaestro`` -> ``dmconf.compat.experimaestro``, ``datamaestro_X`` -> ``dmconf_X``); its
``config`` package is registered under the entry point group ``dmconf.repositories``, so every
definition module is found without one entry point per dataset. Tests are left out. What could
not be rewritten is listed in ``PORT-REPORT.md`` and returned.
"""

from __future__ import annotations

import re
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from dmconf.compat.datamaestro.data.ir import SHARED
from dmconf.errors import DmconfError

__all__ = ["PortResult", "port", "rewrite"]

COMPAT = "dmconf.compat"
_IMPORT = re.compile(r"^(\s*)(from|import)\s+(datamaestro|experimaestro)\b([\w.]*)(.*)$")
_PLUGIN = re.compile(r"\bdatamaestro_(\w+)")
# Submodules of experimaestro that a data type may import; the rest are reported.
_KNOWN_XPM = {""}


@dataclass
class PortResult:
    """Where the ported project is, its packages, and what could not be ported."""

    project: Path
    packages: list[str]
    problems: list[str] = field(default_factory=list)


def _shared_types(source: str) -> str:
    """The lines ending a plugin's TREC types module: its topics, judgements and runs made
    dmconf's IR types (:mod:`dmconf.compat.datamaestro.data.ir`)."""
    from dmconf.compat.datamaestro.data.ir import BASES

    names = [n for n in BASES if re.search(rf"^class {n}\b", source, re.M)]
    if not names:
        return ""
    lines = [f"{n} = _dmconf_shared({n})\n" for n in names]
    return ("\n\n# dmconf port: these types are dmconf's IR types (dmconf.data.ir) as well\n"
            f"from {COMPAT}.datamaestro.data.ir import shared as _dmconf_shared  # noqa: E402\n"
            + "".join(lines))


def rewrite(source: str, where: str, problems: list[str], types: bool = False) -> str:
    """The module ``source`` with its datamaestro and experimaestro imports rewritten, and the
    plugin's TREC data types made dmconf's at the end of its ``types`` module (see
    :mod:`dmconf.compat.datamaestro.data.ir`)."""
    lines = []
    for number, line in enumerate(source.splitlines(keepends=True), 1):
        match = _IMPORT.match(line.rstrip("\r\n"))
        if match:
            indent, keyword, package, submodule, rest = match.groups()
            target = f"{COMPAT}.{package}{submodule}"
            if package == "experimaestro" and submodule not in _KNOWN_XPM:
                problems.append(
                    f"{where}:{number}: imports experimaestro{submodule}, which dmconf does not "
                    f"provide ({line.strip()})"
                )
            if keyword == "import" and not rest.strip().startswith(("as", ",")) and not submodule:
                rest = f" as {package}{rest}"
            newline = line[len(line.rstrip("\r\n")):]
            line = f"{indent}{keyword} {target}{rest}{newline}"
        lines.append(_PLUGIN.sub(r"dmconf_\1", line))
    if types:
        lines.append(("" if not lines or lines[-1].endswith("\n") else "\n")
                     + _shared_types(source))
    return "".join(lines)


def _packages(root: Path) -> list[Path]:
    """The ``datamaestro_*`` packages in a project, a ``src/`` layout, or at ``root`` itself."""
    if root.name.startswith("datamaestro_") and (root / "__init__.py").is_file():
        return [root]
    found = []
    for base in (root, root / "src"):
        if base.is_dir():
            found += [
                p for p in sorted(base.iterdir())
                if p.name.startswith("datamaestro_") and (p / "__init__.py").is_file()
            ]
    return found


def _unpacked(source: str, scratch: Path) -> Path:
    path = Path(source)
    if path.is_dir():
        return path
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path) as archive:
            members = [
                m for m in archive.getmembers()
                if (m.isfile() or m.isdir()) and not m.name.startswith("/")
                and ".." not in Path(m.name).parts
            ]
            archive.extractall(scratch, members=members, filter="data")
        tops = [p for p in scratch.iterdir() if p.is_dir()]
        return tops[0] if len(tops) == 1 else scratch
    if path.is_file() and path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("/") or ".." in Path(name).parts:
                    raise DmconfError(f"{path}: refusing the member {name!r} (leaves the folder)")
            archive.extractall(scratch)
        return scratch
    from importlib import metadata

    try:
        dist = metadata.distribution(source)
    except metadata.PackageNotFoundError:
        raise DmconfError(
            f"{source}: not a folder, an sdist (.tar.gz), a wheel (.whl) or an installed "
            "distribution; give one of those"
        ) from None
    top = Path(str(dist.locate_file("")))
    names = {Path(str(f)).parts[0] for f in dist.files or [] if str(f).endswith(".py")}
    for name in names:
        if name.startswith("datamaestro_"):
            shutil.copytree(top / name, scratch / name)
    return scratch


def _requirements(root: Path) -> tuple[str, str, list[str]]:
    """The distribution's name, version and requirements other than datamaestro and
    experimaestro (the version is kept: it names the plugin code that builds resources)."""
    from email.parser import Parser

    for candidate in [root / "PKG-INFO", *root.glob("*.dist-info/METADATA")]:
        if candidate.is_file():
            info = Parser().parsestr(candidate.read_text(encoding="utf-8"))
            requires = [
                r for r in info.get_all("Requires-Dist") or []
                if "extra ==" not in r and not re.match(r"(datamaestro|experimaestro)\b", r)
            ]
            return str(info["Name"]), str(info["Version"] or "0.0.0"), requires
    return root.name, "0.0.0", []


def port(source: str, out: Path) -> PortResult:
    """Port the datamaestro plugin ``source`` into a project under ``out``."""
    with tempfile.TemporaryDirectory(prefix="dmconf-port-") as scratch:
        root = _unpacked(source, Path(scratch))
        packages = _packages(root)
        if not packages:
            raise DmconfError(
                f"{source}: no datamaestro_* package found (a folder with __init__.py)"
            )
        name, version, requires = _requirements(root)
        project_name = "dmconf-" + re.sub(r"^datamaestro[-_]?", "", name.lower()).replace("_", "-")
        project = out / project_name
        if project.exists():
            shutil.rmtree(project)
        problems: list[str] = []
        entry_points = []
        for package in packages:
            new_name = "dmconf_" + package.name[len("datamaestro_"):]
            _copy_package(package, project / "src" / new_name, problems)
            if (package / "config").is_dir():
                entry_points.append(f'{new_name[7:]} = "{new_name}.config"')
        _write_project(project, project_name, version, requires, entry_points)
        report = "\n".join(f"- {p}" for p in problems) or "Nothing: every module was rewritten."
        (project / "PORT-REPORT.md").write_text(
            f"# Port of {source}\n\nWhat `dmconf port` could not rewrite:\n\n{report}\n", "utf-8"
        )
        return PortResult(project, [p.name for p in packages], problems)


def _copy_package(package: Path, target: Path, problems: list[str]) -> None:
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if "__pycache__" in relative.parts or (relative.parts and relative.parts[0] == "test"):
            continue
        if path.is_symlink():
            problems.append(f"{package.name}/{relative}: a symbolic link, not copied")
            continue
        destination = target / relative
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        elif path.suffix == ".py":
            destination.parent.mkdir(parents=True, exist_ok=True)
            text = path.read_text(encoding="utf-8")
            types = SHARED.get(package.name) == relative.as_posix()
            text = rewrite(text, f"{package.name}/{relative}", problems, types)
            destination.write_text(text, "utf-8")
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


def _write_project(
    project: Path, name: str, version: str, requires: list[str], entry_points: list[str]
) -> None:
    dependencies = ", ".join(f'"{r}"' for r in ["dmconf", *requires])
    project.mkdir(parents=True, exist_ok=True)
    (project / "pyproject.toml").write_text(
        f"""# Written by `dmconf port`: a datamaestro plugin rewritten for dmconf.
[build-system]
requires = ["hatchling>=1.18"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "{version}"
requires-python = ">=3.10"
dependencies = [{dependencies}]

[project.entry-points."dmconf.repositories"]
{chr(10).join(entry_points)}

[tool.hatch.build.targets.wheel]
packages = [{", ".join(f'"src/{p.name}"' for p in sorted((project / "src").iterdir()))}]
""",
        "utf-8",
    )
