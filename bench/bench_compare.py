"""Benchmark: the nightly comparison at a million numbers, beside the floor of `comm`.

For each --count it builds a world with that many active numbers on one demo switch (the TL1
switch HOU1 by default; --dialect mml is HOU2, ber HOU3): CAS's
side written straight into a SQLite database with bulk inserts, the switch's side straight into
the simulator's subscriber file, with --planted differences spread over it (missing, unknown,
ESN, feature and state mismatches, in equal shares: a line suspended in CAS the switch holds
active). Then it measures

- the floor: both sides written as sorted text by the sqlite3 shell and compared with `comm`;
- the switch's dump alone through its adapter (what the line and the dialect cost), read as
  the comparison reads it (batches of records) and as subscribers one by one;
- the comparison, `run_comparison`, in a fresh process: its time and peak memory (maximum
  resident set size) beside the same process's size before the run, and the CPU time it and
  the switch simulator took beside the floor's (on a shared machine wall-clock ratios move
  with the load; CPU ratios less),

checks that the comparison found exactly what was planted, and prints one row per count.

    .venv/bin/python bench/bench_compare.py [--count 1000000] [--count 100000] [--planted 300]
        [--dialect tl1|mml|ber]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activation.secrets import Vault  # noqa: E402
from activation.settings import Settings  # noqa: E402
from activation.store.db import Database  # noqa: E402
from activation.store.models import NpaNxxBlock, Switch, TelephoneNumber, Transaction  # noqa: E402
from activation.store.setup import init_database  # noqa: E402
from switch_adapters.port import Subscriber  # noqa: E402
from switch_adapters.simulator.store import Store  # noqa: E402

SECRET = "bench-secret"
SWITCHES = {"tl1": "HOU1", "mml": "HOU2", "ber": "HOU3"}
DIALECT = "tl1"  # set by --dialect, in the bench and in its children
SWITCH = SWITCHES[DIALECT]
FIRST_BLOCK = 720000  # NPA-NXX 720000, 720001, ... each numbered 0000-9999
KINDS = (
    "missing_on_switch",
    "unknown_to_cas",
    "esn_mismatch",
    "feature_mismatch",
    "state_mismatch",
)
CHUNK = 50_000


def mid_of(i: int) -> str:
    return f"{FIRST_BLOCK + i // 10_000}{i % 10_000:04d}"


def plant(count: int, planted: int) -> dict[int, str]:
    """Pick the numbers that differ and how, the same way every time."""
    chosen = random.Random(5).sample(range(count), min(planted, count))
    return {i: KINDS[n % len(KINDS)] for n, i in enumerate(sorted(chosen))}


def build(directory: Path, count: int, planted: dict[int, str]) -> Settings:
    """Write CAS's side into its database and the switch's into the simulator's file."""
    settings = Settings(data_dir=directory, secret_key=SECRET)
    init_database(settings, demo=True)
    db = Database(settings.db_url)
    blocks = [str(FIRST_BLOCK + b) for b in range(-(-count // 10_000))]
    with db.transaction() as session:
        switch_id = session.scalar(select(Switch.id).where(Switch.name == SWITCH))
        session.execute(
            insert(NpaNxxBlock),
            [
                {"npa_nxx": b, "switch_id": switch_id, "first_suffix": 0, "last_suffix": 9999}
                for b in blocks
            ],
        )
    with db.engine.begin() as conn:
        for start in range(0, count, CHUNK):
            rows = range(start, min(start + CHUNK, count))
            known = [i for i in rows if planted.get(i) != "unknown_to_cas"]
            conn.execute(
                insert(Transaction),
                [
                    {
                        "id": i + 1,
                        "code": f"B{i:07d}",
                        "agent_id": 1,
                        "status": "suspended" if planted.get(i) == "state_mismatch" else "active",
                        "step": "done",
                        "esn": f"2{i:010d}",
                        "rate_plan_code": "10",
                        "npa_nxx": mid_of(i)[:6],
                        "mid": mid_of(i),
                    }
                    for i in known
                ],
            )
            conn.execute(
                insert(TelephoneNumber),
                [
                    {
                        "mid": mid_of(i),
                        "npa_nxx": mid_of(i)[:6],
                        "status": "free" if planted.get(i) == "unknown_to_cas" else "active",
                        "transaction_id": None if planted.get(i) == "unknown_to_cas" else i + 1,
                    }
                    for i in rows
                ],
            )
        secret = Vault(SECRET).encrypt("s")
        conn.execute(
            update(Switch).where(Switch.name == SWITCH).values(logon_secret_encrypted=secret)
        )
    db.dispose()

    def switch_side():
        for i in range(count):
            kind = planted.get(i)
            if kind == "missing_on_switch":
                continue
            esn = f"3{i:010d}" if kind == "esn_mismatch" else f"2{i:010d}"
            yield Subscriber(mid_of(i), esn, "20" if kind == "feature_mismatch" else "10")

    with Store(directory / "switch.sqlite3") as store:
        store.load(switch_side())
    return settings


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the sqlite3 shell, comm)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds a live process has used (the simulator), from /proc; 0 where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def floor(directory: Path) -> dict[str, float]:
    """Time both sides written as sorted text by the sqlite3 shell, and `comm` on them."""
    cpu = children_cpu()
    cas_sql = (
        "SELECT n.mid || ' ' || t.esn || ' ' || t.rate_plan_code || ' ' || "
        "CASE t.status WHEN 'suspended' THEN 'suspended' ELSE 'active' END "
        "FROM telephone_numbers n JOIN transactions t ON t.id = n.transaction_id "
        "WHERE n.status = 'active' ORDER BY n.mid"
    )
    switch_sql = (
        "SELECT mid || ' ' || esn || ' ' || features || ' ' || state FROM subscriber ORDER BY mid"
    )
    times: dict[str, float] = {}
    for name, db, sql in (
        ("cas_text", directory / "cas.sqlite3", cas_sql),
        ("switch_text", directory / "switch.sqlite3", switch_sql),
    ):
        with (directory / f"{name}.txt").open("w") as out:
            started = time.perf_counter()
            _text_of(db, sql, out)
            times[name] = time.perf_counter() - started
    started = time.perf_counter()
    with (directory / "comm.txt").open("w") as out:
        subprocess.run(
            ["comm", "-3", directory / "cas_text.txt", directory / "switch_text.txt"],
            stdout=out,
            check=True,
            env={"LC_ALL": "C"},
        )
    times["comm"] = time.perf_counter() - started
    times["lines"] = sum(1 for _ in (directory / "comm.txt").open())
    times["cpu"] = children_cpu() - cpu  # nothing when the shell is missing (then in-process)
    return times


def _text_of(db: Path, sql: str, out) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("sqlite3"):
        subprocess.run(["sqlite3", db, sql], stdout=out, check=True)
        return
    with sqlite3.connect(db) as conn:  # no shell: the same query from Python
        for (line,) in conn.execute(sql):
            out.write(line + "\n")


def child(mode: str, directory: Path, url: str) -> dict[str, float]:
    """Run a measurement in a fresh process, so its peak memory is its own."""
    found = subprocess.run(
        [sys.executable, __file__, f"--{mode}", str(directory), "--url", url, "--dialect", DIALECT],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(found.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak resident size so far (VmHWM; ru_maxrss would count the parent's)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_comparison(directory: Path) -> None:
    """(In the child.) Run the comparison once; print its time, memory and findings."""
    from activation.comparison.run import run_comparison
    from ivr.bootstrap import bootstrap

    services = bootstrap(Settings(data_dir=directory, secret_key=SECRET))
    before = peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    result = run_comparison(services, [SWITCH], directory / "reports")  # the switch alone
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = peak_rss_mb()
    (outcome,) = result.switches
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "rss_before_mb": before,
                "rss_peak_mb": peak,
                "counts": outcome.counts,
                "cas": outcome.cas_numbers,
                "lines": outcome.switch_lines,
                "unreadable": outcome.unreadable,
            }
        )
    )


def measure_dump(directory: Path) -> None:
    """(In the child.) Stream the switch's dump through its adapter and nothing else."""
    from activation.parties.switching import definition
    from ivr.bootstrap import bootstrap

    services = bootstrap(Settings(data_dir=directory, secret_key=SECRET))
    with services.db.read() as session:
        defn = definition(
            session.scalar(select(Switch).where(Switch.name == SWITCH)), services.vault
        )
    line = services.switches.open(defn)
    started = time.perf_counter()
    lines = sum(len(batch) for batch in line.dump_records())
    records = time.perf_counter() - started
    started = time.perf_counter()
    subscribers = sum(1 for _ in line.dump())
    seconds = time.perf_counter() - started
    line.close()
    assert subscribers == lines
    print(json.dumps({"records": records, "seconds": seconds, "lines": lines}))


def bench(count: int, planted_count: int) -> None:
    from switch_adapters.simulator.process import start_simulator

    planted = plant(count, planted_count)
    directory = Path(tempfile.mkdtemp(prefix="cas-bench-compare-"))
    try:
        started = time.perf_counter()
        settings = build(directory, count, planted)
        built = time.perf_counter() - started
        with start_simulator(
            DIALECT, directory / "switch.sqlite3", name="cas", secret="s", sid=SWITCH
        ) as sim:
            db = Database(settings.db_url)
            with db.transaction() as session:
                session.execute(
                    update(Switch).where(Switch.name == SWITCH).values(primary_url=sim.url)
                )
            db.dispose()
            base = floor(directory)
            dump = child("dump", directory, sim.url)
            sim_cpu = process_cpu(sim.pid)
            run = child("compare", directory, sim.url)
            sim_cpu = process_cpu(sim.pid) - sim_cpu
        expected: dict[str, int] = {}
        for kind in planted.values():
            expected[kind] = expected.get(kind, 0) + 1
        floor_s = base["cas_text"] + base["switch_text"] + base["comm"]
        cpu_ratio = f", the comparison {run['cpu'] / base['cpu']:.2f}x" if base["cpu"] else ""
        exact = run["counts"] == expected and run["unreadable"] is None
        print(
            f"{count:>9,} numbers, {len(planted)} planted (built in {built:.0f} s)\n"
            f"  floor (sorted text + comm): {floor_s:6.2f} s  "
            f"[CAS text {base['cas_text']:.2f} s, switch text {base['switch_text']:.2f} s, "
            f"comm {base['comm']:.2f} s, {base['lines']:.0f} lines differ]\n"
            f"  switch dump alone ({DIALECT.upper()}):    {dump['records']:6.2f} s  "
            f"[{dump['lines']:,} lines as "
            f"records; {dump['seconds']:.2f} s as subscribers]\n"
            f"  comparison:                 {run['seconds']:6.2f} s  "
            f"= {run['seconds'] / floor_s:.2f}x the floor\n"
            f"  CPU (the machine may be shared): comparison {run['cpu']:.2f} s "
            f"+ switch simulator {sim_cpu:.2f} s; floor {base['cpu']:.2f} s{cpu_ratio}\n"
            f"  memory: peak {run['rss_peak_mb']:.0f} MB, "
            f"{run['rss_peak_mb'] - run['rss_before_mb']:.0f} MB over the "
            f"{run['rss_before_mb']:.0f} MB the process had before the run\n"
            f"  findings {'exactly as planted' if exact else 'NOT as planted'}: {run['counts']}",
            flush=True,
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, action="append", help="numbers (repeatable)")
    parser.add_argument("--planted", type=int, default=300, help="differences planted")
    parser.add_argument("--compare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--dialect", choices=sorted(SWITCHES), default="tl1")
    args = parser.parse_args()
    global DIALECT, SWITCH
    DIALECT, SWITCH = args.dialect, SWITCHES[args.dialect]
    if args.compare:
        measure_comparison(args.compare)
    elif args.dump:
        measure_dump(args.dump)
    else:
        for count in args.count or [1_000_000]:
            bench(count, args.planted)


if __name__ == "__main__":
    main()
