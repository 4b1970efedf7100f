"""The scheduler every `cas worker` runs: sweeps through the day, letters and comparison at night.

APScheduler 3 keeps its jobs in the CAS database (SQLAlchemyJobStore), so every worker sees
the same schedule. The sweeps are harmless if two workers run them at once; the nightly jobs
run once per planned run whatever the number of workers (activation.nightly).

Job functions are referenced by name (the job store keeps names, not objects) and reach the
services of their process through `_services`: one scheduler per process.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from activation.followup import callbacks, letters
from activation.lifecycle import numbers
from activation.queue import activities, nightly
from activation.services import Services

log = logging.getLogger("cas.scheduler")

DUE_SWEEP_SECONDS = 30
CALLBACK_SWEEP_SECONDS = 60
AGING_SWEEP_SECONDS = 3600

_services: Services | None = None


def cron(expression: str) -> CronTrigger:
    """Parse a crontab line: five fields, or six with seconds first (for tests and demos)."""
    fields = expression.split()
    if len(fields) == 5:
        return CronTrigger.from_crontab(expression)
    if len(fields) == 6:
        second, minute, hour, day, month, day_of_week = fields
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=day_of_week,
        )
    raise ValueError(f"not a crontab line (5 or 6 fields): {expression!r}")


def _current() -> Services | None:
    if _services is None:
        log.warning("scheduled job fired in a process without a started scheduler")
    return _services


def due_activity_sweep() -> None:
    """Give the activities of dead workers back to the queue."""
    services = _current()
    if services is None:
        return
    with services.db.transaction() as session:
        lost = activities.recover_expired(session)
        depth = activities.counts(session)
    if lost:
        log.warning("activities %s: their workers died; queued again", lost)
    log.debug("activity queue: %s", depth)


def callback_sweep() -> None:
    """Retry call-backs whose call status never came, queue the ones a race left out."""
    services = _current()
    if services is None:
        return
    swept = callbacks.sweep(services.db)
    if any(swept.values()):
        log.info("call-back sweep: %s", swept)


def number_aging_sweep() -> None:
    """Give disconnected numbers whose rest is over back to the free pool."""
    services = _current()
    if services is None:
        return
    with services.db.transaction() as session:
        released = numbers.release_aged(session)
    if released:
        log.info("%s aged numbers back in the free pool", released)


def _planned_run(expression: str) -> str:
    now = datetime.now(UTC)
    trigger = cron(expression)
    fired = nightly.previous_fire(trigger, now.astimezone(trigger.timezone))
    return (fired or now).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def nightly_letters() -> str | None:
    """Write the welcome letters still missing, once per planned run."""
    services = _current()
    if services is None:
        return None
    key = _planned_run(services.settings.letters_cron)
    return nightly.run_once(
        services.db,
        "welcome_letters",
        key,
        lambda: f"{letters.run_batch(services)} letters written",
    )


def nightly_comparison() -> str | None:
    """Compare CAS's lines with every switch and billing, once per planned run."""
    services = _current()
    if services is None:
        return None
    try:
        from activation.comparison.run import run_comparison
    except ImportError:
        log.info("nightly comparison: not installed")
        return None
    key = _planned_run(services.settings.compare_cron)

    def compare() -> str:
        result = run_comparison(services)
        summary = str(getattr(result, "summary", "") or "compared")
        return " ".join(summary.split())[:200]

    return nightly.run_once(services.db, "comparison", key, compare)


JOBS = {
    "due_activity_sweep": "activation.jobs.scheduler:due_activity_sweep",
    "callback_sweep": "activation.jobs.scheduler:callback_sweep",
    "number_aging_sweep": "activation.jobs.scheduler:number_aging_sweep",
    "nightly_letters": "activation.jobs.scheduler:nightly_letters",
    "nightly_comparison": "activation.jobs.scheduler:nightly_comparison",
}


def start(services: Services, *, sweeps: bool = True) -> BackgroundScheduler:
    """Start this process's scheduler on the CAS database; returns it running."""
    global _services
    _services = services
    settings = services.settings
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=services.db.engine)},
        executors={"default": ThreadPoolExecutor(2)},
        # A night missed while every worker was down runs once when one comes back.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
    )
    if sweeps:
        for name, seconds in (
            ("due_activity_sweep", DUE_SWEEP_SECONDS),
            ("callback_sweep", CALLBACK_SWEEP_SECONDS),
            ("number_aging_sweep", AGING_SWEEP_SECONDS),
        ):
            scheduler.add_job(
                JOBS[name], "interval", seconds=seconds, id=name, replace_existing=True
            )
    scheduler.add_job(
        JOBS["nightly_letters"],
        cron(settings.letters_cron),
        id="nightly_letters",
        replace_existing=True,
    )
    scheduler.add_job(
        JOBS["nightly_comparison"],
        cron(settings.compare_cron),
        id="nightly_comparison",
        replace_existing=True,
    )
    # Each sweep would log two lines a minute at INFO; what the jobs do is logged by CAS itself.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler.start()
    log.info(
        "scheduler started: letters %r, comparison %r", settings.letters_cron, settings.compare_cron
    )
    return scheduler


def stop(scheduler: BackgroundScheduler) -> None:
    """Stop the scheduler (a running nightly job finishes in its thread)."""
    global _services
    scheduler.shutdown(wait=False)
    _services = None
