"""The digest job (every few minutes: whoever's chosen time has come) and the morning summary of
waiting work for moderators. Both are safe to run twice: markers in `member_settings` decide."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.registry import JobContext, scheduled
from bot.services import digests, queues

log = logging.getLogger("birge.jobs.digests")


@scheduled("digests.send",
           lambda s: IntervalTrigger(minutes=s.digest_check_minutes, timezone=s.tz))
async def send_digests(ctx: JobContext) -> None:
    run = await digests.send_due_digests(ctx.db, ctx.now, ctx.settings.tz)
    if run.due:
        log.info("digests: %d due, %d sent (%d messages), %d empty, %d already handled",
                 run.due, run.sent, run.messages, run.empty, run.lost_race)


@scheduled("queues.morning",
           lambda s: CronTrigger(hour=s.queues_hour, minute=0, timezone=s.tz))
async def morning_queues(ctx: JobContext) -> None:
    sent = await queues.send_queue_summaries(
        ctx.db, ctx.now, ctx.settings.tz, ctx.settings.queues_hour,
        timedelta(hours=ctx.settings.queue_waiting_hours),
        timedelta(hours=ctx.settings.legal_first_response_hours))
    if sent:
        log.info("queues summary sent to %d members", sent)
