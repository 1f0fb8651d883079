"""A member's own settings: when their digest comes, quiet hours, which notifications they want.

`update_settings` is the one way they change. `QuietHours` is the rule the delivery worker applies
before sending: a non-urgent notification that falls inside the window waits for its end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services import audit, policy
from bot.services.errors import InvalidInput
from storage.db import Database
from storage.enums import DigestFrequency, NoticeCategory
from storage.models import MemberSettings
from storage.types import utcnow

DEFAULT_WEEKDAY = 0  # Monday
DEFAULT_HOUR = 9
FREQUENCIES = frozenset(f.value for f in DigestFrequency)
CATEGORIES = frozenset(c.value for c in NoticeCategory)


@dataclass(frozen=True)
class Prefs:
    """What a member chose (or the defaults when they never opened /settings)."""

    frequency: DigestFrequency = DigestFrequency.WEEKLY
    weekday: int = DEFAULT_WEEKDAY
    hour: int = DEFAULT_HOUR
    quiet_hours: bool = True
    muted: frozenset[NoticeCategory] = field(default_factory=frozenset)

    def wants(self, category: NoticeCategory | str) -> bool:
        return category not in self.muted


def prefs_of(row: MemberSettings | None) -> Prefs:
    if row is None:
        return Prefs()
    return Prefs(
        frequency=DigestFrequency(row.digest_frequency), weekday=row.digest_weekday,
        hour=row.digest_hour, quiet_hours=row.quiet_hours,
        muted=frozenset(NoticeCategory(c) for c in row.muted if c in CATEGORIES),
    )


@dataclass(frozen=True)
class Change:
    """One change from /settings; fields left None stay as they are."""

    frequency: str | None = None
    weekday: int | None = None
    hour: int | None = None
    quiet_hours: bool | None = None
    # Switch one notification kind on (True) or off (False).
    category: str | None = None
    wanted: bool | None = None


async def get_settings(db: Database, member_id: int) -> Prefs:
    async with db.read() as s:
        return prefs_of(await s.get(MemberSettings, member_id))


async def update_settings(db: Database, member_id: int, change: Change) -> Prefs:
    """Apply one change to the member's own settings; anything out of range is refused."""
    if change.frequency is not None and change.frequency not in FREQUENCIES:
        raise InvalidInput("settings_value")
    if change.weekday is not None and not 0 <= change.weekday <= 6:
        raise InvalidInput("settings_value")
    if change.hour is not None and not 0 <= change.hour <= 23:
        raise InvalidInput("settings_value")
    if change.category is not None and (change.category not in CATEGORIES
                                        or change.wanted is None):
        raise InvalidInput("settings_value")
    async with db.transaction() as s:
        actor = await policy.load_actor(s, member_id)
        await policy.ensure(db, actor, policy.can_change_settings(actor),
                            policy.Action.CHANGE_SETTINGS, member_id)
        row = await s.get(MemberSettings, member_id)
        if row is None:
            row = MemberSettings(member_id=member_id)
            s.add(row)
        if change.frequency is not None:
            row.digest_frequency = change.frequency
        if change.weekday is not None:
            row.digest_weekday = change.weekday
        if change.hour is not None:
            row.digest_hour = change.hour
        if change.quiet_hours is not None:
            row.quiet_hours = change.quiet_hours
        if change.category is not None:
            muted = set(row.muted)
            if change.wanted:
                muted.discard(change.category)
            else:
                muted.add(change.category)
            row.muted = sorted(muted)
        row.updated_at = utcnow()
        audit.record(s, member_id, "settings_changed", "member", member_id,
                     **{k: v for k, v in change.__dict__.items() if v is not None})
        return prefs_of(row)


@dataclass(frozen=True)
class QuietHours:
    """The nightly window (local hours, `start` inclusive, `end` exclusive) when non-urgent
    notifications wait; `start == end` means no quiet hours at all."""

    start: int
    end: int
    tz: ZoneInfo

    def until(self, now: datetime) -> datetime | None:
        """The end of the window `now` falls in (aware UTC), or None outside it."""
        if self.start == self.end:
            return None
        local = now.astimezone(self.tz)
        hour = local.hour
        inside = (self.start <= hour < self.end) if self.start < self.end \
            else (hour >= self.start or hour < self.end)
        if not inside:
            return None
        end = local.replace(hour=self.end, minute=0, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)
