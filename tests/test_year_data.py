"""The benchmarks' year of data (scripts/year_data.py), at a small scale: it fills every table it
names on both databases, and the pruning job then shrinks what is old."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.services import pruning
from storage.db import Database
from storage.models import BroadcastOutcome, Outbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import year_data


async def test_a_small_year_fills_and_prunes(db: Database) -> None:
    now = datetime.now(UTC)
    counts = await year_data.fill_year(db, scale=0.002, now=now)
    assert counts["member"] == 20 and counts["outbox (broadcasts)"] == 20
    assert counts["issue_cosign"] == 40 and counts["legal_case_event"] == 24
    assert counts["event"] == 1 and counts["group_member"] == 40
    assert counts["community_membership"] == 20
    assert await year_data.database_size(db) > 0
    done = await pruning.prune(db, now, outbox_days=90, conversation_days=30, audit_days=365,
                               batch=500)
    async with db.read() as s:
        left = int(await s.scalar(select(func.count()).select_from(Outbox)) or 0)
        kept = int(await s.scalar(select(func.sum(BroadcastOutcome.count))) or 0)
    assert done.outbox > 0 and left + done.outbox == 20 + counts["outbox (digests)"]
    assert kept + left >= 20
    async with db.read() as s:
        statuses = set((await s.exec(select(Outbox.status))).scalars()) | set(
            (await s.exec(select(BroadcastOutcome.status))).scalars())
    assert {"sent", "failed", "unreachable"} <= statuses
