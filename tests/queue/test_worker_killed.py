"""A worker process killed (SIGKILL) in the middle of an insertion: another one finishes it.

The switch simulator takes the insertion and holds its answer back; the worker is killed while
it waits. Its lease keeps the activity from anyone else until it runs out; then another worker
takes it, asks the switch first, finds the MID there, and does not insert it again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select

from activation.jobs.worker import Worker
from activation.lifecycle import assignment
from activation.parties.switching import definition
from activation.queue import activities, activity_log
from activation.store.models import Activity, Agent, Switch, TelephoneNumber, Transaction, utcnow
from switch_adapters.port import Subscriber
from switch_adapters.simulator.process import start_simulator
from tests.conftest import TEST_SECRET

from .conftest import wait_for

DEADLINE = 10  # the killed worker's switch deadline; its lease is three times that


def started_by(worker: subprocess.Popen[bytes]) -> str:
    """The start of the name a worker process leases activities under (host:pid)."""
    import socket

    return f"{socket.gethostname()}:{worker.pid}:"


def _worker_process(data_dir) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "CAS_DATA_DIR": str(data_dir),
        "CAS_SECRET_KEY": TEST_SECRET,
        "CAS_SWITCH_DEADLINE": str(DEADLINE),
    }
    env.pop("CAS_DATABASE_URL", None)
    command = [sys.executable, "-m", "ivr", "worker", "--threads", "1", "--no-scheduler"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_killed_worker_s_insertion_is_finished_by_another_and_the_mid_is_on_once(
    services, settings, tmp_path
):
    with services.db.transaction() as session:
        switch = session.scalars(select(Switch).where(Switch.name == "HOU1")).one()
        sim = start_simulator(
            "tl1",
            tmp_path / "switch-HOU1.sqlite3",
            name=switch.logon_name,
            secret=definition(switch, services.vault).logon_secret,
        )
        switch.primary_url = sim.url
        tx = Transaction(
            code="60000001",
            agent_id=session.scalar(select(Agent.id).where(Agent.agent_code == "1001")),
            status="incomplete",
            step="npa_confirm",
            esn="13803186457",
            rate_plan_code="10",
            npa_nxx="713555",
            callback_requested=False,
        )
        session.add(tx)
        session.flush()
        assert assignment.claim(session, tx, switch, "test")
        mid = tx.mid
    worker = None
    try:
        # Log-on and insertion are done at once but answered late: the worker waits in insert.
        sim.control("delay 4 2")
        worker = _worker_process(settings.data_dir)

        def caught_mid_insert() -> bool:
            assert worker.poll() is None, "the worker process died by itself"
            return bool(sim.subscribers())

        wait_for(caught_mid_insert, 30, "the switch to take the insertion")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        sim.control("clear")

        with services.db.transaction() as session:
            activity = session.scalars(select(Activity)).one()
            assert (activity.state, activity.attempts) == ("running", 1)
            assert f":{worker.pid}:" in activity.leased_by  # still the killed worker's
            lease_until = activity.lease_until
            # The attempt that died is in the log, begun and never finished.
            [started] = activity_log.for_switch(session, "HOU1")
        assert (started.attempt, started.outcome) == (1, "started")
        assert lease_until - utcnow() > timedelta(seconds=DEADLINE)

        # While the lease runs, nobody else takes the activity...
        assert not Worker(services, "second").run_once()
        # ...once it has run out, the next worker does.
        after_lease = lease_until - utcnow() + timedelta(seconds=1)
        second = Worker(services, "second", clock=lambda: utcnow() + after_lease)
        assert second.run_once()

        with services.db.transaction() as session:
            activity = session.scalars(
                select(Activity).where(Activity.type == "switch_insert")
            ).one()
            assert (activity.state, activity.attempts) == ("done", 2)
            assert activity.result == {"outcome": "inserted"}
            # The billing record and the E911 registration, next.
            assert activities.counts(session)["pending"] == 2
            tx = session.scalars(select(Transaction)).one()
            assert (tx.status, tx.mid) == ("active", mid)
            assert session.get(TelephoneNumber, mid).status == "active"
            lost, line = activity_log.for_transaction(session, "60000001")[:2]
        assert (lost.attempt, lost.outcome) == (1, "lost")
        assert f"worker {started_by(worker)}" in lost.answer and "did not finish" in lost.answer
        assert (line.attempt, line.outcome, line.transaction_code) == (2, "ok", "60000001")
        assert sim.subscribers() == [Subscriber(mid, "13803186457", "10")]
        assert sim.stats()["insert"] == 1  # asked first, never inserted twice
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()
        sim.stop()
