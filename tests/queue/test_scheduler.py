"""The scheduler: crontab lines, planned runs, and a nightly job run once by N workers."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from activation.jobs.scheduler import cron
from activation.queue import nightly
from activation.store.db import Database
from activation.store.followup import ScheduledRun, WelcomeLetter
from activation.store.setup import init_database
from tests.conftest import TEST_SECRET
from tests.pg import needs_postgres, private_database

from .conftest import active_transaction, wait_for


def test_crontab_lines_with_five_fields_or_six_with_seconds():
    daily = cron("0 2 * * *")
    start = datetime(2026, 5, 4, 1, 0, tzinfo=daily.timezone)
    assert daily.get_next_fire_time(None, start) == start.replace(hour=2)
    fast = cron("*/3 * * * * *")
    assert fast.get_next_fire_time(None, start.replace(second=1)) == start.replace(second=3)
    with pytest.raises(ValueError, match="5 or 6 fields"):
        cron("0 2 * *")


def test_the_planned_run_is_the_latest_fire_time_at_or_before_now():
    daily = cron("30 2 * * *")
    tz = daily.timezone
    at = datetime(2026, 5, 4, 2, 30, tzinfo=tz)
    assert nightly.previous_fire(daily, at.replace(hour=3)) == at
    assert nightly.previous_fire(daily, at) == at
    assert nightly.previous_fire(daily, at.replace(hour=1)) == at.replace(day=3)
    every = cron("*/2 * * * * *")
    now = datetime(2026, 5, 4, 2, 30, 7, 500000, tzinfo=tz)
    assert nightly.previous_fire(every, now) == now.replace(second=6, microsecond=0)


KEYS = ("2026-05-04T07:00:00Z", "2026-05-05T07:00:00Z")


def _contend(url: str, ledger: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    db = Database(url)

    def work() -> str:
        with open(ledger, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(0.5)  # long enough for every other contender to arrive meanwhile
        return "worked"

    for key in KEYS:  # two nights; every contender fires at the same moment of each
        barrier.wait(timeout=60)
        results.put((key, nightly.run_once(db, "contended", key, work)))
    db.dispose()


def _run_contenders(
    url: str, tmp_path: Path, contenders: int = 4
) -> tuple[list[str], list[list[str]]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(contenders), ctx.Queue()
    ledger = tmp_path / "ledger"
    procs = [
        ctx.Process(target=_contend, args=(url, str(ledger), barrier, results))
        for _ in range(contenders)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=90)
        assert proc.exitcode == 0
    answers = [results.get(timeout=5) for _ in range(contenders * len(KEYS))]
    outcomes = [sorted(outcome for k, outcome in answers if k == key) for key in KEYS]
    return ledger.read_text().splitlines(), outcomes


def _expect_once(ledger: list[str], outcomes: list[list[str]]) -> None:
    assert len(ledger) == 2  # one run per planned run, by one of the contenders
    for round_ in outcomes:
        assert round_.count(nightly.RAN) == 1
        assert set(round_) - {nightly.RAN} <= {nightly.BUSY, nightly.DONE_ELSEWHERE}


def test_contending_processes_run_a_nightly_job_once_on_sqlite(settings, tmp_path):  # type: ignore[no-untyped-def]
    ledger, outcomes = _run_contenders(settings.db_url, tmp_path)
    _expect_once(ledger, outcomes)
    db = Database(settings.db_url)
    with db.transaction() as session:
        runs = session.scalars(select(ScheduledRun).where(ScheduledRun.job == "contended")).all()
        assert [(r.state, r.detail) for r in runs] == [("done", "worked")] * 2
    db.dispose()


@needs_postgres
@pytest.mark.postgres
def test_contending_processes_run_a_nightly_job_once_on_postgres(settings, tmp_path):  # type: ignore[no-untyped-def]
    with private_database() as url:
        init_database(replace(settings, database_url=url), demo=False)
        ledger, outcomes = _run_contenders(url, tmp_path)
    _expect_once(ledger, outcomes)


def test_a_run_whose_holder_died_is_taken_over_after_its_lease(settings):  # type: ignore[no-untyped-def]
    db = Database(settings.db_url)
    try:

        def die() -> str:
            raise KeyboardInterrupt  # as a killed process: the row stays "running"

        with pytest.raises(KeyboardInterrupt):
            nightly.run_once(db, "job", "k", die, holder="dead:1")
        assert nightly.run_once(db, "job", "k", lambda: "x", holder="b") == nightly.BUSY
        with db.transaction() as session:
            run = session.get(ScheduledRun, ("job", "k"))
            run.lease_until = datetime(2000, 1, 1, tzinfo=UTC)
        assert nightly.run_once(db, "job", "k", lambda: "took over", holder="b") == nightly.RAN
        assert nightly.run_once(db, "job", "k", lambda: "again", holder="c") == (
            nightly.DONE_ELSEWHERE
        )
        with db.transaction() as session:
            run = session.get(ScheduledRun, ("job", "k"))
            assert (run.state, run.holder, run.detail) == ("done", "b", "took over")
    finally:
        db.dispose()


def test_three_cas_workers_run_the_letter_batch_once_per_planned_run(services, settings):  # type: ignore[no-untyped-def]
    with services.db.transaction() as session:
        active_transaction(session, "90000001", "7135550001")
    env = {
        **os.environ,
        "CAS_DATA_DIR": str(settings.data_dir),
        "CAS_SECRET_KEY": TEST_SECRET,
        "CAS_LETTERS_CRON": "*/2 * * * * *",  # every two seconds: many nights in a few seconds
        "CAS_COMPARE_CRON": "0 0 1 1 *",
    }
    env.pop("CAS_DATABASE_URL", None)
    logs = [settings.data_dir / f"worker-{n}.log" for n in range(3)]
    procs = []
    try:
        for log in logs:
            with open(log, "wb") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "ivr", "worker", "--threads", "1"],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=out,
                    )
                )

        def runs_done() -> int:
            with services.db.transaction() as session:
                return len(
                    session.scalars(
                        select(ScheduledRun).where(
                            ScheduledRun.job == "welcome_letters", ScheduledRun.state == "done"
                        )
                    ).all()
                )

        wait_for(lambda: runs_done() >= 4, 60, "four planned runs of the letter batch")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    texts = [log.read_text() for log in logs]
    assert all("scheduler started" in text for text in texts)
    ran = Counter(
        key for text in texts for key in re.findall(r"nightly welcome_letters (\S+): ran by", text)
    )
    assert len(ran) >= 4 and set(ran.values()) == {1}, ran
    with services.db.transaction() as session:
        details = session.scalars(
            select(ScheduledRun.detail).where(ScheduledRun.job == "welcome_letters")
        ).all()
        [letter] = session.scalars(select(WelcomeLetter)).all()
    assert sorted(details).count("1 letters written") == 1  # the letter, written once
    assert letter.produced_by == "batch"
    assert (settings.data_dir / letter.path).read_bytes().startswith(b"%PDF-")
