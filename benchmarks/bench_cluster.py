"""16 jobs starting together on one shared store (not a test: it prints, it asserts nothing).

Serves generated MNIST-format files (4 resources, 11.6 MB gzipped) from the test suite's HTTP
server on 127.0.0.1, then times 16 ``dmconf prepare`` processes started at once:
- on a store where MNIST is already prepared (the cost of checking, not downloading);
- on an empty store (one job downloads each file, fifteen wait and use it);
each on the local disk (``flock``) and, where bindfs can mount it, through a FUSE view of the
same folder (``auto`` chooses a lease there). The reference, measured in the same run: 16
processes that only start Python and ``import dmconf`` (the floor of any job), and one job
alone on the empty store (the download itself). GETs per file are counted on the server.

Run: python benchmarks/bench_cluster.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import yaml  # noqa: E402
from httpserver import Running  # noqa: E402
from mnistdata import make_mnist  # noqa: E402

sys.path.insert(0, str(HERE))
from bench_prepare import served_definition  # noqa: E402

JOBS = 16
DMCONF = str(Path(sys.executable).with_name("dmconf"))


def together(commands: list[list[str]], env: dict[str, str]) -> float:
    """Seconds from starting every command to the last one's exit (all must succeed)."""
    start = time.perf_counter()
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for c in commands]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"a job failed: {err.decode()}")
    return time.perf_counter() - start


def main() -> None:
    mnist = make_mnist(seed=0, compresslevel=6)
    server = Running()
    work = Path(tempfile.mkdtemp(prefix="dmconf-bench-cluster-"))
    views: list[Path] = []
    try:
        definition = served_definition(server, mnist.gz)
        (work / "cat" / "bench").mkdir(parents=True)
        (work / "cat" / "bench" / "mnist.yaml").write_text(yaml.safe_dump(definition))
        (work / "settings.yaml").write_text("{}\n")
        env = {**os.environ, "DMCONF_CATALOG": str(work / "cat"),
               "DMCONF_SETTINGS": str(work / "settings.yaml"),
               "DMCONF_CACHE": str(work / "cache")}
        prepare = [DMCONF, "-q", "prepare", "bench.mnist"]

        floor = together([[sys.executable, "-c", "import dmconf"]] * JOBS, env)
        print(f"reference: {JOBS} processes starting Python + import dmconf: {floor:6.2f} s")
        store = work / "alone"
        alone = together([prepare], {**env, "DMCONF_DATA": str(store)})
        print(f"reference: 1 job alone on an empty store (downloads 11.6 MB): {alone:6.2f} s")
        again = together([prepare], {**env, "DMCONF_DATA": str(store)})
        print(f"reference: 1 job alone on a prepared store: {again:6.2f} s")
        server.state.reset()

        places = [("local disk, flock", work / "local")]
        if shutil.which("bindfs") and os.path.exists("/dev/fuse"):
            (work / "fuse-src").mkdir()
            view = work / "fuse-view"
            view.mkdir()
            cacheless = "entry_timeout=0,attr_timeout=0,negative_timeout=0"  # as NFS's c-t-o
            if subprocess.run(["bindfs", "-o", cacheless, str(work / "fuse-src"), str(view)],
                              capture_output=True, check=False).returncode == 0:
                views.append(view)
                places.append(("FUSE view, lease", view))
        for label, data in places:
            data.mkdir(exist_ok=True)
            job_env = {**env, "DMCONF_DATA": str(data)}
            empty = together([prepare] * JOBS, job_env)
            gets = {r.path for r in server.state.log if r.method == "GET"}
            count = sum(r.method == "GET" for r in server.state.log)
            server.state.reset()
            prepared = together([prepare] * JOBS, job_env)
            print(f"{label:18}: {JOBS} jobs, empty store {empty:6.2f} s "
                  f"({count} GETs for {len(gets)} files); prepared store {prepared:6.2f} s "
                  f"({prepared - floor:+.2f} s over the import floor)")
    finally:
        for view in views:
            subprocess.run(["fusermount", "-u", str(view)], check=False)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
