"""Event reminders: the day before and the hour before, to everyone registered. Every five
minutes; each reminder is claimed once in the database (see
`event_calendar.send_reminders`), so a run repeated, racing another process or falling due
during a restart never sends one twice."""

from __future__ import annotations

import logging

from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.registry import JobContext, scheduled
from bot.services import event_calendar

log = logging.getLogger("birge.jobs.events")

CHECK_MINUTES = 5


@scheduled("events.reminders", lambda s: IntervalTrigger(minutes=CHECK_MINUTES, timezone=s.tz))
async def event_reminders(ctx: JobContext) -> None:
    day, hour = await event_calendar.send_reminders(ctx.db, ctx.now)
    if day or hour:
        log.info("event reminders: %d the day before, %d the hour before", day, hour)
