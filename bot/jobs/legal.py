"""The legal desk's reminders: before a first response falls due the assignee is reminded, after
it Union staff are told. Every ten minutes; idempotent (see `legal.remind_and_escalate`)."""

from __future__ import annotations

import logging

from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.registry import JobContext, scheduled
from bot.services import legal

log = logging.getLogger("birge.jobs.legal")


@scheduled("legal.reminders", lambda s: IntervalTrigger(minutes=10, timezone=s.tz))
async def legal_reminders(ctx: JobContext) -> None:
    reminded, escalated = await legal.remind_and_escalate(
        ctx.db, ctx.now, first_response_hours=ctx.settings.legal_first_response_hours,
        reminder_before_hours=ctx.settings.legal_reminder_before_hours)
    if reminded or escalated:
        log.info("legal desk: %d reminded, %d escalated", reminded, escalated)
