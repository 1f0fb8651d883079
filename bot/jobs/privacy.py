"""Erasing what the retention rule no longer lets Birge keep: the legal cases of members who
deleted their account, `LEGAL_RETENTION_DAYS` after the deletion. Daily; idempotent."""

from __future__ import annotations

import logging

from apscheduler.triggers.cron import CronTrigger

from bot.jobs.registry import JobContext, scheduled
from bot.services import privacy

log = logging.getLogger("birge.jobs.privacy")


@scheduled("privacy.retention", lambda s: CronTrigger(hour=3, minute=30, timezone=s.tz))
async def erase_expired(ctx: JobContext) -> None:
    erased = await privacy.erase_expired_cases(ctx.db, ctx.now,
                                               ctx.settings.legal_retention_days)
    if erased:
        log.info("retention: %d legal cases of deleted members erased", erased)
