"""The audit log: who changed what, and which actions were refused."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import AuditLog

log = logging.getLogger("birge.audit")


def record(
    session: AsyncSession,
    actor_id: int | None,
    action: str,
    target_type: str | None = None,
    target_id: int | None = None,
    **details: Any,
) -> None:
    """Add an audit row to the caller's transaction."""
    session.add(
        AuditLog(
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details,
        )
    )


async def record_denied(
    db: Database, actor_id: int | None, action: str, target_id: int | None = None
) -> None:
    """Log a refused action in its own transaction (the refused one rolls back)."""
    log.warning("denied: actor=%s action=%s target=%s", actor_id, action, target_id)
    async with db.transaction() as session:
        record(session, actor_id, "denied", "action", target_id, attempted=action)
