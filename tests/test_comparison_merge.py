"""The comparison's merge and whole runs against a fake switch kept in a list.

The fake is the switch side of the SwitchSession protocol at its simplest: it dumps the lines
it is given, in the order given (repeats and disorder included), and can hang up after a
number of them. The real simulator, which cannot repeat a line, is used in
test_comparison_run.py.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from activation.comparison.findings import Findings
from activation.comparison.merge import DumpFailed, Tally, merge
from activation.comparison.run import run_comparison
from activation.lifecycle.assignment import billing_record
from activation.services import Services
from activation.settings import Settings
from activation.store.comparison import ComparisonFinding, ComparisonRun
from activation.store.models import Switch, TelephoneNumber, Transaction
from ivr.bootstrap import bootstrap
from switch_adapters.port import LineDown, Record, Subscriber, SwitchDefinition

MID = "713555"


def mid(suffix: int) -> str:
    return f"{MID}{suffix:04d}"


class FakeLine:
    """A logged-on session to a switch held in a list."""

    def __init__(
        self, name: str, lines: list[Subscriber], hang_up_after: int | None, keeps_features: bool
    ) -> None:
        self.name = name
        self.lines = lines
        self.hang_up_after = hang_up_after
        self.keeps_features = keeps_features
        self.closed = False

    def dump(self) -> Iterator[Subscriber]:
        for count, line in enumerate(self.lines):
            if count == self.hang_up_after:
                raise LineDown(self.name, "carrier lost")
            yield line

    def close(self) -> None:
        self.closed = True


class FakeGateway:
    """Opens FakeLines by switch name; a name without lines cannot be reached."""

    def __init__(self, lines: dict[str, list[Subscriber]], hang_up_after: int | None = None):
        self.lines = lines
        self.hang_up_after = hang_up_after
        self.keeps_features = True
        self.opened: list[FakeLine] = []

    def open(self, defn: SwitchDefinition) -> FakeLine:
        if defn.name not in self.lines:
            raise LineDown(defn.name, "no answer on primary line")
        line = FakeLine(defn.name, self.lines[defn.name], self.hang_up_after, self.keeps_features)
        self.opened.append(line)
        return line


def new_run(services: Services) -> int:
    with services.db.transaction() as session:
        run = ComparisonRun()
        session.add(run)
        session.flush()
        return run.id


def found(services: Services, run_id: int) -> set[tuple[str, ...]]:
    with services.db.transaction() as session:
        rows = session.execute(
            select(
                ComparisonFinding.switch_name, ComparisonFinding.kind, ComparisonFinding.mid
            ).where(ComparisonFinding.run_id == run_id)
        ).all()
    return {tuple(row) for row in rows}


def batches(records: list[Record], size: int) -> list[list[Record]]:
    return [records[start : start + size] for start in range(0, len(records), size)]


def run_merge(
    services: Services,
    cas: list[Record],
    dump: list[Subscriber],
    in_flight: dict[str, str] | None = None,
    keeps_features: bool = True,
) -> tuple[set[tuple[str, str]], Tally]:
    """Merge with both sides cut in batches of several sizes; every size must find the same."""
    lines = [(s.mid, s.esn, s.features, s.state) for s in dump]
    outcomes = []
    for size in (1, 2, 3, 1000):
        run_id = new_run(services)
        out = Findings(services.db, run_id, "HOU1", in_flight or {})
        tally = Tally()
        try:
            merge(
                batches(cas, size),
                batches(lines, max(1, size - 1)),  # the sides' batches never line up
                out,
                tally,
                keeps_features=keeps_features,
            )
        finally:
            out.flush()
        outcomes.append(({(kind, m) for _, kind, m in found(services, run_id)}, tally))
    assert all(outcome == outcomes[0] for outcome in outcomes), outcomes
    return outcomes[0]


def cas_row(suffix: int, esn: str = "", plan: str = "10", state: str = "active") -> Record:
    return (mid(suffix), esn or f"138{suffix:08d}", plan, state)


def line(suffix: int, esn: str = "", plan: str = "10", state: str = "active") -> Subscriber:
    return Subscriber(mid(suffix), esn or f"138{suffix:08d}", plan, state)


def test_merge_finds_every_kind_including_the_first_and_last_mid(services):
    cas = [cas_row(1), cas_row(2), cas_row(3), cas_row(4), cas_row(9999)]
    dump = [line(0), line(2), line(3, esn="13899990000"), line(4, plan="20"), line(5)]
    findings, tally = run_merge(services, cas, dump)
    assert findings == {
        ("unknown_to_cas", mid(0)),
        ("missing_on_switch", mid(1)),
        ("esn_mismatch", mid(3)),
        ("feature_mismatch", mid(4)),
        ("unknown_to_cas", mid(5)),
        ("missing_on_switch", mid(9999)),
    }
    assert (tally.cas, tally.lines, tally.last_mid) == (5, 5, mid(5))


def test_merge_reports_esn_and_feature_mismatch_of_one_mid_separately(services):
    findings, _ = run_merge(services, [cas_row(7)], [line(7, esn="1", plan="30")])
    assert findings == {("esn_mismatch", mid(7)), ("feature_mismatch", mid(7))}


def test_merge_finds_a_line_in_another_state_either_way(services):
    cas = [cas_row(1, state="suspended"), cas_row(2), cas_row(3, state="suspended"), cas_row(4)]
    dump = [line(1), line(2, state="suspended"), line(3, state="suspended"), line(4)]
    findings, _ = run_merge(services, cas, dump)
    assert findings == {("state_mismatch", mid(1)), ("state_mismatch", mid(2))}
    run_id = new_run(services)
    out = Findings(services.db, run_id, "HOU1", {})
    merge([[cas_row(1, state="suspended")]], [[cas_row(1)]], out, Tally())
    out.flush()
    with services.db.transaction() as session:
        finding = session.scalars(
            select(ComparisonFinding).where(ComparisonFinding.run_id == run_id)
        ).one()
    assert (finding.cas_state, finding.switch_state) == ("suspended", "active")
    assert finding.detail == "suspended in CAS, active on the switch"


@pytest.mark.parametrize(
    ("cas", "dump", "expected"),
    [
        ([], [], set()),
        ([], [line(1), line(9999)], {("unknown_to_cas", mid(1)), ("unknown_to_cas", mid(9999))}),
        (
            [cas_row(1), cas_row(9999)],
            [],
            {("missing_on_switch", mid(1)), ("missing_on_switch", mid(9999))},
        ),
    ],
    ids=["both-empty", "cas-empty", "switch-empty"],
)
def test_merge_with_an_empty_side(services, cas, dump, expected):
    assert run_merge(services, cas, dump)[0] == expected


def test_duplicate_lines_are_reported_and_make_no_false_findings(services):
    cas = [cas_row(1), cas_row(2), cas_row(9999)]
    dump = [line(1), line(1), line(2), line(2, esn="13800000000"), line(9999), line(9999)]
    findings, tally = run_merge(services, cas, dump)
    assert findings == {("duplicate", mid(1)), ("duplicate", mid(2)), ("duplicate", mid(9999))}
    assert tally.lines == 6 and tally.cas == 3


def test_a_mid_repeated_three_times_is_reported_twice(services):
    run_id = new_run(services)
    out = Findings(services.db, run_id, "HOU1", {})
    merge([[cas_row(1)]], [[cas_row(1)] * 3], out, Tally())
    out.flush()
    with services.db.transaction() as session:
        kinds = session.scalars(
            select(ComparisonFinding.kind).where(ComparisonFinding.run_id == run_id)
        ).all()
    assert kinds == ["duplicate", "duplicate"]


def test_a_dump_out_of_order_cannot_be_trusted(services):
    with pytest.raises(DumpFailed, match=f"{mid(2)} after {mid(3)}"):
        run_merge(services, [cas_row(1)], [line(1), line(3), line(2)])


def test_mids_in_flight_are_not_discrepancies(services):
    cas = [cas_row(1), cas_row(2)]
    dump = [line(2, esn="1"), line(3)]
    in_flight = {mid(n): f"switch_change activity {n} (suspend)" for n in (1, 2, 3)}
    findings, _ = run_merge(services, cas, dump, in_flight)
    assert findings == {("in_flight", mid(1)), ("in_flight", mid(2)), ("in_flight", mid(3))}


def test_features_are_not_compared_on_a_switch_that_keeps_none(services):
    findings, _ = run_merge(services, [cas_row(1)], [line(1, plan="")], keeps_features=False)
    assert findings == set()


# -- whole runs against fake switches ----------------------------------------------------------


def activate(session, suffix: int, esn: str = "", plan: str = "10", block: str = MID) -> None:
    number = f"{block}{suffix:04d}"
    tx = Transaction(
        code=f"{block[-2:]}{suffix:06d}",
        agent_id=1,
        status="active",
        step="done",
        esn=esn or f"138{suffix:08d}",
        rate_plan_code=plan,
        npa_nxx=block,
        mid=number,
    )
    session.add(tx)
    session.flush()
    held = session.get(TelephoneNumber, number)
    held.status, held.transaction_id = "active", tx.id


@pytest.fixture
def faked(settings: Settings) -> Iterator[tuple[Services, FakeGateway]]:
    gateway = FakeGateway({})
    services = bootstrap(settings, switches=gateway)
    with services.db.transaction() as session:
        for suffix in (1, 2, 3, 9999):
            activate(session, suffix)
    yield services, gateway
    services.db.dispose()


def test_a_run_reports_duplicates_without_false_findings(faked, tmp_path):
    services, gateway = faked
    gateway.lines["HOU1"] = [line(1), line(2), line(2), line(3), line(9999), line(9999)]
    result = run_comparison(services, ["HOU1"], tmp_path / "reports")
    assert found(services, result.run_id) == {
        ("HOU1", "duplicate", mid(2)),
        ("HOU1", "duplicate", mid(9999)),
    }
    assert result.discrepancies == 0 and result.unreadable == {}
    assert gateway.opened[0].closed
    with result.files["csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["kind"], r["mid"], r["detail"]) for r in rows] == [
        ("duplicate", mid(2), "line repeated"),
        ("duplicate", mid(9999), "line repeated"),
    ]


def test_a_switch_that_hangs_up_mid_dump_is_unreadable_and_nothing_is_called_missing(
    faked, tmp_path
):
    services, gateway = faked
    # The switch lacks 0002 (before the cut) and has 0004 CAS does not know (before the cut),
    # 0005 unknown after the cut; the line goes after four lines.
    gateway.lines["HOU1"] = [line(1), line(3), line(4), line(4), line(5), line(9999)]
    gateway.hang_up_after = 4
    result = run_comparison(services, ["HOU1"], tmp_path / "reports")
    assert found(services, result.run_id) == {
        ("HOU1", "unknown_to_cas", mid(4)),
        ("HOU1", "duplicate", mid(4)),
        ("HOU1", "unreadable", mid(4)),
    }
    why = result.unreadable["HOU1"]
    assert "LineDown" in why and "carrier lost" in why and "after 4 lines" in why
    assert "missing not confirmed" in why


def test_a_switch_that_cannot_be_reached_is_named_not_skipped(faked, tmp_path):
    services, gateway = faked
    gateway.lines["HOU1"] = [line(1), line(2), line(3), line(9999)]
    result = run_comparison(services, ["HOU1", "HOU2"], tmp_path / "reports")
    assert result.unreadable == {
        "HOU2": "could not open: LineDown: HOU2: no answer on primary line"
    }
    assert found(services, result.run_id) == {("HOU2", "unreadable", "")}
    assert "HOU2" in result.summary and "no answer on primary line" in result.summary


def test_an_unknown_switch_name_is_refused_before_anything_runs(faked, tmp_path):
    services, _ = faked
    with pytest.raises(ValueError, match="no such switch: NOPE"):
        run_comparison(services, ["HOU1", "NOPE"], tmp_path / "reports")
    with services.db.transaction() as session:
        assert session.scalar(select(ComparisonRun.id)) is None


def test_every_active_switch_and_billing_are_compared_by_default(faked, tmp_path):
    services, gateway = faked
    gateway.lines.update({"HOU1": [line(1), line(2), line(3), line(9999)], "HOU2": [], "HOU3": []})
    with services.db.transaction() as session:
        for tx in session.scalars(select(Transaction)):
            services.billing.submit(billing_record(tx))
    result = run_comparison(services, report_dir=tmp_path / "reports")
    with services.db.transaction() as session:
        active = session.scalars(select(Switch.name).where(Switch.active.is_(True))).all()
    assert [r.name for r in result.switches] == sorted(active)
    assert [r.name for r in result.sides] == [*sorted(active), "billing"]
    assert result.billing is not None
    assert (result.billing.cas_numbers, result.billing.switch_lines) == (4, 4)
    assert result.discrepancies == 0 and result.unreadable == {}


def test_a_switch_that_keeps_no_features_is_compared_on_esn_alone(faked, tmp_path):
    services, gateway = faked
    gateway.lines["HOU1"] = [
        line(1, plan=""),
        line(2, esn="13899990000", plan=""),
        line(3, plan=""),
        line(9999, plan=""),
    ]
    gateway.keeps_features = False
    result = run_comparison(services, ["HOU1"], tmp_path / "reports")
    assert found(services, result.run_id) == {("HOU1", "esn_mismatch", mid(2))}
    with services.db.transaction() as session:
        finding = session.scalars(select(ComparisonFinding)).one()
        tx = session.scalars(select(Transaction).where(Transaction.mid == mid(2))).one()
    # What CAS holds is told in full: the transaction and its rate plan, though not compared.
    assert (finding.cas_esn, finding.cas_features, finding.transaction_id) == (
        tx.esn,
        "10",
        tx.id,
    )
    assert (finding.switch_esn, finding.switch_features) == ("13899990000", "")
