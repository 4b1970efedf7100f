"""A comparison run's report: a CSV of every finding, a summary read at a glance, and a chart.

The files go side by side into the report directory as comparison-<run>.csv, .txt and .svg;
the summary is kept on the run's row as well, so the console can show it without the files.
Billing is a side of its own: its row in the CSV says `billing`, the summary gives it a table
of its own kinds, and the chart names its kinds as billing's.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

from sqlalchemy import Connection, select

from activation.store.comparison import (
    BILLING,
    BILLING_DISCREPANCIES,
    BILLING_ESN,
    BILLING_PLAN,
    BILLING_STATE,
    DISCREPANCIES,
    DUPLICATE,
    ESN_MISMATCH,
    EXTRA_IN_BILLING,
    FEATURE_MISMATCH,
    IN_FLIGHT,
    MISSING_IN_BILLING,
    MISSING_ON_SWITCH,
    OTHER_TRANSACTION,
    STATE_MISMATCH,
    SWITCH_DISCREPANCIES,
    UNKNOWN_TO_CAS,
    ComparisonFinding,
    ComparisonRun,
)
from activation.store.models import Transaction

HISTORY = 14  # runs the chart shows
# "side" is a switch's name or `billing`; side_* are that side's values (a switch's line,
# billing's record), billed_code the transaction code billing's record carries.
CSV_COLUMNS = (
    "side",
    "kind",
    "mid",
    "cas_esn",
    "side_esn",
    "cas_features",
    "side_features",
    "cas_state",
    "side_state",
    "transaction",
    "billed_code",
    "repair",
    "repair_ref",
    "detail",
)
# The summary's columns, for the switches and for billing.
SWITCH_HEADINGS = {
    MISSING_ON_SWITCH: "missing",
    UNKNOWN_TO_CAS: "unknown",
    ESN_MISMATCH: "ESN",
    FEATURE_MISMATCH: "features",
    STATE_MISMATCH: "state",
    DUPLICATE: "duplicate",
    IN_FLIGHT: "in flight",
}
BILLING_HEADINGS = {
    MISSING_IN_BILLING: "missing",
    EXTRA_IN_BILLING: "extra",
    OTHER_TRANSACTION: "other tx",
    BILLING_ESN: "ESN",
    BILLING_PLAN: "plan",
    BILLING_STATE: "state",
    IN_FLIGHT: "in flight",
}
# The chart's legend: billing's kinds are named as billing's.
LEGEND = {
    **{kind: SWITCH_HEADINGS[kind] for kind in SWITCH_DISCREPANCIES},
    **{kind: f"billing: {BILLING_HEADINGS[kind]}" for kind in BILLING_DISCREPANCIES},
}
COLOURS = {
    MISSING_ON_SWITCH: "#d62728",
    UNKNOWN_TO_CAS: "#ff7f0e",
    ESN_MISMATCH: "#9467bd",
    FEATURE_MISMATCH: "#1f77b4",
    STATE_MISMATCH: "#17becf",
    MISSING_IN_BILLING: "#8c564b",
    EXTRA_IN_BILLING: "#e377c2",
    OTHER_TRANSACTION: "#7f7f7f",
    BILLING_ESN: "#bcbd22",
    BILLING_PLAN: "#2ca02c",
    BILLING_STATE: "#393b79",
}


@dataclass(frozen=True)
class RunPoint:
    """One past run as the chart shows it."""

    run_id: int
    started_at: datetime
    by_kind: dict[str, int]
    unreadable: int

    @property
    def discrepancies(self) -> int:
        """Findings that call for a repair."""
        return sum(self.by_kind.get(kind, 0) for kind in DISCREPANCIES)


def paths(report_dir: Path, run_id: int) -> dict[str, Path]:
    """Where a run's CSV, summary and chart go."""
    stem = report_dir / f"comparison-{run_id:06d}"
    return {kind: stem.with_suffix(f".{kind}") for kind in ("csv", "txt", "svg")}


def write_csv(conn: Connection, run_id: int, path: Path) -> int:
    """Write every finding of the run, by side and MID, streamed; return how many."""
    query = (
        select(
            ComparisonFinding.switch_name,
            ComparisonFinding.kind,
            ComparisonFinding.mid,
            ComparisonFinding.cas_esn,
            ComparisonFinding.switch_esn,
            ComparisonFinding.cas_features,
            ComparisonFinding.switch_features,
            ComparisonFinding.cas_state,
            ComparisonFinding.switch_state,
            Transaction.code,
            ComparisonFinding.billed_code,
            ComparisonFinding.repair,
            ComparisonFinding.repair_ref,
            ComparisonFinding.detail,
        )
        .outerjoin(Transaction, Transaction.id == ComparisonFinding.transaction_id)
        .where(ComparisonFinding.run_id == run_id)
        .order_by(ComparisonFinding.switch_name, ComparisonFinding.mid, ComparisonFinding.id)
    )
    written = 0
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(CSV_COLUMNS)
        for rows in conn.execution_options(yield_per=2000).execute(query).partitions():
            out.writerows(tuple("" if v is None else v for v in row) for row in rows)
            written += len(rows)
    tmp.replace(path)
    return written


def history(conn: Connection, up_to: int, runs: int = HISTORY) -> list[RunPoint]:
    """The last finished runs up to this one, oldest first."""
    rows = conn.execute(
        select(
            ComparisonRun.id,
            ComparisonRun.started_at,
            ComparisonRun.counts,
            ComparisonRun.unreadable,
        )
        .where(ComparisonRun.id <= up_to, ComparisonRun.state == "done")
        .order_by(ComparisonRun.id.desc())
        .limit(runs)
    ).all()
    points = []
    for run_id, started_at, counts, unreadable in reversed(rows):
        by_kind: dict[str, int] = {}
        for per_switch in (counts or {}).values():
            for kind, n in per_switch.items():
                by_kind[kind] = by_kind.get(kind, 0) + n
        points.append(RunPoint(run_id, started_at, by_kind, len(unreadable or {})))
    return points


def summary(run: ComparisonRun, points: list[RunPoint], files: dict[str, Path]) -> str:
    """The text a person reads first: counts per side and kind, the unreadable, the trend."""
    took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
    switches = [name for name in run.switches if name != BILLING]
    lines = [
        f"CAS telephone-number comparison, run {run.id}",
        f"started {run.started_at:%Y-%m-%d %H:%M:%S} UTC, took {took:.1f} s, "
        + ("repairs queued" if run.repair else "dry run (nothing changed)"),
    ]
    if switches:
        lines.append(
            f"CAS numbers compared: {run.cas_numbers:,}; switch lines read: {run.switch_numbers:,}"
        )
    if BILLING in run.switches:
        lines.append(
            f"CAS lines compared with billing: {run.billing_lines:,}; "
            f"billing records read: {run.billing_records:,}"
        )
    lines += [f"discrepancies: {run.discrepancies:,}; sides unreadable: {len(run.unreadable)}"]
    if switches:
        lines += ["", *_table("switch", SWITCH_HEADINGS, switches, run.counts, run.unreadable)]
    if BILLING in run.switches:
        lines += ["", *_table("billing", BILLING_HEADINGS, [BILLING], run.counts, run.unreadable)]
    if run.unreadable:
        lines += ["", "Could not be read (nothing reported missing on them):"]
        lines += [f"  {name:<8} {why}" for name, why in sorted(run.unreadable.items())]
    lines += ["", f"Discrepancies over the last {len(points)} runs:"]
    lines += text_chart(points)
    lines += ["", "Files: " + ", ".join(p.name for p in files.values())]
    return "\n".join(lines) + "\n"


def _table(
    title: str,
    headings: dict[str, str],
    sides: Iterable[str],
    counts: dict,
    unreadable: dict,
) -> list[str]:
    widths = {kind: max(len(heading), 6) for kind, heading in headings.items()}
    kinds = list(widths)
    head = f"{title:<8} " + " ".join(f"{headings[k]:>{widths[k]}}" for k in kinds)
    rows = [head + "  readable", "-" * (len(head) + 10)]
    totals = dict.fromkeys(kinds, 0)
    names = list(sides)
    for name in names:
        per = counts.get(name, {})
        for kind in kinds:
            totals[kind] += per.get(kind, 0)
        cells = " ".join(f"{per.get(k, 0):>{widths[k]},}" for k in kinds)
        rows.append(f"{name:<8} {cells}  {'NO' if name in unreadable else 'yes'}")
    if len(names) > 1:
        cells = " ".join(f"{totals[k]:>{widths[k]},}" for k in kinds)
        rows.append(f"{'total':<8} {cells}")
    return rows


def text_chart(points: list[RunPoint], width: int = 40) -> list[str]:
    """One bar per run, scaled to the largest; '!' marks runs with an unreadable side."""
    top = max((p.discrepancies for p in points), default=0) or 1
    rows = []
    for p in points:
        bar = "#" * round(width * p.discrepancies / top) if p.discrepancies else ""
        mark = " !" if p.unreadable else ""
        rows.append(
            f"  run {p.run_id:>5} {p.started_at:%Y-%m-%d %H:%M} |{bar:<{width}}| "
            f"{p.discrepancies:>9,}{mark}"
        )
    return rows


def svg_chart(points: list[RunPoint]) -> str:
    """Stacked bars of discrepancies by kind over the runs, as a self-contained SVG."""
    bar_w, gap, height, left, top_pad, bottom = 28, 10, 220, 60, 30, 60
    width = left + len(points) * (bar_w + gap) + 160
    top = max((p.discrepancies for p in points), default=0) or 1
    scale = height / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height + top_pad + bottom}" font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="18" font-size="13">Discrepancies per comparison run</text>',
        f'<line x1="{left}" y1="{top_pad + height}" x2="{width - 150}" '
        f'y2="{top_pad + height}" stroke="#333"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{top:,}</text>',
        f'<text x="{left - 6}" y="{top_pad + height}" text-anchor="end">0</text>',
    ]
    for i, p in enumerate(points):
        x = left + gap + i * (bar_w + gap)
        y = float(top_pad + height)
        for kind in DISCREPANCIES:
            h = p.by_kind.get(kind, 0) * scale
            if h:
                y -= h
                parts.append(
                    f'<rect x="{x}" y="{y:.1f}" width="{bar_w}" height="{h:.1f}" '
                    f'fill="{COLOURS[kind]}"><title>run {p.run_id} {escape(kind)}: '
                    f"{p.by_kind[kind]:,}</title></rect>"
                )
        label_y = top_pad + height + 14
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{label_y}" text-anchor="middle">{p.run_id}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{label_y + 13}" text-anchor="middle" '
            f'font-size="9">{p.started_at:%m-%d}</text>'
        )
        if p.unreadable:
            parts.append(
                f'<text x="{x + bar_w / 2}" y="{label_y + 27}" text-anchor="middle" '
                f'fill="#d62728" font-weight="bold">!<title>{p.unreadable} side(s) '
                "unreadable</title></text>"
            )
    legend_x = width - 140
    for i, kind in enumerate(DISCREPANCIES):
        y = top_pad + i * 18
        parts.append(
            f'<rect x="{legend_x}" y="{y}" width="12" height="12" fill="{COLOURS[kind]}"/>'
        )
        parts.append(f'<text x="{legend_x + 18}" y="{y + 10}">{escape(LEGEND[kind])}</text>')
    below = top_pad + len(DISCREPANCIES) * 18 + 10
    parts.append(f'<text x="{legend_x}" y="{below}" fill="#d62728">! unreadable</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_report(conn: Connection, run: ComparisonRun, report_dir: Path) -> dict[str, Path]:
    """Write the run's CSV, chart and summary; put the summary on the run; return the files."""
    report_dir.mkdir(parents=True, exist_ok=True)
    files = paths(report_dir, run.id)
    write_csv(conn, run.id, files["csv"])
    points = history(conn, run.id)
    files["svg"].write_text(svg_chart(points))
    run.summary = summary(run, points, files)
    files["txt"].write_text(run.summary)
    run.report_path = str(files["csv"])
    return files


__all__ = [
    "BILLING_HEADINGS",
    "CSV_COLUMNS",
    "LEGEND",
    "SWITCH_HEADINGS",
    "RunPoint",
    "history",
    "paths",
    "summary",
    "svg_chart",
    "text_chart",
    "write_csv",
    "write_report",
]
