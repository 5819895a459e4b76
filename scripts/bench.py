#!/usr/bin/env python3
"""Benchmark ``git sit`` against the floor on synthetic repositories of 1k, 10k and 100k items.

For each size, in one run and side by side: the floor (``git ls-tree -r`` piped into
``git cat-file --batch`` over every blob of ``.sit`` at ``main``), the verifying floor
(the same, plus recomputing every record's ID, ``bench_floor``), ``git sit items --rev
main`` cold (empty cache), cold without the cache, warm, and warm on a branch where 1%
of the items differ; ``git sit status`` across 20 branches, cold and warm (when that
command exists); and the peak anonymous memory of the cold run (``RssAnon`` summed
over the git-sit process and its workers, sampled from /proc; and their summed
``Pss_Anon``, which counts pages the forked workers still share with their parent
once instead of once per process; sampled every 0.2 s, so shown for runs over a
second only). Every figure is also given as a ratio to the floor run just before it
(its ``floor s``: the machine's speed drifts within minutes, so a ratio to a floor
measured minutes earlier says little), with the CPU time (user + system) of its process
tree. Repositories are generated once (``bench_gen``) and
kept under ``--data-dir``. If ``scripts/bench_inbox.py`` exists, its ``run()`` is
called too and its rows printed.

Usage: scripts/bench.py [--sizes 1k,10k,100k] [--runs N] [--data-dir bench-data] [--git-sit PATH]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_floor  # noqa: E402
import bench_gen  # noqa: E402

GIT_SIT = os.path.join(os.path.dirname(sys.executable), "git-sit")
PSS_EVERY = 20  # Pss_Anon every 20th sample (0.2 s), RssAnon every 10 ms


@dataclass
class Row:
    """One measured figure."""

    what: str
    seconds: float | None
    note: str = ""
    memory_mb: float | None = None
    pss_mb: float | None = None
    cpu: float | None = None  # user + system seconds of the process tree
    floor: float | None = None  # the floor run just before it, which its ratio is to


@dataclass
class Sample:
    """Peak memory seen while a process tree ran."""

    anon_kb: int = 0  # max over time of the sum of RssAnon over the tree
    pss_kb: int = 0  # max over time of the sum of Pss_Anon (shared pages counted once)
    main_kb: int = 0  # max RssAnon of the top process alone
    pids: set[int] = field(default_factory=set)
    workers: set[int] = field(default_factory=set)  # forked git-sit processes (not git's)
    cpu: float = 0.0  # user + system seconds of the process tree


def parse_size(text: str) -> int:
    text = text.strip().lower()
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


def _status_kb(pid: int, key: str, source: str = "status") -> int:
    try:
        with open(f"/proc/{pid}/{source}", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _tree(pid: int) -> list[int]:
    found = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                for child in handle.read().split():
                    found.extend(_tree(int(child)))
    except OSError:
        pass
    return found


def children_cpu() -> float:
    """User + system seconds of every waited-for child process so far (and of their children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: Sequence[str], cwd: str, stdout: int | None = subprocess.DEVNULL) -> tuple[float, Sample]:
    """Wall time of a command, sampling its process tree's anonymous memory every 10 ms."""
    sample = Sample()
    cpu_before = children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE)
    done = threading.Event()

    def watch() -> None:
        ticks = 0
        while not done.is_set():
            pids = _tree(proc.pid)
            sample.workers.update(p for p in pids if p not in sample.pids and p != proc.pid
                                  and _command(p) not in ("git", ""))
            sample.pids.update(pids)
            sample.anon_kb = max(sample.anon_kb, sum(_status_kb(p, "RssAnon") for p in pids))
            sample.main_kb = max(sample.main_kb, _status_kb(proc.pid, "RssAnon"))
            if ticks % PSS_EVERY == 0:  # reading smaps_rollup takes over a millisecond per process
                pss = sum(_status_kb(p, "Pss_Anon", "smaps_rollup") for p in pids)
                sample.pss_kb = max(sample.pss_kb, pss)
            ticks += 1
            done.wait(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    sample.cpu = children_cpu() - cpu_before
    done.set()
    watcher.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return elapsed, sample


def sit(*args: str) -> list[str]:
    return [GIT_SIT, *args]


def clear_cache(repo: str) -> None:
    shutil.rmtree(os.path.join(repo, "sit-cache"), ignore_errors=True)


def has_status() -> bool:
    run = subprocess.run([GIT_SIT, "status", "-h"], capture_output=True, check=False)
    return run.returncode == 0


def best(runs: int, measure: Callable[[], tuple[float, Sample]]) -> tuple[float, Sample]:
    results = [measure() for _ in range(runs)]
    return min(results, key=lambda r: r[0])


def measured(what: str, result: tuple[float, Sample], note: str = "", floor: float | None = None) -> Row:
    seconds, sample = result
    return Row(what, seconds, note, sample.anon_kb / 1024, sample.pss_kb / 1024, sample.cpu, floor)


Timed = tuple[float, Sample]


def beside_row(what: str, pair: tuple[Timed, float]) -> Row:
    """The row of a figure measured next to a floor (``beside``)."""
    result, floor = pair
    return measured(what, result, floor=floor)


def beside(runs: int, repo: str, measure: Callable[[], Timed]) -> tuple[Timed, float]:
    """The best of ``runs`` runs of ``measure``, each right after a run of the floor, and that floor.

    The machine's speed drifts by a quarter within minutes, so a ratio is taken to the
    floor measured next to it, not to one measured minutes before.
    """
    pairs = []
    for _ in range(runs):
        floor_s, _ = timed_floor(repo)
        pairs.append((measure(), floor_s))
    return min(pairs, key=lambda pair: pair[0][0])


def timed_floor(repo: str) -> tuple[float, Sample]:
    cpu_before = children_cpu()
    seconds = bench_floor.floor(repo)
    return seconds, Sample(cpu=children_cpu() - cpu_before)


def measure_size(params: bench_gen.Params, data_dir: str, runs: int) -> tuple[float, list[Row]]:
    repo = bench_gen.ensure(params, data_dir)
    floor_s, floor_sample = best(runs, lambda: timed_floor(repo))
    rows = [Row("floor: ls-tree -r | cat-file --batch", floor_s, cpu=floor_sample.cpu)]
    verify = [sys.executable, os.path.join(HERE, "bench_floor.py"), "verify", repo, "main"]
    verified, verify_floor = beside(runs, repo, lambda: timed(verify, repo))
    rows.append(measured("verifying floor: + §2.2 hash of each record", verified, "a bound for cold reads",
                         verify_floor))
    items = sit("items", "--rev", "main")

    # Each run: the floor, then with an empty cache a cold read of main, a warm read of main
    # and a first read of the branch (main's results cached). The best of each figure over
    # the runs is kept, with the floor of its run.
    sequences = []
    for _ in range(runs):
        floor_now, _ = timed_floor(repo)
        clear_cache(repo)
        sequences.append(([timed(items, repo), timed(items, repo), timed(sit("items", "--rev", "b00"), repo)],
                          floor_now))

    def best_of(index: int) -> tuple[Timed, float]:
        figures, floor_now = min(sequences, key=lambda seq: seq[0][index][0])
        return figures[index], floor_now

    cold, cold_floor = best_of(0)
    rows.append(measured("items --rev main, cold", cold,
                         f"{len(cold[1].workers)} workers; main process {cold[1].main_kb / 1024:.0f} MB",
                         cold_floor))
    uncached = sit("--no-cache", "items", "--rev", "main")
    rows.append(beside_row("items --rev main, --no-cache", beside(runs, repo, lambda: timed(uncached, repo))))
    rows.append(beside_row("items --rev main, warm", best_of(1)))
    rows.append(beside_row(f"items --rev b00 ({params.diff_percent:g}% differ), warm", best_of(2)))
    if has_status():
        status = sit("status", "--refs", "b*", "--no-tags")

        def status_cold() -> Timed:
            clear_cache(repo)
            return timed(status, repo)

        status_cold_result, status_floor = beside(runs, repo, status_cold)
        rows.append(measured(f"status --refs 'b*' ({params.branches} branches), cold", status_cold_result,
                             f"{status_cold_result[0] / cold[0]:.2f} x cold items", status_floor))
        rows.append(beside_row(f"status ({params.branches} branches), warm",
                               beside(runs, repo, lambda: timed(status, repo))))
    else:
        rows.append(Row("status across branches", None, "skipped: no 'git sit status' command"))
    return floor_s, rows


def print_table(size: int, floor_s: float, rows: list[Row]) -> None:
    print(f"\n{size} items (floor {floor_s:.2f} s; 'x floor' is to the floor run just before, "
          "shown as 'floor s')")
    print(f"  {'measure':<44} {'seconds':>8} {'x floor':>8} {'floor s':>8} {'cpu s':>6} {'anon MB':>8} "
          f"{'pss MB':>7}  note")
    for row in rows:
        seconds = f"{row.seconds:8.2f}" if row.seconds is not None else f"{'-':>8}"
        floor = row.floor or floor_s
        ratio = f"{row.seconds / floor:8.2f}" if row.seconds is not None else f"{'-':>8}"
        cpu = f"{row.cpu:6.2f}" if row.cpu is not None else f"{'':>6}"
        memory = f"{row.memory_mb:8.0f}" if row.memory_mb else f"{'':>8}"
        long_run = row.seconds is not None and row.seconds >= 1  # Pss is sampled every 0.2 s
        pss = f"{row.pss_mb:7.0f}" if row.pss_mb and long_run else f"{'':>7}"
        print(f"  {row.what:<44} {seconds} {ratio} {floor:8.2f} {cpu} {memory} {pss}  {row.note}")
    sys.stdout.flush()


def run_inbox(sizes: list[int]) -> None:
    if not os.path.exists(os.path.join(HERE, "bench_inbox.py")):
        return
    import bench_inbox  # type: ignore[import-not-found]

    print("\ninbox (scripts/bench_inbox.py)")
    for row in bench_inbox.run(sizes=sizes):
        print("  " + "  ".join(f"{key}={value}" for key, value in row.items()))


def compile_package() -> None:
    """Write git-sit's bytecode first, as an installed package has it.

    Otherwise, under ``PYTHONDONTWRITEBYTECODE`` with an editable install, every run
    compiles every module again (about 0.1 s of each warm figure).
    """
    package = os.path.join(HERE, "..", "git_sit")
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True)


def main() -> None:
    global GIT_SIT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1k,10k", help="item counts, e.g. 1k,10k,100k")
    parser.add_argument("--runs", type=int, default=1, help="repeat each figure, keep the best")
    parser.add_argument("--data-dir", default=os.path.join(HERE, "..", "bench-data"))
    parser.add_argument("--records", type=int, default=5, help="records per item (mean)")
    parser.add_argument("--no-inbox", action="store_true", help="skip scripts/bench_inbox.py")
    parser.add_argument("--git-sit", default=GIT_SIT,
                        help="the git-sit to run (default: next to this Python); an editable install "
                             "spends ~15 ms of each start in setuptools' import hook")
    args = parser.parse_args()
    GIT_SIT = args.git_sit
    sizes = [parse_size(text) for text in args.sizes.split(",") if text.strip()]
    compile_package()
    print(f"git-sit benchmark: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"sizes {sizes}, best of {args.runs}")
    for size in sizes:
        params = bench_gen.Params(size, records=args.records)
        started = time.perf_counter()
        bench_gen.ensure(params, args.data_dir)
        if time.perf_counter() - started > 1:
            print(f"(generated {params.name} in {time.perf_counter() - started:.0f} s)")
        floor_s, rows = measure_size(params, args.data_dir, args.runs)
        print_table(size, floor_s, rows)
    if not args.no_inbox:
        run_inbox(sizes)


if __name__ == "__main__":
    main()
