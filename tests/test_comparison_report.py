"""The comparison's report pieces, its progress displays and its lock, one at a time."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from sqlalchemy import update

from activation.comparison.lock import ComparisonRunning, LockLost, RunLock
from activation.comparison.progress import JsonLines, RichBar
from activation.comparison.report import RunPoint, summary, svg_chart, text_chart
from activation.store.comparison import ComparisonLock, ComparisonRun

DAY = datetime(2026, 11, 1, 2, 30, tzinfo=UTC)


def points() -> list[RunPoint]:
    return [
        RunPoint(1, DAY, {}, 0),
        RunPoint(2, DAY + timedelta(days=1), {"missing_on_switch": 3, "in_flight": 9}, 0),
        RunPoint(3, DAY + timedelta(days=2), {"unknown_to_cas": 4, "esn_mismatch": 2}, 1),
        RunPoint(4, DAY + timedelta(days=3), {"missing_in_billing": 1, "state_mismatch": 1}, 0),
    ]


def test_the_text_chart_scales_bars_to_the_worst_run_and_marks_unreadable_ones():
    rows = text_chart(points(), width=12)
    assert rows == [
        "  run     1 2026-11-01 02:30 |            |         0",
        "  run     2 2026-11-02 02:30 |######      |         3",
        "  run     3 2026-11-03 02:30 |############|         6 !",
        "  run     4 2026-11-04 02:30 |####        |         2",
    ]


def test_the_svg_chart_stacks_each_kind_and_is_well_formed():
    svg = ET.fromstring(svg_chart(points()))
    ns = "{http://www.w3.org/2000/svg}"
    titles = [t.text for t in svg.iter(f"{ns}title")]
    assert "run 2 missing_on_switch: 3" in titles
    assert "run 3 unknown_to_cas: 4" in titles and "run 3 esn_mismatch: 2" in titles
    assert "1 side(s) unreadable" in titles
    assert "run 4 missing_in_billing: 1" in titles and "run 4 state_mismatch: 1" in titles
    assert not any("in_flight" in (t or "") for t in titles)  # not a discrepancy
    legend = [t.text for t in svg.iter(f"{ns}text")]
    assert "state" in legend  # a switch's kind
    assert {"billing: missing", "billing: extra", "billing: other tx"} <= set(legend)
    bars = [r for r in svg.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    heights = {r.find(f"{ns}title").text: float(r.get("height")) for r in bars}
    assert heights["run 3 unknown_to_cas: 4"] == pytest.approx(
        2 * heights["run 3 esn_mismatch: 2"], abs=0.2
    )


def test_the_summary_gives_billing_a_table_of_its_own():
    run = ComparisonRun(
        id=9,
        started_at=DAY,
        finished_at=DAY + timedelta(seconds=3),
        repair=False,
        switches=["HOU1", "billing"],
        counts={
            "HOU1": {"state_mismatch": 2, "in_flight": 1},
            "billing": {"missing_in_billing": 1, "other_transaction": 3, "in_flight": 4},
        },
        unreadable={},
        cas_numbers=10,
        switch_numbers=11,
        billing_lines=12,
        billing_records=13,
        discrepancies=6,
    )
    text = summary(run, [], {})
    assert "CAS numbers compared: 10; switch lines read: 11" in text
    assert "CAS lines compared with billing: 12; billing records read: 13" in text
    lines = text.splitlines()
    switch_head = next(line for line in lines if line.startswith("switch "))
    assert switch_head.split() == [
        "switch", "missing", "unknown", "ESN", "features", "state", "duplicate", "in", "flight",
        "readable",
    ]  # fmt: skip
    assert next(line for line in lines if line.startswith("HOU1 ")).split() == [
        "HOU1", "0", "0", "0", "0", "2", "0", "1", "yes",
    ]  # fmt: skip
    billing_head = next(line for line in lines if line.startswith("billing "))
    assert billing_head.split() == [
        "billing", "missing", "extra", "other", "tx", "ESN", "plan", "state", "in", "flight",
        "readable",
    ]  # fmt: skip
    billing_row = [line for line in lines if line.startswith("billing ")][1]
    assert billing_row.split() == ["billing", "1", "0", "3", "0", "0", "0", "4", "yes"]
    # Billing alone: no switch table, no switch figures.
    run.switches, run.counts = ["billing"], {"billing": run.counts["billing"]}
    alone = summary(run, [], {})
    assert "switch lines read" not in alone and not any(
        line.startswith("switch ") for line in alone.splitlines()
    )


def test_an_empty_history_still_draws():
    assert text_chart([]) == []
    ET.fromstring(svg_chart([]))


def test_json_lines_report_rate_and_time_left():
    lines: list[str] = []
    progress = JsonLines(lines.append, every=0.0)
    progress.event("switch_started", switch="HOU1", expected=100)
    progress.advanced("HOU1", 40, 100)
    started, moving = (json.loads(line) for line in lines)
    assert started["event"] == "switch_started" and "at" in started
    assert moving["event"] == "progress"
    assert (moving["switch"], moving["done"], moving["expected"]) == ("HOU1", 40, 100)
    assert moving["per_second"] > 0 and moving["seconds_left"] >= 0


def test_json_lines_stay_quiet_between_progress_lines():
    lines: list[str] = []
    progress = JsonLines(lines.append, every=3600.0)
    progress.event("switch_started", switch="HOU1", expected=100)
    for done in range(0, 100, 10):
        progress.advanced("HOU1", done, 100)
    assert [json.loads(line)["event"] for line in lines] == ["switch_started"]


def test_the_terminal_bar_shows_each_switch_and_the_unreadable():
    out = io.StringIO()
    with RichBar(Console(file=out, force_terminal=True, width=120)) as bar:
        bar.event("switch_started", switch="HOU1", expected=1000)
        bar.advanced("HOU1", 500, 1000)
        bar.event("switch_finished", switch="HOU1")
        bar.event("switch_started", switch="HOU2", expected=0)
        bar.event("switch_finished", switch="HOU2", unreadable="LineDown: no carrier")
        bar.event("billing_started", side="billing", expected=10)
        bar.advanced("billing", 5, 10)
        bar.event("billing_finished", side="billing", unreadable="BillingUnavailable: down")
    text = out.getvalue()
    assert "HOU1" in text and "1000/1000" in text
    assert "HOU2: could not be read: LineDown: no carrier" in text
    assert "billing: could not be read: BillingUnavailable: down" in text


def test_a_second_lock_is_refused_until_the_first_is_released(services):
    first, second = RunLock(services.db), RunLock(services.db)
    first.acquire()
    with pytest.raises(ComparisonRunning) as refused:
        second.acquire()
    assert refused.value.holder == first.holder
    first.release()
    second.acquire()
    second.release()


def test_a_run_whose_lock_was_taken_over_learns_it_at_the_next_renewal(services):
    mine = RunLock(services.db, lease=timedelta(seconds=1))
    mine.acquire()
    with services.db.transaction() as session:
        session.execute(update(ComparisonLock).values(holder="another-host:7:abc"))
    with pytest.raises(LockLost):
        mine.renew(force=True)
    mine.release()  # releases nothing: the row is the other run's
    with services.db.transaction() as session:
        assert session.get_one(ComparisonLock, "comparison").holder == "another-host:7:abc"
