"""Surveys: the one reminder to members who have not answered, and closing at the deadline
(quick polls are stopped then). Runs every five minutes; each step is claimed once in the
database, so a run missed while Birge was down happens on the first run after it."""

from __future__ import annotations

import logging

from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.registry import JobContext, scheduled
from bot.services import surveys

log = logging.getLogger(__name__)


@scheduled("surveys.deadlines", lambda s: IntervalTrigger(minutes=5, timezone=s.tz))
async def deadlines(ctx: JobContext) -> None:
    reminded, closed = await surveys.run_deadlines(ctx.db, ctx.now)
    if reminded or closed:
        log.info("surveys: %d reminders, %d closed", reminded, closed)
