"""A CSR acts on what the nightly comparison could not repair: both sides shown, one fitting
action each, carried out by the worker through the activity queue."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from activation.comparison.run import run_comparison
from activation.parties.switching import definition
from activation.store.comparison import ComparisonFinding
from activation.store.models import Activity, Escalation, Switch, TelephoneNumber, Transaction
from switch_adapters import open_session
from switch_adapters.port import Subscriber

from ..flow.conftest import log_on
from .test_console_actions import Console, _phone
from .test_console_words import _activate

ROGUE = "7135559999"


def _line(services, name: str):  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        switch = session.scalar(select(Switch).where(Switch.name == name))
        return open_session(definition(switch, services.vault), deadline=10)


def _active_line(app, services) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Activate a line by phone on HOU1 and wait for its work: its transaction code and MID."""
    code = _activate(log_on(_phone(app)), "13803186457")
    _settled(services)
    with services.db.read() as session:
        return code, session.scalar(select(Transaction.mid).where(Transaction.code == code))


def _settled(services, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        with services.db.read() as session:
            busy = session.scalar(
                select(Activity.id).where(Activity.state.in_(("pending", "running"))).limit(1)
            )
        if busy is None:
            return
        assert time.monotonic() < deadline, "the queue did not settle"
        time.sleep(0.1)


def test_a_rogue_number_and_a_wrong_esn_are_shown_side_by_side_and_put_right(
    app, services, users, worker, switches, tmp_path: Path
):
    code, mid = _active_line(app, services)
    line = _line(services, "HOU1")
    try:
        line.insert(Subscriber(ROGUE, "13803180000", "10"))  # put there by hand, unknown to CAS
        line.modify(mid, esn="13803189999")  # someone keyed another handset on the switch
    finally:
        line.close()
    result = run_comparison(services, ["HOU1"], tmp_path / "reports", repair=True)
    assert result.discrepancies == 2
    with services.db.read() as session:
        flagged = {
            f.kind: int(f.repair_ref.split()[1])
            for f in session.scalars(
                select(ComparisonFinding).where(ComparisonFinding.run_id == result.run_id)
            )
        }
        rogue_before = session.get(TelephoneNumber, ROGUE).status
    assert set(flagged) == {"unknown_to_cas", "esn_mismatch"}

    console = Console(app, "csr", users["csr"])
    page = console.get(f"/console/escalations/{flagged['esn_mismatch']}")
    dashed = f"{mid[:3]}-{mid[3:6]}-{mid[6:]}"
    assert f"What each side holds for {dashed}" in page
    assert "<td>13803186457</td>" in page and 'class="differs">13803189999' in page
    assert "Put CAS&#39;s ESN and plan on the switch" in page
    assert "Take the number off the switch" not in page  # not this finding's action
    refused = console.post(f"/console/escalations/{flagged['esn_mismatch']}/act", action="take_off")
    assert "does not fit a finding of kind esn_mismatch" in refused
    page = console.post(f"/console/escalations/{flagged['esn_mismatch']}/act", action="fix_line")
    assert "queued as activity" in page
    assert "not now, the escalation is resolved" in page  # offered no more

    page = console.get(f"/console/escalations/{flagged['unknown_to_cas']}")
    assert "7135559999" not in page or "713-555-9999" in page
    assert "not in service" in page and "Take the number off the switch" in page
    page = console.post(f"/console/escalations/{flagged['unknown_to_cas']}/act", action="take_off")
    assert "queued as activity" in page

    _settled(services)
    line = _line(services, "HOU1")
    try:
        assert line.query(ROGUE) is None
        assert line.query(mid).esn == "13803186457"
    finally:
        line.close()
    with services.db.read() as session:
        states = dict(session.execute(select(Escalation.id, Escalation.state)).all())
        assert states[flagged["esn_mismatch"]] == states[flagged["unknown_to_cas"]] == "resolved"
        assert session.get(TelephoneNumber, ROGUE).status == rogue_before  # not freed by it
        tx = session.scalar(select(Transaction).where(Transaction.code == code))
        assert (tx.status, tx.mid, tx.esn) == ("active", mid, "13803186457")
    again = run_comparison(services, ["HOU1"], tmp_path / "reports")
    assert again.discrepancies == 0
