"""The outbox worker under Telegram's refusals: 429, 5xx, timeouts and blocked members."""

from __future__ import annotations

import pytest

from bot.sandbox.client import EmulatorClient, Person
from bot.services import members
from storage.enums import OutboxStatus
from storage.models import Outbox
from tests import factories as f
from tests.e2e.conftest import PersonFactory, Running, outbox_rows, said, t, wait_for


async def settled(birge: Running, member_id: int) -> list[Outbox]:
    """The member's outbox rows once the worker has recorded their outcome."""
    found: list[Outbox] = []

    async def done() -> bool:
        nonlocal found
        found = [r for r in await outbox_rows(birge.db) if r.member_id == member_id]
        return bool(found) and all(r.status not in ("pending", "sending") for r in found)

    await wait_for(done)
    return found


async def _approve_newcomer(birge: Running, people: PersonFactory, tg: EmulatorClient,
                            kind: str) -> tuple[Person, int]:
    """Staff approve a newcomer while Telegram answers the next sendMessage with `kind`."""
    db = birge.db
    person = await people("Nurlan", "ru")
    admin = await f.staff(db)
    newcomer = await f.applicant(db, "Нурлан Абдылдаев", telegram_id=person.user_id)

    async def idle() -> bool:
        return all(r.status not in ("pending", "sending") for r in await outbox_rows(db))

    await wait_for(idle)  # the staff notice has gone (or failed) before the fault is armed
    if kind == "429":
        await tg.fail(1, "429", retry_after=1, methods=["sendMessage"])
    else:
        await tg.fail(1, kind, methods=["sendMessage"], hold_seconds=5)  # longer than the bot waits
    await members.approve_member(db, admin, newcomer.id)
    return person, newcomer.id


async def test_a_429_is_waited_out_and_the_verdict_still_arrives(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    person, member_id = await _approve_newcomer(birge, people, tg, "429")
    await said(person, t("ru", "Your application has been approved."), timeout=8)
    calls = await tg.calls("sendMessage")
    assert [c["status"] for c in calls if c["params"]["chat_id"] == str(person.user_id)] == [
        429, 200]
    rows = await settled(birge, member_id)
    assert [r.status for r in rows] == [OutboxStatus.SENT]


@pytest.mark.parametrize("kind", ["500", "502", "timeout"])
async def test_server_errors_and_timeouts_are_retried_with_backoff(
    birge: Running, people: PersonFactory, tg: EmulatorClient, kind: str
) -> None:
    person, member_id = await _approve_newcomer(birge, people, tg, kind)
    await said(person, t("ru", "Your application has been approved."), timeout=15)
    rows = await settled(birge, member_id)
    assert rows[-1].status == OutboxStatus.SENT and rows[-1].attempts == 2


async def test_an_unknown_chat_marks_the_member_unreachable_instead_of_retrying(
    birge: Running,
) -> None:
    db = birge.db
    admin = await f.staff(db)
    # A Telegram id the emulator has never seen: "chat not found".
    newcomer = await f.applicant(db, "Призрак Призраков", telegram_id=777_000_111)
    await members.approve_member(db, admin, newcomer.id)

    async def settled() -> bool:
        rows = [r for r in await outbox_rows(db) if r.member_id == newcomer.id]
        return bool(rows) and rows[-1].status == OutboxStatus.UNREACHABLE

    await wait_for(settled)
    m = await members.by_id(db, newcomer.id)
    assert m is not None and not m.reachable
