"""The scheduler keeps its jobs in the Birge database: a run missed while Birge was down happens
once when it comes back, and two processes on one database never both run a job."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import time_machine
from apscheduler.triggers.cron import CronTrigger

from bot.config import Settings
from bot.jobs.registry import REGISTRY, JobContext, scheduled
from bot.scheduler import Scheduler
from storage.db import Database

RUNS: list[datetime] = []


@scheduled("test.hourly", lambda s: CronTrigger(minute=0, timezone=s.tz))
async def _hourly(ctx: JobContext) -> None:
    RUNS.append(ctx.now)


def _settings(db: Database) -> Settings:
    return Settings(_env_file=None, database_url=db.url)  # type: ignore[call-arg]


async def _until(predicate: object, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)


async def test_a_run_missed_while_birge_was_down_happens_once_on_return(db: Database) -> None:
    RUNS.clear()
    start = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)  # 09:30 in Bishkek
    with time_machine.travel(start, tick=True):
        first = Scheduler(db, _settings(db))
        await first.start()
        assert await first.next_run("test.hourly") == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
        await first.stop()
    assert RUNS == []
    # Down for three and a half hours: three runs fell due, one happens.
    with time_machine.travel(start + timedelta(hours=3, minutes=30), tick=True):
        second = Scheduler(db, _settings(db))
        await second.start()
        await _until(lambda: len(RUNS) >= 1)
        await asyncio.sleep(0.5)
        assert len(RUNS) == 1
        assert await second.next_run("test.hourly") == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        await second.stop()


async def test_two_processes_on_one_database_do_not_both_run_a_job(db: Database) -> None:
    RUNS.clear()
    one, two = Scheduler(db, _settings(db)), Scheduler(db, _settings(db))
    await one.start()
    await two.start()
    try:
        assert await one.run_job("test.hourly") is True
        assert await two.run_job("test.hourly") is False
        assert len(RUNS) == 1
    finally:
        await one.stop()
    # The first process is gone: the second takes over.
    assert await two.run_job("test.hourly") is True
    await two.stop()
    assert len(RUNS) == 2


def test_every_feature_job_is_registered() -> None:
    import bot.jobs  # noqa: F401

    assert "test.hourly" in REGISTRY
