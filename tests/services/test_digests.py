"""Digests at the service level: who gets one when, what is in it, in which language, and that a
slot is sent once however many runs (or processes) there are."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.delivery.digest_notices import group_names
from bot.i18n import in_locale, ngettext
from bot.services import broadcasts, digests, settings
from bot.services.broadcasts import Audience, Draft
from bot.services.digests import SECTIONS, DigestItem, Found, Section, send_due_digests
from bot.services.settings import Change
from bot.views.digests import LIMIT, digest_text
from storage.db import Database
from storage.enums import BroadcastKind, Position, QuestionStatus
from storage.models import MemberSettings, Outbox
from tests import digest_helpers as q
from tests import factories as f

TZ = ZoneInfo("Asia/Bishkek")


def bishkek(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Bishkek time, as aware UTC (23 and 30 are Mondays)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ).astimezone(UTC)


async def digest_rows(db: Database, member_id: int | None = None) -> list[Outbox]:
    async with db.read() as s:
        query = select(Outbox).where(Outbox.kind == digests.OUTBOX_KIND)
        if member_id is not None:
            query = query.where(Outbox.member_id == member_id)
        return list((await s.exec(query.order_by(Outbox.id))).all())


async def texts(db: Database, member_id: int, lang: str) -> list[str]:
    groups = await group_names(db)
    with in_locale(lang):
        return [digest_text(r.payload, lang, groups) for r in await digest_rows(db, member_id)]


async def test_a_finance_officer_in_leylek_who_chose_a_daily_digest_at_18_gets_one_in_russian(
    db: Database,
) -> None:
    asel = await f.member(db, "Асель Маматова", position=Position.FINANCE,
                          communities=("finance",), language="ru")
    other = await f.member(db, "Нурлан Абдылдаев", language="ky")
    await settings.update_settings(db, asel.id, Change(frequency="daily", hour=18))
    await q.follow(db, asel.id, "budget")
    await send_due_digests(db, bishkek(23, 18, 5), TZ)  # Monday: nothing to tell yet
    await q.ask(db, other.id, "budget", "Как утвердить бюджет айыл окмоту на 2027 год?",
                bishkek(24, 10))
    await q.ask(db, other.id, "budget", "Какие трансферты положены в этом году?",
                bishkek(24, 15))
    await q.ask(db, other.id, "land", "Аренда пастбищ", bishkek(24, 15))  # not followed
    await q.ask(db, other.id, "budget", "Скрытый вопрос", bishkek(24, 16), QuestionStatus.HIDDEN)

    assert (await send_due_digests(db, bishkek(24, 17, 55), TZ)).sent == 0  # not 18:00 yet
    run = await send_due_digests(db, bishkek(24, 18, 5), TZ)
    assert run.sent >= 1
    [text] = await texts(db, asel.id, "ru")
    with in_locale("ru"):
        heading = ngettext("{count} new question in your groups",
                           "{count} new questions in your groups", 2).format(count=2)
    assert heading in text and "новых вопроса" in text
    assert "Как утвердить бюджет айыл окмоту на 2027 год?" in text
    assert "Какие трансферты" in text
    assert "Аренда" not in text and "Скрытый" not in text
    assert "Местный бюджет и финансы" in text  # the group, in Russian
    assert "24 ноября" in text  # a Babel date in Russian
    # The next day at 18:00 nothing new: no digest.
    assert (await send_due_digests(db, bishkek(25, 18, 5), TZ)).empty >= 1
    assert len(await digest_rows(db, asel.id)) == 1


async def test_a_digest_missed_while_birge_was_down_goes_out_once_when_it_comes_back(
    db: Database,
) -> None:
    nurlan = await f.member(db, "Нурлан Абдылдаев", language="ky")
    other = await f.member(db, "Бакыт Осмонов", language="ru")
    await q.follow(db, nurlan.id, "land")
    await q.ask(db, other.id, "land", "Жайыттарды ижарага берүү тартиби кандай?",
                bishkek(27, 11))
    await send_due_digests(db, bishkek(23, 9, 5), TZ)  # last Monday's digest (empty)
    # Birge was down over Monday 09:00 (the default weekly slot) and is back on Tuesday.
    assert (await send_due_digests(db, bishkek(30, 8, 55), TZ)).due == 0
    back = await send_due_digests(db, bishkek(30, 8, 55) + timedelta(days=1, hours=3), TZ)
    assert nurlan.id in {r.member_id for r in await digest_rows(db)}
    assert back.sent >= 1
    again = await send_due_digests(db, bishkek(30, 8, 55) + timedelta(days=1, hours=4), TZ)
    assert again.due == 0
    assert len(await digest_rows(db, nurlan.id)) == 1
    [text] = await texts(db, nurlan.id, "ky")
    assert "Жайыттарды" in text


async def test_two_runs_at_once_send_one_digest(db: Database) -> None:
    kanat = await f.member(db, "Kanat Isaev", language="en")
    other = await f.member(db, "Бакыт Осмонов")
    await q.follow(db, kanat.id, "services")
    await q.ask(db, other.id, "services", "Street lighting contracts?", bishkek(28, 9))
    now = bishkek(30, 9, 10)
    one, two = await asyncio.gather(send_due_digests(db, now, TZ), send_due_digests(db, now, TZ))
    assert len(await digest_rows(db, kanat.id)) == 1
    assert one.sent + two.sent == len({r.member_id for r in await digest_rows(db)})


async def test_an_empty_digest_is_skipped_but_counts_as_done(db: Database) -> None:
    aibek = await f.member(db, "Aibek Asanov")
    run = await send_due_digests(db, bishkek(30, 9, 5), TZ)
    assert run.empty >= 1 and await digest_rows(db) == []
    async with db.read() as s:
        row = await s.get(MemberSettings, aibek.id)
    assert row is not None and row.last_digest_at == bishkek(30, 9)


async def test_a_member_who_turned_the_digest_off_gets_none(db: Database) -> None:
    aibek = await f.member(db, "Aibek Asanov")
    other = await f.member(db, "Бакыт Осмонов")
    await settings.update_settings(db, aibek.id, Change(frequency="off"))
    await q.follow(db, aibek.id, "budget")
    await q.ask(db, other.id, "budget", "Вопрос о бюджете", bishkek(29, 9))
    await send_due_digests(db, bishkek(30, 9, 5), TZ)
    assert await digest_rows(db, aibek.id) == []


@pytest.mark.parametrize(("lang", "words", "month"), [
    ("ky", "жаңы суроо", "ноябрь"), ("ru", "новых вопроса", "ноября"),
    ("en", "new questions", "November")])
async def test_each_language_reads_its_own_words_and_dates(
    db: Database, lang: str, words: str, month: str
) -> None:
    reader = await f.member(db, "Reader", language=lang)
    other = await f.member(db, "Бакыт Осмонов")
    await q.follow(db, reader.id, "kenesh")
    await q.ask(db, other.id, "kenesh", "Сессия кенеша", bishkek(26, 9))
    await q.ask(db, other.id, "kenesh", "Токтомдун долбоору", bishkek(27, 9))
    await send_due_digests(db, bishkek(30, 9, 5), TZ)
    [text] = await texts(db, reader.id, lang)
    assert words in text.lower() and month in text


async def test_answered_resolved_broadcasts_and_deadlines_are_in_the_digest(db: Database) -> None:
    asel = await f.member(db, "Асель Маматова", language="ru")
    other = await f.member(db, "Бакыт Осмонов")
    admin = await f.staff(db)
    base = datetime.now(UTC)
    mine = await q.ask(db, asel.id, "legal", "Мой вопрос про земельный налог",
                       base - timedelta(days=5))
    await q.answer(db, mine, other.id, base - timedelta(days=2), resolved=True)
    await q.follow(db, asel.id, "budget")
    theirs = await q.ask(db, other.id, "budget", "Их вопрос про трансферты",
                         base - timedelta(days=4))
    await q.answer(db, theirs, asel.id, base - timedelta(days=1))
    law = await broadcasts.submit_broadcast(db, admin, Draft(
        kind=BroadcastKind.LAW, title="Закон о бюджете", text_ky="Мыйзам", text_ru="Закон",
        audience=Audience(members=[asel.id])))
    draft = await broadcasts.submit_broadcast(db, admin, Draft(
        kind=BroadcastKind.DRAFT_LAW, title="Проект закона о МСУ", text_ky="Долбоор",
        text_ru="Проект", audience=Audience(members=[asel.id]),
        comments_until=datetime.now(UTC) + timedelta(days=3)))
    async with db.transaction() as s:  # delivered (the worker is not running here)
        for row in (await s.exec(select(Outbox).where(Outbox.member_id == asel.id))).all():
            row.status = "sent"
    now = datetime.now(UTC) + timedelta(minutes=1)
    built = await digests.build_digest(db, asel.id, now - timedelta(days=30), now)
    assert built is not None
    got = {code: [i.ref for i in found.items] for code, found in built.sections}
    assert set(got["answered"]) == {f"Q-{theirs}", f"Q-{mine}"}
    assert [i.note for i in dict(built.sections)["answered"].items] == ["answered", "resolved"]
    assert set(got["broadcasts"]) == {f"B-{law.broadcast_id}", f"B-{draft.broadcast_id}"}
    assert got["deadlines"] == [f"B-{draft.broadcast_id}"]
    await broadcasts.acknowledge(db, asel.id, law.broadcast_id)
    built = await digests.build_digest(db, asel.id, now - timedelta(days=30), now)
    assert built is not None
    assert [i.ref for i in dict(built.sections)["broadcasts"].items] == [
        f"B-{draft.broadcast_id}"]


async def test_a_long_digest_is_split_between_items_never_inside_one(db: Database) -> None:
    reader = await f.member(db, "Asel", language="ru")
    long_text = ("Очень длинное описание проблемы с водоснабжением и отоплением " * 3).strip()

    async def many(batch: digests.Batch) -> dict[int, Found]:
        return {r: Found(130, [DigestItem(f"Q-{i}", digests.snippet(long_text), None, batch.now)
                               for i in range(digests.SECTION_ITEMS)])
                for r in batch.readers}

    codes = [f"x{i}" for i in range(9)]
    for code in codes:
        SECTIONS[code] = Section(code, 90, many)
    try:
        await send_due_digests(db, bishkek(30, 9, 5), TZ)
    finally:
        for code in codes:
            SECTIONS.pop(code)
    shown = len(codes) * digests.SECTION_ITEMS
    parts = -(-shown // digests.ITEMS_PER_MESSAGE)
    assert parts >= 3
    assert len(await digest_rows(db, reader.id)) == parts
    found = await texts(db, reader.id, "ru")
    assert all(len(t) <= LIMIT for t in found)
    assert f"(1/{parts})" in found[0] and f"({parts}/{parts})" in found[-1]
    lines = [line for t in found for line in t.splitlines() if line.startswith("• <b>Q-")]
    assert len(lines) == shown
    assert all(line.endswith("…") and " " + digests.snippet(long_text) in line for line in lines)
    more = f"…и ещё {130 - digests.SECTION_ITEMS}"
    assert sum(t.count(more) for t in found) == len(codes)  # once per section


def test_a_snippet_is_cut_at_a_word() -> None:
    cut = digests.snippet("слово " * 40, 30)
    assert len(cut) <= 31 and cut.endswith("…") and not cut[:-1].endswith(" ")
    assert cut[:-1].split(" ")[-1] == "слово"


def test_the_last_slot_follows_the_members_choice() -> None:
    monday_9 = bishkek(30, 9)
    assert digests.last_slot(bishkek(30, 9, 1), TZ, "weekly", 0, 9) == monday_9
    assert digests.last_slot(bishkek(30, 8, 59), TZ, "weekly", 0, 9) == bishkek(23, 9)
    assert digests.last_slot(bishkek(30, 8, 59), TZ, "daily", 0, 18) == bishkek(29, 18)
    assert digests.last_slot(bishkek(30, 8, 59), TZ, "off", 0, 18) is None


def test_the_digest_and_morning_jobs_are_scheduled_in_bishkek() -> None:
    import bot.jobs  # noqa: F401
    from bot.config import Settings
    from bot.jobs.registry import REGISTRY

    config = Settings(_env_file=None)  # type: ignore[call-arg]
    digest = REGISTRY["digests.send"].trigger(config)
    morning = REGISTRY["queues.morning"].trigger(config)
    assert str(digest) == "interval[0:10:00]"
    assert morning.get_next_fire_time(None, bishkek(30, 9)) == \
        datetime(2026, 12, 1, 8, tzinfo=TZ)


def test_a_message_that_would_pass_4096_characters_is_summarised_not_cut() -> None:
    from storage.models import TopicGroup

    name = "Очень длинное название группы " * 6
    groups = {1: TopicGroup(id=1, name_ky=name, name_ru=name, name_en=name)}
    items = [DigestItem(f"Q-{i}", digests.snippet("слово " * 30), 1, bishkek(29, 9)).as_json()
             for i in range(digests.ITEMS_PER_MESSAGE)]
    payload = {"frequency": "weekly", "since": bishkek(23, 9).isoformat(),
               "until": bishkek(30, 9).isoformat(), "part": 1, "parts": 1,
               "sections": [{"code": "new_questions", "count": 40, "items": items, "more": 20}]}
    with in_locale("ru"):
        text = digest_text(payload, "ru", groups)
    assert len(text) <= LIMIT
    shown = text.count("• <b>Q-")
    assert 0 < shown < digests.ITEMS_PER_MESSAGE
    assert f"…и ещё {40 - shown}" in text


async def test_a_requester_sees_her_legal_case_waiting_and_the_issue_she_cosigned_moving(
    db: Database,
) -> None:
    from bot.services import legal
    from bot.services import national_issues as ni
    from bot.services.legal import Intake
    from storage.enums import LegalCategory
    from storage.types import utcnow

    asel = await f.member(db, "Асель Маматова", district="leylek", municipality="katran",
                          position=Position.FINANCE, communities=("finance",), language="ru")
    author = await f.member(db, "Бакыт Осмонов", district="talas", language="ru")
    erkin = (await f.lawyer(db, "Эркин Сыдыков")).id
    staff = await f.staff(db)
    await settings.update_settings(db, asel.id, Change(frequency="daily", hour=9))
    case_id = await legal.open_case(db, asel.id, Intake(
        category=LegalCategory.LAND, summary="Айыл өкмөтү жер участогун бөлүп берди.",
        consent=True))
    await legal.take_case(db, erkin, case_id)
    await legal.request_info(db, erkin, case_id, "Пришлите протокол сессии.")
    issue = await f.national_issue(db, author.id, "Земельный налог уходит из бюджета")
    await ni.cosign(db, asel.id, issue.id)
    await ni.start_review(db, staff, issue.id)

    tomorrow = utcnow() + timedelta(days=1)
    await send_due_digests(db, tomorrow, TZ)
    [text] = await texts(db, asel.id, "ru")
    assert f"L-{case_id}" in text and "жер участогун" in text
    assert f"P-{issue.id}" in text and "Земельный налог" in text
    with in_locale("ru"):
        assert ngettext("{count} legal-help request waits for your reply",
                        "{count} legal-help requests wait for your reply", 1).format(
            count=1) in text
