"""Random interleavings of every entry point over a few transactions keep the number invariants.

Hypothesis drives calls (two per transaction, keying or polling), CSRs (send to switch, close,
remove queued work), the agent's denial on a call-back, a rogue subscriber planted on a
switch, and worker attempts whose switch answers late or not at all, in any order. After
every step, and once the queue is drained:

- never two numbers for one transaction,
- never one number for two transactions,
- never a billing record on a number its transaction does not hold when it is sent,
- and, drained: every active transaction's MID on its switch with its handset, nothing else
  of CAS's on a switch, every billing record on its transaction's active MID.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from activation.call.engine import CallFlow
from activation.call.outcomes import Answer, Prompt
from activation.followup import callbacks
from activation.jobs.worker import Worker
from activation.lifecycle import states
from activation.lifecycle.customers import keep_customer
from activation.lifecycle.states import MoveRefused
from activation.service_layer import csr
from activation.services import Services
from activation.settings import Settings
from activation.store.models import (
    Activity,
    Agent,
    Call,
    TelephoneNumber,
    Transaction,
    utcnow,
)
from ivr.bootstrap import bootstrap

from ..conftest import TEST_SECRET
from .fakes import CheckingBilling, FakeSwitch

ESNS = ("13803186457", "13803186458", "13803186459")
ROGUE_ESN = "19999999999"
BLOCKS = ("713555", "281555")


@dataclass
class World:
    services: Services
    switch: FakeSwitch
    billing: CheckingBilling
    codes: list[str]
    calls: list[list[str]]


@contextmanager
def world(template: Path, switch_deadline: float) -> Iterator[World]:
    directory = Path(tempfile.mkdtemp(prefix="cas-invariants-"))
    try:
        shutil.copy(template, directory / "cas.sqlite3")
        settings = Settings(
            data_dir=directory,
            secret_key=TEST_SECRET,
            hold_pause=1,
            switch_deadline=switch_deadline,
        )
        switch, billing = FakeSwitch(), CheckingBilling()
        services = bootstrap(settings, switches=switch, billing=billing)
        billing.services = services
        codes, calls = _transactions_at_npa_confirm(services)
        try:
            yield World(services, switch, billing, codes, calls)
        finally:
            services.db.dispose()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _transactions_at_npa_confirm(services: Services) -> tuple[list[str], list[list[str]]]:
    """Three transactions with credit approved and a plan, each with two calls at the read-back."""
    codes, calls = [], []
    prompt = Answer(1, Prompt(("read-back",), max_digits=1))
    stored = services.vault.encrypt(json.dumps(prompt.to_dict()))
    with services.db.transaction() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.agent_code == "1001"))
        for i, esn in enumerate(ESNS):
            code = f"8000000{i}"
            tx = states.begin(session, code, agent_id, "test")
            tx.esn, tx.customer_kind, tx.rate_plan_code = esn, "individual", "10"
            tx.npa_nxx, tx.step = BLOCKS[i % 2], "npa_confirm"
            tx.ssn_encrypted = services.vault.encrypt("123456789")
            tx.ssn_hash, tx.ssn_last4 = services.vault.lookup_hash("123456789"), "6789"
            tx.bureau_name, tx.bureau_address = "Jane Q Public", "12 Main Street"
            tx.credit_decision, tx.deposit_cents = "approve", 0
            keep_customer(session, tx)
            sids = []
            for side in "ab":
                sid = f"CA{side}{i}"
                session.add(
                    Call(
                        call_sid=sid,
                        direction="inbound",
                        agent_code="1001",
                        agent_id=agent_id,
                        transaction_id=tx.id,
                        step="npa_confirm",
                        seq=1,
                        failures={},
                        timeouts=0,
                        login_failures=0,
                        last_answer=stored,
                        ended=False,
                    )
                )
                sids.append(sid)
            codes.append(code)
            calls.append(sids)
    return codes, calls


OPS = st.one_of(
    st.tuples(st.just("key"), st.integers(0, 2), st.integers(0, 1), st.sampled_from("123")),
    st.tuples(st.just("poll"), st.integers(0, 2), st.integers(0, 1)),
    st.tuples(st.just("csr_send"), st.integers(0, 2)),
    st.tuples(st.just("csr_close"), st.integers(0, 2)),
    st.tuples(st.just("csr_remove"), st.integers(0, 2)),
    st.tuples(st.just("deny"), st.integers(0, 2)),
    st.tuples(st.just("rogue"), st.integers(0, 2)),
    st.tuples(st.just("work"), st.sampled_from(["", "", "late", "down"])),
)


def _run(w: World, op: tuple) -> None:  # type: ignore[type-arg]
    services, kind = w.services, op[0]
    if kind in ("key", "poll"):
        sid = w.calls[op[1]][op[2]]
        with services.db.read() as session:
            seq = session.get_one(Call, sid).seq
        CallFlow(services).answer(sid, seq, op[3] if kind == "key" else None)
    elif kind == "csr_send":
        try:
            csr.send_to_switch(services, w.codes[op[1]], BLOCKS[op[1] % 2], "csr")
        except csr.Refused:
            pass
    elif kind == "csr_close":
        try:
            csr.close_transaction(services, w.codes[op[1]], "test", "csr")
        except csr.Refused:
            pass
    elif kind == "csr_remove":
        with services.db.read() as session:
            tx_id = session.scalar(select(Transaction.id).where(Transaction.code == w.codes[op[1]]))
            queued = session.scalar(
                select(Activity.id).where(
                    Activity.transaction_id == tx_id,
                    Activity.state.in_(("pending", "failed")),
                    Activity.type.in_(("switch_insert", "credit_check")),
                )
            )
        if queued is not None:
            try:
                csr.remove_activity(services, queued, "test", "supervisor")
            except csr.Refused:
                pass
    elif kind == "deny":
        with services.db.transaction() as session:
            tx_id = session.scalar(select(Transaction.id).where(Transaction.code == w.codes[op[1]]))
            tx = states.lock(session, tx_id)
            try:
                callbacks.deny(session, tx, "", "agent")
            except MoveRefused:
                pass
    elif kind == "rogue":
        with services.db.read() as session:
            free = session.scalar(
                select(func.min(TelephoneNumber.mid)).where(
                    TelephoneNumber.npa_nxx == BLOCKS[op[1] % 2], TelephoneNumber.status == "free"
                )
            )
        if free is not None and ROGUE_ESN not in w.switch.held.values():
            w.switch.held[free] = ROGUE_ESN
    else:
        if op[1]:
            w.switch.faults.append(op[1])
        # Later than any back-off: an attempt that waits is due at once.
        Worker(services, "w", clock=lambda: utcnow() + timedelta(hours=1)).run_once()
        w.switch.faults.clear()


def _check(w: World) -> None:
    with w.services.db.read() as session:
        held = session.execute(
            select(TelephoneNumber.transaction_id, func.count())
            .where(
                TelephoneNumber.transaction_id.is_not(None),
                TelephoneNumber.status.in_(("reserved", "active")),
            )
            .group_by(TelephoneNumber.transaction_id)
        ).all()
        assert all(n == 1 for _, n in held), f"a transaction holds two numbers: {held}"
        for tx in session.scalars(select(Transaction)):
            if tx.status in ("assigning", "delayed", "active"):
                number = session.get_one(TelephoneNumber, tx.mid)
                assert number.transaction_id == tx.id, f"{tx.code} holds {tx.mid} not its own"
                assert number.status == ("active" if tx.status == "active" else "reserved")
        mids = session.scalars(select(Transaction.mid).where(Transaction.mid.is_not(None))).all()
        assert len(mids) == len(set(mids)), f"one number for two transactions: {mids}"
    assert w.billing.violations == []


def _drain(w: World) -> None:
    with w.services.db.transaction() as session:  # a CSR retries whatever failed for good
        for activity in session.scalars(select(Activity).where(Activity.state == "failed")):
            activity.state, activity.max_attempts = "pending", activity.attempts + 5
    worker = Worker(w.services, "drain", clock=lambda: utcnow() + timedelta(days=1))
    for _ in range(200):
        if not worker.run_once():
            break


def _check_drained(w: World) -> None:
    on_switch = dict(w.switch.held)
    with w.services.db.read() as session:
        for tx in session.scalars(select(Transaction)):
            if tx.status == "active":
                assert on_switch.get(tx.mid or "") == tx.esn, f"{tx.code}: {tx.mid} not on switch"
                record = w.billing.records.get(tx.code)
                assert record is not None and record.mid == tx.mid
            else:
                assert tx.code not in w.billing.records, f"{tx.code} ({tx.status}) billed"
        for mid, esn in on_switch.items():
            if esn == ROGUE_ESN:
                continue
            number = session.get_one(TelephoneNumber, mid)
            owner = (
                session.get(Transaction, number.transaction_id) if number.transaction_id else None
            )
            assert number.status == "blocked" or (
                owner is not None and owner.status == "active" and owner.esn == esn
            ), f"{mid} on the switch for {esn}, CAS says {number.status}"


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, max_size=40), switch_deadline=st.sampled_from([0.0, 3600.0]))
def test_any_interleaving_keeps_one_number_per_transaction(demo_template, ops, switch_deadline):
    note(f"switch deadline {switch_deadline}, steps {ops}")
    with world(demo_template, switch_deadline) as w:
        for op in ops:
            _run(w, op)
            _check(w)
        _drain(w)
        _check(w)
        _check_drained(w)
