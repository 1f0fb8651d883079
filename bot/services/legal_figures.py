"""The legal desk's monthly figures for Union staff: cases opened in a month by category, median
hours to the first response and to closing, the mean rating.

Split from `bot.services.legal` (which re-exports these names), below it: this module never
imports `legal`.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.services import policy
from bot.services.errors import InvalidInput
from storage.db import Database
from storage.enums import LegalCategory
from storage.models import LegalCase

BISHKEK = ZoneInfo("Asia/Bishkek")


@dataclass(frozen=True)
class Figures:
    year: int
    month: int
    total: int
    by_category: dict[str, int]
    median_first_response_hours: float | None
    median_close_hours: float | None
    mean_rating: float | None
    ratings: int


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """A calendar month in Bishkek, as UTC bounds."""
    start = datetime(year, month, 1, tzinfo=BISHKEK)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=BISHKEK)
    return start.astimezone(UTC), end.astimezone(UTC)


def _hours(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else (later - earlier).total_seconds() / 3600


async def monthly_figures(db: Database, actor_id: int, year: int, month: int) -> Figures:
    """Cases opened in a month: by category, median hours to first response and to close,
    mean rating (Union staff)."""
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise InvalidInput("legal_month")
    start, end = month_bounds(year, month)
    async with db.read() as s:
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_manage_legal_desk(actor),
                            policy.Action.MANAGE_LEGAL_DESK)
        cases = list((await s.exec(select(LegalCase).where(
            col(LegalCase.created_at) >= start, col(LegalCase.created_at) < end))).all())
    first = [h for c in cases if (h := _hours(c.first_response_at, c.created_at)) is not None]
    closed = [h for c in cases if (h := _hours(c.closed_at, c.created_at)) is not None]
    ratings = [c.rating for c in cases if c.rating is not None]
    counts = Counter(c.category for c in cases)
    return Figures(
        year=year, month=month, total=len(cases),
        by_category={c.value: counts[c.value] for c in LegalCategory if counts[c.value]},
        median_first_response_hours=statistics.median(first) if first else None,
        median_close_hours=statistics.median(closed) if closed else None,
        mean_rating=statistics.mean(ratings) if ratings else None, ratings=len(ratings),
    )
