"""A CSR acts on the comparison's line-state and billing findings it could not repair by
itself: both sides shown, the fitting action queued, the worker carrying it out."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from activation.comparison.repair import flag
from activation.comparison.run import run_comparison
from activation.jobs.worker import Worker
from activation.store.comparison import ComparisonFinding
from activation.store.models import Activity, Escalation

from ..test_comparison_billing import gone, on, record
from ..test_comparison_run import activate, code_of
from .test_comparison_desk import _active_line, _line, _settled
from .test_console_actions import Console


def _left_to_a_csr(services, run_id: int, kind: str, reason: str) -> int:  # type: ignore[no-untyped-def]
    """Escalate a finding as the repair does when the line was not in service at that moment
    (its transaction was being changed); return the escalation's id."""
    with services.db.transaction() as session:
        finding = session.scalar(
            select(ComparisonFinding).where(
                ComparisonFinding.run_id == run_id, ComparisonFinding.kind == kind
            )
        )
        escalation = flag(session, reason, None)
        finding.repair, finding.repair_ref = "flagged", f"escalation {escalation}"
        return escalation


def test_a_line_state_mismatch_is_shown_and_the_lines_state_put_on_the_switch(
    app, services, users, worker, switches, tmp_path: Path
):
    _code, mid = _active_line(app, services)
    line = _line(services, "HOU1")
    try:
        line.suspend(mid)  # suspended on the switch by hand; CAS holds the line active
    finally:
        line.close()
    result = run_comparison(services, ["HOU1"], tmp_path / "reports")
    assert result.discrepancies == 1
    esc = _left_to_a_csr(services, result.run_id, "state_mismatch", f"HOU1 holds {mid} suspended")

    console = Console(app, "csr", users["csr"])
    page = console.get(f"/console/escalations/{esc}")
    assert "<td>active</td>" in page and 'class="differs">suspended' in page
    assert "Put the line&#39;s state on the switch" in page
    refused = console.post(f"/console/escalations/{esc}/act", action="reinsert")
    assert "does not fit a finding of kind state_mismatch" in refused
    page = console.post(f"/console/escalations/{esc}/act", action="restate")
    assert "queued as activity" in page and "not now, the escalation is resolved" in page

    _settled(services)
    line = _line(services, "HOU1")
    try:
        assert line.query(mid).state == "active"
    finally:
        line.close()
    with services.db.read() as session:
        restate = session.scalar(select(Activity).where(Activity.type == "switch_change"))
        assert (restate.state, restate.payload["command"]) == ("done", "restore")
        assert session.get_one(Escalation, esc).state == "resolved"
    assert run_comparison(services, ["HOU1"], tmp_path / "reports").discrepancies == 0


def test_billing_findings_resend_the_lines_record_or_take_a_stray_record_off(
    app, services, users, tmp_path: Path
):
    billing = services.billing
    with services.db.transaction() as session:
        unbilled = activate(session, on("0001"))  # in service, no record at billing
        doubled = activate(session, on("0007"))
        billing.submit(record(doubled))
        billing.submit(record(doubled, transaction_code="99990007"))  # billed twice
        billing.submit(record(doubled, transaction_code="99990008", mid=on("0008")))  # stray
        waiting = gone(session, on("0009"), "60000009", "delayed")  # its switch is slow
        waiting.mid = on("0009")
        billing.submit(record(waiting, mid=on("0009")))
        unbilled_code = unbilled.code
    result = run_comparison(services, ["billing"], tmp_path / "r", repair=True)
    with services.db.read() as session:
        refs = dict(
            session.execute(
                select(ComparisonFinding.mid, ComparisonFinding.repair_ref).where(
                    ComparisonFinding.run_id == result.run_id
                )
            ).all()
        )
    # The repair re-sent the doubled line's own record and left the unknown records to a CSR.
    assert refs[on("0007")].startswith("activity ") and "; escalation " in refs[on("0007")]
    other = int(refs[on("0007")].rsplit(" ", 1)[1])
    stray = int(refs[on("0008")].split()[1])
    held_by_cas = int(refs[on("0009")].split()[1])
    Worker(services, "desk").drain()
    # Billing's record of the unbilled line is lost again: left to a CSR, as when its
    # transaction was being changed while the repair ran.
    billing.delete(unbilled_code)
    again = run_comparison(services, ["billing"], tmp_path / "r")
    missing = _left_to_a_csr(
        services, again.run_id, "missing_in_billing", f"{on('0001')} without its transaction"
    )

    console = Console(app, "csr", users["csr"])
    page = console.get(f"/console/escalations/{missing}")
    assert "<th>Billing</th>" in page and "no record" in page
    assert "Send billing the line&#39;s record again" in page
    page = console.post(f"/console/escalations/{missing}/act", action="resend")
    assert "queued as activity" in page

    page = console.get(f"/console/escalations/{other}")
    assert 'class="differs">99990007' in page and "Take the record off billing" in page
    assert "Send billing" not in page  # the line's own record was re-sent by the repair
    assert "queued as activity" in console.post(
        f"/console/escalations/{other}/act", action="take_off_billing"
    )
    page = console.get(f"/console/escalations/{stray}")
    assert "not in service" in page and "Take the record off billing" in page
    assert "queued as activity" in console.post(
        f"/console/escalations/{stray}/act", action="take_off_billing"
    )

    # A record of a transaction CAS holds, not yet in service: that transaction settles it.
    page = console.get(f"/console/escalations/{held_by_cas}")
    assert "not now, transaction 60000009 is delayed in CAS; settle it there first" in page
    refused = console.post(f"/console/escalations/{held_by_cas}/act", action="take_off_billing")
    assert "not now: transaction 60000009 is delayed" in refused

    Worker(services, "desk").drain()
    held = {r.transaction_code: r.mid for r in billing.records()}
    assert held == {
        code_of(on("0001")): on("0001"),
        code_of(on("0007")): on("0007"),
        "60000009": on("0009"),
    }
    with services.db.read() as session:
        states = {session.get_one(Escalation, e).state for e in (missing, other, stray)}
        assert session.get_one(Escalation, held_by_cas).state == "open"
    assert states == {"resolved"}
    assert run_comparison(services, ["billing"], tmp_path / "r").discrepancies == 1
