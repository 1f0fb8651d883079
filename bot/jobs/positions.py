"""Positions on draft laws: the one reminder to district leaders who have not signed off, a day
before the deadline. Runs every ten minutes; `reminded_at` is set in the same transaction, so a
reminder goes once, and a run missed while Birge was down happens on the next run."""

from __future__ import annotations

import logging

from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.registry import JobContext, scheduled
from bot.services import positions

log = logging.getLogger(__name__)


@scheduled("positions.reminders", lambda s: IntervalTrigger(minutes=10, timezone=s.tz))
async def reminders(ctx: JobContext) -> None:
    sent = await positions.run_reminders(ctx.db, ctx.now)
    if sent:
        log.info("positions: %d reminders", sent)
