"""A reply to the member acting now survives Telegram's 429s, 5xx errors and timeouts, and still
goes ahead of a broadcast's backlog."""

from __future__ import annotations

import logging

import pytest

from bot.sandbox.client import EmulatorClient
from bot.services import notify
from storage.enums import OutboxStatus
from tests import factories as f
from tests.e2e.conftest import PersonFactory, Running, outbox_rows, said, t


@pytest.mark.parametrize("kind", ["429", "500", "502", "timeout"])
async def test_a_reply_survives_a_refusal_while_a_broadcast_is_sending(
    birge: Running, people: PersonFactory, tg: EmulatorClient, kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 5 messages a second: 100 notices to staff keep the outbox busy for 20 seconds.
    await birge.restart_with(send_rate_per_second=5)
    db = birge.db
    person = await people("Asel", "ru")
    await f.member(db, "Асель Маматова", telegram_id=person.user_id, language="ru")
    newcomer = await f.applicant(db, "Нурлан Абдылдаев")
    readers = [await f.staff(db, (await people(f"Staff {i}", "ru")).user_id) for i in range(4)]
    async with db.transaction() as s:
        await notify.enqueue_many(s, readers * 25, "applicant_pending", applicant_id=newcomer.id)
    # The next messages to Asel meet the fault (a held call outlasts the bot's 3 s wait).
    await tg.fail(1 if kind == "timeout" else 2, kind, retry_after=1, methods=["sendMessage"],
                  hold_seconds=3.5, chat_id=person.user_id)
    await person.send("/help")
    await said(person, t("ru", "What you can do in Birge:"), timeout=15)
    pending = [r for r in await outbox_rows(db) if r.status == OutboxStatus.PENDING]
    assert pending, "the reply waited for the whole broadcast"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
