"""Figures for the catalogue index (not a test: it prints, it asserts nothing).

Generates catalogues of 10,000 and 100,000 definitions (``tests/generated_catalog.py``) and runs
``dmconf search``, ``list`` and ``info`` as whole processes, as a user does, with:
- a warm index (built by an earlier run, nothing changed since);
- a cold index (``$DMCONF_CACHE/catalog`` removed before each run: it is built, then saved);
- no index (``DMCONF_CATALOG_INDEX=off``: every folder listed, every searched file parsed, as
  before the index existed);
- the references, in the same run: ``python -c pass``, and ``dmconf list`` of the bundled
  catalogue alone (what every command costs before it reads a catalogue: imports, settings,
  the scan of installed entry points).

Repetitions are interleaved (one of each figure per round) so that a load that comes and goes
on the machine falls on all of them; medians, min and max of wall time, the median CPU time
(user + system of the child) and the ratio of the wall median to the reference's are printed.

``--against DIR`` adds the warm figures of another checkout of dmconf (``git archive COMMIT |
tar -x -C DIR``), run by the same interpreter with ``PYTHONPATH=DIR`` and a cache of its own,
interleaved with the others: before and after a change, in one run.

Run: python benchmarks/bench_catalog.py [SIZES...] [--rounds N] [--cold-rounds N] [--against DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from generated_catalog import generate

DMCONF = [sys.executable, "-c", "import sys; from dmconf.cli import main; sys.exit(main())"]


def timed(command: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command`` (its output discarded)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(size: int, work: Path, rounds: int, cold_rounds: int,
            slow_rounds: int, against: Path | None = None) -> list[tuple[str, list]]:
    root = work / f"catalog-{size}"
    if not root.is_dir():
        generate(root, size)
        time.sleep(2.5)  # older than the index's "changed too recently to trust" window
    cache = work / f"cache-{size}"
    env = {**os.environ, "DMCONF_CATALOG": str(root), "DMCONF_CACHE": str(cache),
           "DMCONF_DATA": str(work / "data"), "DMCONF_SETTINGS": os.devnull}
    off = {**env, "DMCONF_CATALOG_INDEX": "off"}
    bundled = {k: v for k, v in env.items() if k != "DMCONF_CATALOG"}
    # A word in 1 in 18 names, a tag and a task: every file is matched, a few hundred printed.
    search = [*DMCONF, "search", "juniper", "--tag", "image", "--task", "segmentation"]
    some = sorted((root / "gen" / "text").iterdir())[len(os.listdir(root / "gen" / "text")) // 2]
    listing, info = [*DMCONF, "list"], [*DMCONF, "info", f"gen.text.{some.stem}"]
    subprocess.run(search, env=env, stdout=subprocess.DEVNULL, check=True)  # warm: built once
    subprocess.run(listing, env=bundled, stdout=subprocess.DEVNULL, check=True)
    subprocess.run(info, env=env, stdout=subprocess.DEVNULL, check=True)
    base: list[tuple[str, list[str], dict[str, str], int]] = []
    if against is not None:  # another checkout: its own cache (another index version)
        other = {**env, "PYTHONPATH": str(against), "DMCONF_CACHE": str(cache) + "-against"}
        other_bundled = {k: v for k, v in other.items() if k != "DMCONF_CATALOG"}
        base = [("list, bundled, against", listing, other_bundled, rounds),
                ("search, warm, against", search, other, rounds),
                ("list, warm, against", listing, other, rounds),
                ("info, warm, against", info, other, rounds)]
        for _, command, variables, _ in base:
            subprocess.run(command, env=variables, stdout=subprocess.DEVNULL, check=True)
    warm = cache / "catalog.warm"  # put back after each cold figure (rebuilding takes minutes)
    shutil.rmtree(warm, ignore_errors=True)
    shutil.copytree(cache / "catalog", warm)
    figures: dict[str, list[tuple[float, float]]] = {}
    plan = [
        ("python -c pass", [sys.executable, "-c", "pass"], env, rounds),
        ("list, bundled only", listing, bundled, rounds),  # the floor: imports, settings...
        ("search, warm index", search, env, rounds),
        ("list, warm index", listing, env, rounds),
        ("info, warm index", info, env, rounds),
        *base,
        ("search, cold index", search, env, slow_rounds),
        ("list, cold index", listing, env, cold_rounds),
        ("info, cold index", info, env, cold_rounds),
        ("search, no index", search, off, slow_rounds),
        ("list, no index", listing, off, cold_rounds),
        ("info, no index", info, off, cold_rounds),
    ]
    for n in range(max(rounds, cold_rounds, slow_rounds)):
        for name, command, variables, wanted in plan:
            if n >= wanted:
                continue
            if "cold" in name:
                shutil.rmtree(cache / "catalog", ignore_errors=True)
            figures.setdefault(name, []).append(timed(command, variables))
            if "cold" in name:  # leave the warm index for the next warm figure
                shutil.rmtree(cache / "catalog", ignore_errors=True)
                shutil.copytree(warm, cache / "catalog")
    return list(figures.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=7, help="runs of each warm figure")
    parser.add_argument("--cold-rounds", type=int, default=3, help="runs of cold/no-index ones")
    parser.add_argument("--slow-rounds", type=int, help="runs of cold/no-index search "
                        "(default: --cold-rounds; 0 skips them, minutes each at 100,000)")
    parser.add_argument("--keep", type=Path, help="generate into (and reuse) this folder")
    parser.add_argument("--against", type=Path,
                        help="another checkout of dmconf to measure beside (warm figures)")
    args = parser.parse_args()
    work = (args.keep or Path(tempfile.mkdtemp(prefix="dmconf-bench-catalog-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)  # `python -c` puts the working folder first on sys.path: not a checkout
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at start")
    try:
        for size in args.sizes:
            slow = args.cold_rounds if args.slow_rounds is None else args.slow_rounds
            figures = measure(size, work, args.rounds, args.cold_rounds, slow, args.against)
            reference = statistics.median(w for w, _ in dict(figures)["python -c pass"])
            print(f"\n{size:,} definitions; wall ms median (min-max), CPU ms median, "
                  "wall / python -c pass")
            for name, runs in figures:
                walls = [w * 1000 for w, _ in runs]
                cpu = statistics.median(c * 1000 for _, c in runs)
                print(f"  {name:24} {statistics.median(walls):8.0f} ({min(walls):.0f}-"
                      f"{max(walls):.0f})  cpu {cpu:7.0f}  "
                      f"x{statistics.median(walls) / 1000 / reference:6.1f}  n={len(runs)}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
