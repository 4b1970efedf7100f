"""`cas compare`: run the telephone-number comparison by hand.

It compares CAS with every active switch and with billing; `--switch` narrows it to the
switches named, and `--switch billing` to billing (alone, or beside the switches named). In a
terminal it shows a bar per side (rate and time left) and prints the summary; otherwise it
writes one JSON object a line, for logs and cron. Exit status: 0 when CAS and every side agree,
1 when there are discrepancies or a side could not be read, 75 when another comparison is
running, 2 for a usage error (such as an unknown switch).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_BUSY = 75  # EX_TEMPFAIL: try again later


@click.command("compare")
@click.option(
    "--switch",
    "switch_names",
    multiple=True,
    metavar="NAME",
    help=(
        "Compare only this switch (repeat for more), or 'billing' for the billing side; "
        "every active switch and billing by default. Naming only switches leaves billing out."
    ),
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the CSV, summary and chart [default: DATA_DIR/comparisons].",
)
@click.option(
    "--repair",
    is_flag=True,
    help=(
        "Queue the repairs (switch re-inserts and state changes, billing re-sends) and flag "
        "the rest for a CSR (else a dry run)."
    ),
)
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files.")
@click.pass_context
def compare(
    ctx: click.Context,
    switch_names: tuple[str, ...],
    report_dir: Path | None,
    repair: bool,
    data_dir: str | None,
) -> None:
    """Compare the lines CAS holds in service with every switch's database and with billing."""
    from activation.comparison.lock import ComparisonRunning
    from activation.comparison.progress import JsonLines, RichBar
    from activation.comparison.run import run_comparison
    from ivr.bootstrap import bootstrap
    from ivr.cli_support import existing_settings

    services = bootstrap(existing_settings(data_dir))
    terminal = sys.stdout.isatty()
    try:
        if terminal:
            with RichBar() as bar:
                result = run_comparison(services, switch_names or None, report_dir, repair, bar)
        else:
            lines = JsonLines(click.echo, every=10.0)
            result = run_comparison(services, switch_names or None, report_dir, repair, lines)
    except ComparisonRunning as busy:
        click.echo(f"cas compare: {busy}", err=True)
        ctx.exit(EXIT_BUSY)
    except ValueError as bad:
        raise click.UsageError(str(bad)) from None
    finally:
        services.switches.close()
        services.db.dispose()
    if terminal:
        click.echo(result.summary, nl=False)
        if result.files:
            folder = next(iter(result.files.values())).parent
            click.echo(f"The files are in {_shown(folder)}")
    ctx.exit(1 if result.discrepancies or result.unreadable else 0)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


__all__ = ["EXIT_BUSY", "compare"]
