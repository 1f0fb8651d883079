"""Sending slots shared by every replica (PostgreSQL): Telegram's limits hold for the bot as a
whole, however many processes send.

Each limit is a row of `send_pace` holding the next free moment (`next_at`, by the database's
clock, so replicas need not agree on time): row 0 for the bot overall (about 30 a second), one row
per chat for bulk messages (1 a second to a person, 20 a minute to a group). Taking a slot is one
statement that moves `next_at` on by one interval and returns how long to wait for the slot taken
— a shared "virtual scheduling" bucket, so two replicas can never take the same moment. Bulk
traffic may only take a slot less than `horizon` seconds ahead, which keeps the queue short and
lets a reply to a member acting now (no horizon) go out next, whichever replica sends it.
"""

from __future__ import annotations

from sqlalchemy import text

from storage.db import Database

BOT = 0  # the row for the bot as a whole (no chat has id 0)

_TAKE = """
INSERT INTO send_pace (key, next_at) VALUES (:key, clock_timestamp() + make_interval(secs => :iv))
ON CONFLICT (key) DO UPDATE
  SET next_at = GREATEST(send_pace.next_at, clock_timestamp()) + make_interval(secs => :iv)
  {where}
RETURNING EXTRACT(EPOCH FROM (send_pace.next_at - clock_timestamp()))::float8 - :iv,
  EXTRACT(EPOCH FROM send_pace.next_at)::float8 - :iv, EXTRACT(EPOCH FROM clock_timestamp())::float8
"""
TAKE = text(_TAKE.format(where=""))
TAKE_WITHIN = text(_TAKE.format(
    where="WHERE send_pace.next_at <= clock_timestamp() + make_interval(secs => :horizon)"))
PAUSE = text("""
INSERT INTO send_pace (key, next_at) VALUES (:key, clock_timestamp() + make_interval(secs => :s))
ON CONFLICT (key) DO UPDATE
  SET next_at = GREATEST(send_pace.next_at, clock_timestamp() + make_interval(secs => :s))
""")
FORGET = text("DELETE FROM send_pace WHERE key <> 0 AND next_at < clock_timestamp() - "
              "interval '1 minute'")


async def take(db: Database, key: int, interval: float,
               horizon: float | None = None) -> float | None:
    """Reserve the next slot of `key`: seconds to wait for it (≤ 0: now), or None when the next
    free slot is more than `horizon` seconds away (nothing is reserved then)."""
    taken = await take_at(db, key, interval, horizon)
    return None if taken is None else taken[0]


async def take_at(db: Database, key: int, interval: float,
                  horizon: float | None = None) -> tuple[float, float, float] | None:
    """`take`, returning (seconds to wait, the slot's moment, the database's clock when it was
    taken), the last two as epoch seconds by the database's clock: a caller that knows how that
    clock stands against its own places the slot exactly, however long the answer took."""
    async with db.engine.begin() as conn:
        if horizon is None:
            result = await conn.execute(TAKE, {"key": key, "iv": interval})
        else:
            result = await conn.execute(TAKE_WITHIN, {"key": key, "iv": interval,
                                                      "horizon": horizon})
        row = result.first()
    return None if row is None else (float(row[0]), float(row[1]), float(row[2]))


async def pause(db: Database, seconds: float, key: int = BOT) -> None:
    """Nobody sends on `key` for `seconds` (Telegram answered 429 with retry_after)."""
    async with db.engine.begin() as conn:
        await conn.execute(PAUSE, {"key": key, "s": float(seconds)})


async def forget_idle(db: Database) -> None:
    """Drop the rows of chats nobody has sent to for a minute."""
    async with db.engine.begin() as conn:
        await conn.execute(FORGET)
