"""Where a plain download's time goes: ways to split receive, write and sha256 over two threads.

Not a test and not dmconf's code: each variant is a few lines that download the same file from
``python -m http.server`` on 127.0.0.1 (as ``compare.py --only plain`` does) into a file and
hash it, in-process, beside ``curl -o`` in interleaved repetitions. Each figure: wall time, CPU
of the receiving thread and of the second thread, their wait for a core (run queue, from
``/proc/thread-self/schedstat``: the load of a shared machine), the CPU of the whole process and
of the server meanwhile. Variants:

- ``recv | write+sha``: dmconf's split (``dmconf.fetch.download``): the receiving thread hands
  urllib3's 1 MiB ``bytes`` chunks to a thread that writes and hashes them (8 queued at most);
- ``recv+sha | write``: sha256 on the receiving thread, only the write on the other;
- ``recv+write | sha``: the write on the receiving thread, only sha256 on the other;
- ``ring ...``: the same splits reading with ``http.client``'s ``readinto`` into a ring of 10
  reused 1 MiB buffers instead of a new ``bytes`` per chunk;
- ``(4 MiB x 2)``, ``(256 KiB x 32)``: dmconf's split with other chunk sizes, as many bytes
  queued;
- ``recv only`` and ``sha256 in memory``: the floor of each step alone.

Run: python benchmarks/bench_plain.py [--reps 5] [--mib 1024] [--only NAME,NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import queue
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import requests  # noqa: E402
from compare import CACHE, make_big  # noqa: E402 - the same fixture as compare.py


def schedstat() -> tuple[float, float]:
    """(CPU seconds, seconds waiting for a core) of the calling thread."""
    run, wait, _ = Path("/proc/thread-self/schedstat").read_text().split()
    return int(run) / 1e9, int(wait) / 1e9


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view):]


class Run:
    """One download of ``url`` into ``path``; ``first`` and ``second`` say what each thread
    does with a chunk (``write``, ``sha``), ``ring`` whether buffers are reused."""

    def __init__(self, url: str, path: Path, first: tuple[str, ...], second: tuple[str, ...],
                 ring: bool, chunk: int, queued: int) -> None:
        self.url, self.first, self.second, self.ring = url, first, second, ring
        self.chunk, self.queued = chunk, queued
        self.hash = hashlib.sha256()
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.worker: tuple[float, float] = (0.0, 0.0)

    def apply(self, steps: tuple[str, ...], view: memoryview) -> None:
        for step in steps:
            if step == "write":
                write_all(self.fd, view)
            else:
                self.hash.update(view)

    def go(self) -> None:
        pipe: queue.Queue[memoryview | None] = queue.Queue(self.queued)

        def work() -> None:
            start = schedstat()
            while (view := pipe.get()) is not None:
                self.apply(self.second, view)
            end = schedstat()
            self.worker = (end[0] - start[0], end[1] - start[1])

        thread = threading.Thread(target=work)
        thread.start()
        try:
            with requests.get(self.url, stream=True,
                              headers={"Accept-Encoding": "identity"}) as response:
                for view in (self.buffers(response) if self.ring else self.chunks(response)):
                    self.apply(self.first, view)
                    pipe.put(view)
        finally:
            pipe.put(None)
            thread.join()
            os.close(self.fd)

    def chunks(self, response: requests.Response):  # type: ignore[no-untyped-def]
        for chunk in response.raw.stream(self.chunk, decode_content=False):
            yield memoryview(chunk)

    def buffers(self, response: requests.Response):  # type: ignore[no-untyped-def]
        answer = response.raw._original_response
        ring = [bytearray(self.chunk) for _ in range(self.queued + 2)]  # reused that much later
        turn = 0
        while True:
            view = memoryview(ring[turn % len(ring)])
            turn += 1
            count = answer.readinto(view)
            if not count:
                return
            yield view[:count]


MIB = 1 << 20
# name: (steps of the receiving thread, of the second thread, ring, chunk, chunks queued)
SPLITS: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool, int, int]] = {
    "recv | write+sha": ((), ("write", "sha"), False, MIB, 8),
    "recv+sha | write": (("sha",), ("write",), False, MIB, 8),
    "recv+write | sha": (("write",), ("sha",), False, MIB, 8),
    "ring recv | write+sha": ((), ("write", "sha"), True, MIB, 8),
    "ring recv+sha | write": (("sha",), ("write",), True, MIB, 8),
    "ring recv+write | sha": (("write",), ("sha",), True, MIB, 8),
    "recv | write+sha (4 MiB x 2)": ((), ("write", "sha"), False, 4 * MIB, 2),
    "recv | write+sha (256 KiB x 32)": ((), ("write", "sha"), False, MIB // 4, 32),
    "recv only": ((), (), False, MIB, 8),
}


def sha_in_memory(mib: int) -> None:
    block, digest = os.urandom(MIB), hashlib.sha256()
    for _ in range(mib):
        digest.update(block)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    served = CACHE / "served"
    served.mkdir(parents=True, exist_ok=True)
    plain, _ = make_big(served, args.mib)
    work = Path(tempfile.mkdtemp(prefix="dmconf-plain-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(served)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/{plain.name}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    names = ["curl -o", *SPLITS, "sha256 in memory"]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    rows: dict[str, list[tuple[float, ...]]] = {n: [] for n in names}
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {args.mib} MiB; "
          f"{args.reps} interleaved repetitions", flush=True)
    try:
        for rep in range(args.reps):
            for name in names[rep % len(names):] + names[:rep % len(names)]:
                target = work / "x"
                target.unlink(missing_ok=True)
                os.sync()
                served_before = cpu_of(server.pid)
                own = resource.getrusage(resource.RUSAGE_SELF)
                children = resource.getrusage(resource.RUSAGE_CHILDREN)
                start, first = time.perf_counter(), schedstat()
                second = (0.0, 0.0)
                if name == "curl -o":
                    subprocess.run(["curl", "-sf", "-o", str(target), url], check=True)
                elif name == "sha256 in memory":
                    sha_in_memory(args.mib)
                else:
                    run = Run(url, target, *SPLITS[name])
                    run.go()
                    second = run.worker
                wall, last = time.perf_counter() - start, schedstat()
                time.sleep(0.03)  # the server's last send is accounted
                usage = resource.getrusage(
                    resource.RUSAGE_CHILDREN if name == "curl -o" else resource.RUSAGE_SELF)
                base = children if name == "curl -o" else own
                cpu = usage.ru_utime + usage.ru_stime - base.ru_utime - base.ru_stime
                rows[name].append((wall, cpu, last[0] - first[0], second[0],
                                   last[1] - first[1] + second[1], cpu_of(server.pid) -
                                   served_before))
            print(f"  rep {rep + 1}/{args.reps} done, load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    print("\n| variant | wall, median (min) | process CPU | receiving thread CPU | second "
          "thread CPU | waiting for a core | server CPU |")
    print("|---|---|---|---|---|---|---|")
    for name, samples in rows.items():
        med = [statistics.median(s[i] for s in samples) for i in range(6)]
        print(f"| {name} | {med[0]:.2f} s ({min(s[0] for s in samples):.2f}) | {med[1]:.2f} s "
              f"| {med[2]:.2f} s | {med[3]:.2f} s | {med[4]:.2f} s | {med[5]:.2f} s |")
    print(f"\nload {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
