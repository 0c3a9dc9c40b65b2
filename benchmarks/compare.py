"""dmconf beside its peers and the hardware, in one run (not a test: it prints, it asserts nothing).

Every figure of issue 14 is measured here, in one process tree, with interleaved repetitions:
each repetition runs every contender of a comparison once, in a rotating order, so that the load
of a shared machine falls on all of them alike. What counts is the ratio of medians measured in
the same run; absolute times move with the machine's load.

- Files are served from disk by ``python -m http.server`` on 127.0.0.1 (one server for every
  contender; its request log counts the GETs).
- Peers (pooch, datamaestro) are installed from PyPI into a throwaway virtual environment under
  the fixture folder (``$DMCONF_BENCH_CACHE``, default ``~/.cache/dmconf-bench``), beside the
  generated fixtures (synthetic MNIST, a 1 GiB gzip resource, a tar.gz of 10,000 small files,
  catalogues of 10,000 and 100,000 definitions), which are kept between runs.
- dmconf runs from the interpreter running this script (its ``dmconf`` command beside it).

Run: python benchmarks/compare.py [--reps 5] [--only warm,cold,...] [--gzip-mib 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("DMCONF_BENCH_CACHE", Path.home() / ".cache" / "dmconf-bench"))
BIN = Path(sys.executable).parent
DMCONF = str(BIN / "dmconf")
GROUPS = ("import", "warm", "api", "cold", "concurrent", "gzip", "plain", "untar", "catalog")

POOCH_SCRIPT = """
import json, sys
import pooch
base, cache, kind, names = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
for name, sha256 in names:
    processor = {"gunzip": pooch.Decompress(name=name[:-3]), "untar": pooch.Untar(),
                 "none": None}[kind]
    pooch.retrieve(base + name, known_hash="sha256:" + sha256, path=cache, fname=name,
                   processor=processor, progressbar=False)
"""

# datamaestro's way to define a dataset: a repository package registered under the
# ``datamaestro.repositories`` entry point, its definitions in ``config/`` modules, one
# ``@filedownloader`` per file (a ``.gz`` URL into a name without it: gunzipped, as
# datamaestro-image's com.lecun.mnist does, with no checksum, as there).
DATAMAESTRO_REPOSITORY = {
    "dmbench/__init__.py": """
from datamaestro import Repository as _Repository

class Repository(_Repository):
    DESCRIPTION = "dmconf benchmark: a synthetic MNIST served on 127.0.0.1"
    NAMESPACE = "dmbench"
""",
    "dmbench/config/__init__.py": "",
    "dmbench/config/bench.py": """
import os
from datamaestro.data.ml import Supervised
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader

BASE = os.environ["DMBENCH_BASE"]

@filedownloader("train_images.idx", BASE + "train_images.gz")
@filedownloader("train_labels.idx", BASE + "train_labels.gz")
@filedownloader("test_images.idx", BASE + "test_images.gz")
@filedownloader("test_labels.idx", BASE + "test_labels.gz")
@dataset()
def mnist(train_images, train_labels, test_images, test_labels) -> Supervised:
    'Synthetic MNIST (dmconf benchmark).'
    return Supervised.C(train=IDX.C(path=train_images), test=IDX.C(path=test_images))
""",
    "dmbench-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: dmbench\nVersion: 1.0\n",
    "dmbench-1.0.dist-info/entry_points.txt":
        "[datamaestro.repositories]\ndmbench = dmbench:Repository\n",
}

API_SCRIPT = """
import sys, time
start = time.perf_counter()
import dmconf
ds = dmconf.prepare(sys.argv[1])
calls = 300
start = time.perf_counter()
for _ in range(calls):
    dmconf.prepare(sys.argv[1])
per_call = (time.perf_counter() - start) / calls
import numpy
images = ds.train.images
start = time.perf_counter()
for _ in range(20):
    images.data()
data = (time.perf_counter() - start) / 20
start = time.perf_counter()
for _ in range(20):
    numpy.memmap(images.path, dtype=numpy.uint8, mode="r", offset=16, shape=(60000, 28, 28))
memmap = (time.perf_counter() - start) / 20
print(per_call, data, memmap)
"""


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system seconds of the command
    server_cpu: list[float] = field(default_factory=list)  # of the HTTP server meanwhile

    def cpu_text(self) -> str:
        """Median CPU seconds of the command and of the server serving it."""
        if not self.cpu:
            return ""
        return (f"CPU {statistics.median(self.cpu):.2f} s, server "
                f"{statistics.median(self.server_cpu):.2f} s")

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def text(self) -> str:
        scale, unit = (1e3, "ms") if self.median < 10 else (1, "s")
        return (f"{self.median * scale:.1f} {unit} ({min(self.seconds) * scale:.1f}-"
                f"{max(self.seconds) * scale:.1f})")


@dataclass
class Row:
    figure: str
    ours: Sample
    references: dict[str, Sample]
    target: str = ""
    ratio_to: str | None = None  # the reference the ratio is taken against
    limit: float | None = None  # the ratio the target allows
    note: str = ""

    def ratio(self) -> float | None:
        if self.ratio_to is None:
            return None
        return self.ours.median / self.references[self.ratio_to].median


ROWS: list[Row] = []
LAST_CPU: list[float] = [0.0]  # user + system seconds of the last command run()
SERVER_PIDS: list[int] = []


def server_cpu() -> float:
    """CPU seconds the HTTP server(s) used so far (Linux /proc; 0 elsewhere)."""
    total = 0.0
    for pid in SERVER_PIDS:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run(command: list[str] | str, env: dict[str, str] | None = None, cwd: Path | None = None
        ) -> tuple[float, int]:
    """Run one command to its end; its wall time and peak RSS (kB, the process tree's largest)."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, shell=isinstance(command, str), env=env, cwd=cwd,
                                   stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        LAST_CPU[0] = usage.ru_utime + usage.ru_stime
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{command} failed ({process.returncode}): "
                             f"{errors.read().decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_maxrss


def interleaved(reps: int, contenders: dict[str, tuple[Callable[[], None],
                                                        Callable[[], tuple[float, int]]]]
                ) -> dict[str, Sample]:
    """Each repetition runs every contender once (set-up untimed), rotating the order."""
    samples = {name: Sample() for name in contenders}
    names = list(contenders)
    for rep in range(reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            setup, measure = contenders[name]
            setup()
            os.sync()  # what set-up removed or wrote reaches the disk before the clock starts
            LAST_CPU[0], served = 0.0, server_cpu()
            seconds, rss = measure()
            time.sleep(0.02)  # the server's last send is accounted
            samples[name].seconds.append(seconds)
            samples[name].rss_kb.append(rss)
            samples[name].cpu.append(LAST_CPU[0])
            samples[name].server_cpu.append(server_cpu() - served)
        print(f"  rep {rep + 1}/{reps}: " + ", ".join(
            f"{n} {samples[n].seconds[-1] * 1e3:.0f} ms (CPU {samples[n].cpu[-1]:.2f} s, "
            f"server {samples[n].server_cpu[-1]:.2f} s)" for n in names), flush=True)
    return samples


def nothing() -> None:
    pass


def fresh(path: Path) -> Callable[[], None]:
    def setup() -> None:
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        # The removal's journal commit (and, on a file system mounted with `discard`, its
        # TRIMs) would otherwise stall whichever contender runs next: creating 10,000 files
        # took 0.25 s or 4 s here depending on it.
        os.sync()
    return setup


# --- fixtures ---------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def make_mnist(served: Path) -> list[tuple[str, str]]:
    sys.path.insert(0, str(HERE.parent / "tests"))
    from mnistdata import make_mnist as generate

    folder = served / "m"
    if not (folder / ".done").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for key, data in generate(seed=0, compresslevel=6).gz.items():
            (folder / f"{key}.gz").write_bytes(data)
        (folder / ".done").touch()
    return [(f"{k}.gz", sha256_file(folder / f"{k}.gz")) for k in
            ("train_images", "train_labels", "test_images", "test_labels")]


def make_big(served: Path, mib: int) -> tuple[Path, Path]:
    """A plain file of ``mib`` MiB of text-like bytes (gzip squeezes it about 3x) and its gzip."""
    plain, packed = served / f"big{mib}.bin", served / f"big{mib}.bin.gz"
    if not packed.exists():
        rng = random.Random(0)
        words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9)))
                 for _ in range(5000)]
        tmp = packed.with_suffix(".tmp")
        with plain.open("wb") as out, subprocess.Popen(
                ["gzip", "-6"], stdin=subprocess.PIPE, stdout=tmp.open("wb")) as gz:
            assert gz.stdin is not None
            for _ in range(mib):
                block = b" ".join(rng.choices(words, k=180_000))[: 1 << 20].ljust(1 << 20, b"\n")
                out.write(block)
                gz.stdin.write(block)
            gz.stdin.close()
        os.replace(tmp, packed)
    return plain, packed


def make_tree(served: Path, files: int) -> Path:
    path = served / f"tree{files}.tar.gz"
    if not path.exists():
        rng = random.Random(1)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
            for index in range(files):
                data = bytes(rng.choices(b"abcdefgh \n", k=rng.randint(200, 3000)))
                info = tarfile.TarInfo(f"tree/d{index % 100:02d}/f{index:05d}.txt")
                info.size, info.mtime = len(data), 1_700_000_000
                tar.addfile(info, io.BytesIO(data))
        path.write_bytes(buffer.getvalue())
    return path


def make_catalog(count: int) -> Path:
    """``count`` definitions in the reverse-domain layout, 1,000 a folder."""
    root = CACHE / f"catalog{count}"
    if (root / ".done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(count)
    topics = ["images", "speech", "news", "reviews", "proteins", "traffic", "retrieval", "code"]
    for index in range(count):
        folder = root / "org" / "bench" / f"g{index // 1000:03d}"
        if index % 1000 == 0:
            folder.mkdir(parents=True)
        topic = rng.choice(topics)
        tags = sorted(rng.sample(topics, 2))
        (folder / f"d{index:06d}.yaml").write_text(
            f"name: Benchmark dataset {index}\n"
            f"description: |\n  Synthetic {topic} corpus number {index}, generated for the\n"
            f"  catalogue benchmark; one CSV file.\n"
            f"tags: [{', '.join(tags)}]\ntasks: [classification]\nlicense: CC-BY-4.0\n"
            f"resources:\n  data:\n    url: https://example.org/{index}.csv\n"
            f"    sha256: {hashlib.sha256(str(index).encode()).hexdigest()}\n    size: 1000\n"
            f"type: file\ndata:\n  path: data\n")
    (root / ".done").touch()
    return root


def peers_python() -> str:
    venv = CACHE / "peers-venv"
    python = venv / "bin" / "python"
    if not (venv / ".done").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pooch", "datamaestro"],
                       check=True)
        (venv / ".done").touch()
    return str(python)


class Server:
    """``python -m http.server`` on a free port, serving ``folder``; counts GETs in its log."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log = folder.parent / "server.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
             "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=self.log.open("wb"))
        SERVER_PIDS.append(self.process.pid)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        self.base = f"http://127.0.0.1:{self.port}/"

    def gets(self) -> int:
        return self.log.read_bytes().count(b'"GET ')

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


# --- the comparisons --------------------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.reps: int = args.reps
        CACHE.mkdir(parents=True, exist_ok=True)
        self.served = CACHE / "served"
        self.served.mkdir(exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix="dmconf-compare-"))
        self.catalog = self.work / "catalog"
        self.mnist = make_mnist(self.served)
        self.server = Server(self.served)
        self.peers = peers_python()
        (self.work / "pooch_script.py").write_text(POOCH_SCRIPT)
        (self.work / "settings.yaml").write_text("{}\n")
        self.define("bench.mnist", {
            key[:-3]: {"url": f"{self.server.base}m/{key}", "sha256": sha, "unpack": "gunzip",
                       "size": (self.served / "m" / key).stat().st_size}
            for key, sha in self.mnist}, "image-classification", {
            p: {"images": {"type": "idx", "path": f"{p}_images"},
                "labels": {"type": "idx", "path": f"{p}_labels"}} for p in ("train", "test")})
        # A catalogue and settings in use for a while: the warm path does not trust files
        # changed within 2 s of a run (dmconf.warm.RECENT_NS), and this run wrote them just now.
        old = time.time() - 3600
        for path in [*self.catalog.rglob("*.yaml"), self.work / "settings.yaml"]:
            os.utime(path, (old, old))

    def define(self, dataset_id: str, resources: dict, kind: str, data: dict) -> None:
        *folders, name = dataset_id.split(".")
        path = self.catalog.joinpath(*folders, f"{name}.yaml")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"name": dataset_id, "resources": resources, "type": kind,
                                    "data": data}, indent=1))

    def env(self, data: Path, catalog: Path | None = None) -> dict[str, str]:
        return {**os.environ, "DMCONF_DATA": str(data),
                "DMCONF_CATALOG": str(catalog or self.catalog),
                "DMCONF_SETTINGS": str(self.work / "settings.yaml")}

    def dmconf(self, argv: list[str], data: Path, catalog: Path | None = None
               ) -> Callable[[], tuple[float, int]]:
        env = self.env(data, catalog)
        return lambda: run([DMCONF, "-q", *argv], env)

    def before(self, argv: list[str], data: Path
               ) -> dict[str, tuple[Callable[[], None], Callable[[], tuple[float, int]]]]:
        """The same command run on the dmconf package in --before DIR, if given."""
        if self.args.before is None:
            return {}
        env = {**self.env(data), "PYTHONPATH": str(self.args.before)}
        return {"dmconf before": (fresh(data), lambda: run([DMCONF, "-q", *argv], env))}

    def pooch(self, cache: Path, kind: str, names: list[tuple[str, str]], prefix: str = ""
              ) -> Callable[[], tuple[float, int]]:
        argv = [self.peers, str(self.work / "pooch_script.py"), self.server.base + prefix,
                str(cache), kind, json.dumps(names)]
        return lambda: run(argv)

    def datamaestro(self, data: Path) -> Callable[[], tuple[float, int]]:
        """``datamaestro --data DATA prepare bench.mnist`` with DATAMAESTRO_REPOSITORY installed."""
        site = self.work / "dm-site"
        for name, text in DATAMAESTRO_REPOSITORY.items():
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            (site / name).write_text(text)
        env = {**os.environ, "PYTHONPATH": str(site), "DMBENCH_BASE": f"{self.server.base}m/"}
        argv = [str(Path(self.peers).parent / "datamaestro"), "--quiet", "--data", str(data),
                "prepare", "bench.mnist"]
        return lambda: run(argv, env)

    def python(self, code: str) -> Callable[[], tuple[float, int]]:
        return lambda: run([sys.executable, "-c", code])

    def add(self, row: Row) -> None:
        ROWS.append(row)

    # each group --------------------------------------------------------------------------------

    def group_import(self) -> None:
        print("import dmconf", flush=True)
        samples = interleaved(self.reps * 2, {
            "import dmconf": (nothing, self.python("import dmconf")),
            "python -c pass": (nothing, self.python("pass")),
        })
        ours, ref = samples["import dmconf"], samples["python -c pass"]
        over = Sample([a - ref.median for a in ours.seconds])
        self.add(Row("`import dmconf`, over `python -c pass`", over, {"python -c pass": ref},
                     "<= 25 ms over", note=f"{over.median * 1e3:.1f} ms over"))

    def group_warm(self) -> None:
        print("warm CLI prepare", flush=True)
        data, cache = self.work / "warm-data", self.work / "warm-pooch"
        run([DMCONF, "-q", "prepare", "bench.mnist"], self.env(data))
        pooch = self.pooch(cache, "gunzip", self.mnist, "m/")
        pooch()
        samples = interleaved(self.reps * 2, {
            "dmconf prepare": (nothing, self.dmconf(["prepare", "bench.mnist"], data)),
            "pooch script": (nothing, pooch),
            "python -c pass": (nothing, self.python("pass")),
        })
        self.add(Row("warm `dmconf prepare` (already prepared), whole process",
                     samples["dmconf prepare"],
                     {k: v for k, v in samples.items() if k != "dmconf prepare"},
                     "<= 1.3x pooch", "pooch script", 1.3))

    def group_api(self) -> None:
        print("Python API: warm prepare, data()", flush=True)
        data = self.work / "warm-data"
        run([DMCONF, "-q", "prepare", "bench.mnist"], self.env(data))
        time.sleep(2)  # files written by this run are trusted once 2 s old (dmconf.warm)
        per_call, data_calls, memmaps = [], [], []
        for _ in range(self.reps):
            # -c: no script folder on sys.path (this run's work folder changes all the time,
            # and a sys.path folder changed within 2 s is not trusted by the warm path)
            out = subprocess.run([sys.executable, "-c", API_SCRIPT, "bench.mnist"],
                                 env=self.env(data), check=True, capture_output=True, text=True)
            a, b, c = map(float, out.stdout.split())
            per_call.append(a)
            data_calls.append(b)
            memmaps.append(c)
        self.add(Row("Python `prepare` (already prepared), per call", Sample(per_call), {},
                     "<= 1 ms", note=f"{statistics.median(per_call) * 1e3:.2f} ms"))
        self.add(Row("`IDX.data()` on 47 MB", Sample(data_calls),
                     {"numpy.memmap alone": Sample(memmaps)}, "<= 1 ms",
                     note=f"{statistics.median(data_calls) * 1e3:.2f} ms"))

    def group_cold(self) -> None:
        print("cold prepare, synthetic MNIST (4 gz files)", flush=True)
        data, cache = self.work / "cold-data", self.work / "cold-pooch"
        out, dm = self.work / "cold-curl", self.work / "cold-datamaestro"
        curl = " & ".join(f"curl -sf {self.server.base}m/{k} | gzip -dc > {out}/{k[:-3]}"
                          for k, _ in self.mnist) + " & wait"
        samples = interleaved(self.reps, {
            "dmconf prepare": (fresh(data), self.dmconf(["prepare", "bench.mnist"], data)),
            "pooch script": (fresh(cache), self.pooch(cache, "gunzip", self.mnist, "m/")),
            "datamaestro prepare": (fresh(dm), self.datamaestro(dm)),
            "4x curl | gzip -dc": (fresh(out), lambda: run(curl)),
            **self.before(["prepare", "bench.mnist"], self.work / "cold-before"),
        })
        self.add(Row("cold CLI prepare, synthetic MNIST (4 gz, 11 MB)", samples["dmconf prepare"],
                     {k: v for k, v in samples.items() if k != "dmconf prepare"},
                     "<= 0.9x pooch", "pooch script", 0.9))
        self.add(Row("cold CLI prepare, synthetic MNIST, against datamaestro",
                     samples["dmconf prepare"],
                     {"datamaestro prepare": samples["datamaestro prepare"]},
                     "<= 0.5x datamaestro", "datamaestro prepare", 0.5))

    def group_concurrent(self) -> None:
        print("8 concurrent cold prepares", flush=True)
        data = self.work / "conc-data"
        env = self.env(data)

        def eight() -> tuple[float, int]:
            start = time.perf_counter()
            processes = [subprocess.Popen([DMCONF, "-q", "prepare", "bench.mnist"], env=env,
                                          stdout=subprocess.DEVNULL) for _ in range(8)]
            if any(p.wait() for p in processes):
                raise SystemExit("a concurrent prepare failed")
            return time.perf_counter() - start, 0

        gets: list[int] = []

        def counted(measure: Callable[[], tuple[float, int]]) -> Callable[[], tuple[float, int]]:
            def wrapped() -> tuple[float, int]:
                before = self.server.gets()
                result = measure()
                time.sleep(0.2)  # the server writes its log line after the body
                gets.append(self.server.gets() - before)
                return result
            return wrapped

        samples = interleaved(self.reps, {
            "8 at once": (fresh(data), counted(eight)),
            "one": (fresh(data), self.dmconf(["prepare", "bench.mnist"], data)),
        })
        self.add(Row("8 concurrent cold prepares of one dataset", samples["8 at once"],
                     {"one cold prepare": samples["one"]}, "<= 1.6x one", "one cold prepare",
                     1.6, note=f"GETs per run of 8: {sorted(set(gets))} (4 files)"))

    def group_gzip(self) -> None:
        mib = self.args.gzip_mib
        print(f"{mib} MiB gzip resource", flush=True)
        _, packed = make_big(self.served, mib)
        self.define("bench.biggz", {"data": {
            "url": self.server.base + packed.name, "sha256": sha256_file(packed),
            "size": packed.stat().st_size, "unpack": "gunzip"}}, "file", {"path": "data"})
        data, out = self.work / "gz-data", self.work / "gz-curl"
        contenders = {
            "dmconf prepare": (fresh(data), self.dmconf(["prepare", "bench.biggz"], data)),
            **self.before(["prepare", "bench.biggz"], self.work / "gz-before"),
            "curl | gzip -dc": (fresh(out), lambda: run(
                f"curl -sf {self.server.base}{packed.name} | gzip -dc > {out}/x")),
        }
        if shutil.which("pigz"):
            contenders["curl | pigz -dc"] = (fresh(out), lambda: run(
                f"curl -sf {self.server.base}{packed.name} | pigz -dc > {out}/x"))
        samples = interleaved(self.reps, contenders)
        ours = samples["dmconf prepare"]
        cpu = "; ".join(f"{name}: {sample.cpu_text()}" for name, sample in samples.items())
        self.add(Row(f"{mib} MiB gzip resource (download, sha256, gunzip)", ours,
                     {k: v for k, v in samples.items() if k != "dmconf prepare"},
                     "<= 0.8x curl|gzip", "curl | gzip -dc", 0.8,
                     note=f"peak RSS {max(ours.rss_kb) / 1024:.0f} MB (target <= 100); {cpu}"))

    def group_plain(self) -> None:
        mib = self.args.gzip_mib
        print(f"{mib} MiB plain resource", flush=True)
        plain, _ = make_big(self.served, mib)
        self.define("bench.bigplain", {"data": {
            "url": self.server.base + plain.name, "sha256": sha256_file(plain),
            "size": plain.stat().st_size}}, "file", {"path": "data"})
        data, out = self.work / "plain-data", self.work / "plain-curl"
        samples = interleaved(self.reps, {
            "dmconf prepare": (fresh(data), self.dmconf(["prepare", "bench.bigplain"], data)),
            **self.before(["prepare", "bench.bigplain"], self.work / "plain-before"),
            "curl -o": (fresh(out), lambda: run(
                ["curl", "-sf", "-o", str(out / "x"), self.server.base + plain.name])),
        })
        ours = samples["dmconf prepare"]
        cpu = "; ".join(f"{name}: {sample.cpu_text()}" for name, sample in samples.items())
        self.add(Row(f"{mib} MiB plain resource + sha256", ours,
                     {k: v for k, v in samples.items() if k != "dmconf prepare"},
                     "throughput >= 0.9x curl -o (time <= 1.11x)", "curl -o", 1 / 0.9,
                     note=f"peak RSS {max(ours.rss_kb) / 1024:.0f} MB; {cpu}"))

    def group_untar(self) -> None:
        files = self.args.tar_files
        print(f"tar.gz of {files} small files", flush=True)
        tree = make_tree(self.served, files)
        sha = sha256_file(tree)
        self.define("bench.tree", {"tree": {
            "url": self.server.base + tree.name, "sha256": sha, "size": tree.stat().st_size,
            "unpack": "untar"}}, "folder", {"path": "tree/tree"})
        data, out, cache = self.work / "tar-data", self.work / "tar-curl", self.work / "tar-pooch"
        samples = interleaved(self.reps, {
            "dmconf prepare": (fresh(data), self.dmconf(["prepare", "bench.tree"], data)),
            **self.before(["prepare", "bench.tree"], self.work / "tar-before"),
            "curl | tar xz": (fresh(out), lambda: run(
                f"curl -sf {self.server.base}{tree.name} | tar xz -C {out}")),
            "pooch Untar": (fresh(cache), self.pooch(cache, "untar", [(tree.name, sha)])),
        })
        self.add(Row(f"tar.gz of {files} small files, untar", samples["dmconf prepare"],
                     {k: v for k, v in samples.items() if k != "dmconf prepare"},
                     "<= 1.5x curl|tar", "curl | tar xz", 1.5))

    def group_catalog(self) -> None:
        for count in self.args.defs:
            print(f"catalogue of {count} definitions", flush=True)
            root = make_catalog(count)
            data = self.work / "cat-data"
            last = f"org.bench.g{(count - 1) // 1000:03d}.d{count - 1:06d}"
            contenders = {
                "search": (nothing, self.dmconf(["search", "proteins", "corpus"], data, root)),
                "list": (nothing, self.dmconf(["list"], data, root)),
                "info": (nothing, self.dmconf(["info", last], data, root)),
            }
            samples = interleaved(max(2, self.reps // 2), contenders)
            limits = {"search": 0.15 if count <= 10_000 else 0.4, "list": 0.12, "info": 0.12}
            for name, sample in samples.items():
                if name != "search" and count < 100_000:
                    continue
                limit = limits[name]
                self.add(Row(f"`dmconf {name}` with {count:,} definitions", sample, {},
                             f"<= {limit * 1e3:.0f} ms", note="absolute target"))

    def close(self) -> None:
        self.server.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def report() -> None:
    print("\n| figure | dmconf, median (min-max) | references in the same run | ratio | target |")
    print("|---|---|---|---|---|")
    for row in ROWS:
        refs = "; ".join(f"{name} {sample.text()}" for name, sample in row.references.items())
        ratio = row.ratio()
        shown = f"{ratio:.2f}x" if ratio is not None else ""
        if ratio is not None and row.limit is not None:
            shown += " met" if ratio <= row.limit else " MISSED"
        note = f" ({row.note})" if row.note else ""
        print(f"| {row.figure} | {row.ours.text()}{note} | {refs} | {shown} | {row.target} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--only", default=",".join(GROUPS),
                        help=f"comma-separated groups among {', '.join(GROUPS)}")
    parser.add_argument("--gzip-mib", type=int, default=1024)
    parser.add_argument("--tar-files", type=int, default=10_000)
    parser.add_argument("--before", type=Path, help="a folder holding another dmconf package "
                        "(git archive main dmconf | tar x -C DIR): untar and gzip run it too")
    parser.add_argument("--defs", default="10000,100000",
                        help="catalogue sizes (comma-separated)")
    args = parser.parse_args()
    args.defs = [int(n) for n in args.defs.split(",") if n]
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; Python "
          f"{sys.version.split()[0]}; {args.reps} interleaved repetitions", flush=True)
    bench = Bench(args)
    try:
        for group in args.only.split(","):
            getattr(bench, f"group_{group}")()
    finally:
        bench.close()
        report()


if __name__ == "__main__":
    main()
