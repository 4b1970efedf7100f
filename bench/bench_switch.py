"""Benchmark: switch inserts per second, and dump rate and memory, against the simulator.

For each dialect a simulator process runs on loopback. Inserts go one at a time through the
adapter, as the activity worker sends them; beside their rate, the CPU time the adapter's
process and the simulator spent per insert (which a shared machine's load moves less). For the
dump the simulator's store file is seeded directly, then a separate process dumps it through
the adapter and reports its peak resident memory; the simulator's peak is read from /proc. Two
sizes show whether memory grows with the count (it must not).

    .venv/bin/python bench/bench_switch.py [--dialect tl1 --dialect mml] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from switch_adapters import open_session  # noqa: E402
from switch_adapters.port import Subscriber, SwitchDefinition  # noqa: E402
from switch_adapters.simulator.process import start_simulator  # noqa: E402
from switch_adapters.simulator.store import Store  # noqa: E402

NAME, SECRET = "cas", "bench-secret"


def dialects_available() -> list[str]:
    """Dialects with an adapter and a simulator side in this checkout."""
    return [
        d
        for d in ("tl1", "mml", "ber")
        if find_spec(f"switch_adapters.{d}") and find_spec(f"switch_adapters.simulator.{d}")
    ]


def numbered(count: int, first: int = 0) -> Iterator[Subscriber]:
    """Subscribers first..first+count-1, generated lazily."""
    return (
        Subscriber(f"{7130000000 + i}", f"{13800000000 + i}", "10")
        for i in range(first, first + count)
    )


def peak_kib(pid: int) -> int:
    """Return a live process's peak resident memory (VmHWM) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def process_cpu(pid: int) -> float:
    """CPU seconds a live process has used, from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_inserts(dialect: str, directory: Path, count: int) -> None:
    with start_simulator(
        dialect, directory / f"{dialect}-inserts.db", name=NAME, secret=SECRET
    ) as sim:
        with open_session(sim.definition("BENCH")) as session:
            began, cpu, sim_cpu = time.perf_counter(), time.process_time(), process_cpu(sim.pid)
            for subscriber in numbered(count):
                session.insert(subscriber)
            elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
            sim_cpu = process_cpu(sim.pid) - sim_cpu
        assert len(sim.subscribers()) == count
    # On a shared machine the rate moves with the load; the CPU each end spends on an insert
    # moves less.
    print(
        f"{dialect:4} insert {count:>9,} subscribers {count / elapsed:>10,.0f} /s"
        f"   CPU per insert: adapter {cpu / count * 1e6:4.0f} us,"
        f" simulator {sim_cpu / count * 1e6:4.0f} us"
    )


def bench_dump(dialect: str, directory: Path, count: int) -> None:
    path = directory / f"{dialect}-dump-{count}.db"
    if not path.exists():
        with Store(path) as store:
            store.load(numbered(count))
    with start_simulator(dialect, path, name=NAME, secret=SECRET) as sim:
        child = subprocess.Popen(
            [sys.executable, __file__, "--dump-from", sim.url, "--dialect", dialect],
            stdout=subprocess.PIPE,
        )
        assert child.stdout is not None
        output = child.stdout.read().decode()
        _, status, usage = os.wait4(child.pid, 0)
        child.stdout.close()
        if status != 0:
            raise SystemExit(f"dump child failed: {output}")
        simulator_kib = peak_kib(sim.pid)
    dumped, seconds = output.split()
    if int(dumped) != count:
        raise SystemExit(f"{dialect}: dumped {dumped} of {count}")
    print(
        f"{dialect:4} dump   {count:>9,} subscribers {count / float(seconds):>10,.0f} /s"
        f"   adapter peak {usage.ru_maxrss / 1024:6.1f} MiB"
        f"   simulator peak {simulator_kib / 1024:6.1f} MiB"
    )


def dump_child(url: str, dialect: str) -> None:
    """Dump a switch through the adapter; print the count and the seconds it took."""
    definition = SwitchDefinition(
        "BENCH", dialect, "BENCH", url, logon_name=NAME, logon_secret=SECRET
    )
    with open_session(definition) as session:
        began = time.perf_counter()
        count, last = 0, ""
        for subscriber in session.dump():
            assert subscriber.mid > last
            last = subscriber.mid
            count += 1
        print(count, time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", action="append", help="tl1, mml or ber (default: all)")
    parser.add_argument("--quick", action="store_true", help="small counts, a few seconds")
    parser.add_argument("--inserts", type=int, help="how many inserts to time")
    parser.add_argument("--sizes", help="comma-separated dump sizes (default 100000,1000000)")
    parser.add_argument("--dump-from", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dump_from:
        dump_child(args.dump_from, args.dialect[0])
        return
    dialects = args.dialect or dialects_available()
    inserts = args.inserts or (200 if args.quick else 5000)
    sizes = [
        int(s)
        for s in (args.sizes or ("2000,20000" if args.quick else "100000,1000000")).split(",")
    ]
    with tempfile.TemporaryDirectory(prefix="bench-switch-") as tmp:
        directory = Path(tmp)
        for dialect in dialects:
            bench_inserts(dialect, directory, inserts)
            for size in sizes:
                bench_dump(dialect, directory, size)


if __name__ == "__main__":
    main()
