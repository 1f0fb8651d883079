"""Broadcasts through the real bot: staff compose, members in Batken get it in their language,
acknowledge and comment; faults, cancel and a restart lose nobody."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox.client import EmulatorClient
from bot.services import broadcasts, reference, roles
from bot.services.broadcasts import Audience, Draft
from bot.views.callbacks import Bc
from storage.enums import BroadcastKind, BroadcastStatus, Position, Role
from storage.types import utcnow
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    buttons,
    nav,
    pick,
    press,
    said,
    silent,
    t,
    text_of,
    wait_for,
)
from tests.e2e.journeys import member


def bc(action: str, broadcast_id: int) -> str:
    return Bc(action=action, broadcast_id=broadcast_id).pack()



async def test_staff_send_a_law_to_batken_and_each_member_reads_it_in_their_language(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник Союза", language="ru")
    asel, asel_id = await member(people, birge, "Асель Маматова", "ru", "leylek")
    nurlan, _ = await member(people, birge, "Нурлан Абдылдаев", "ky", "leylek")
    kanat, _ = await member(people, birge, "Kanat Isaev", "en", "batken")
    bakyt, _ = await member(people, birge, "Бакыт Осмонов", "ru", "talas")
    batken = await f.region_of(db, await f.district_id(db, "leylek"))

    await boss.send("/broadcast")
    await said(boss, t("ru", "New broadcast. What kind is it?"))
    await press(boss, pick("bk", "law"))
    await said(boss, t("ru", "Send the title on two or three lines"))
    await boss.send("Закон о местном самоуправлении")  # one line: a title per language is asked
    await said(boss, t("ru", "Please send the title on two lines"))
    await boss.send("Жергиликтүү өз алдынча башкаруу жөнүндө мыйзам\n"
                    "Закон о местном самоуправлении")
    await said(boss, t("ru", "Send the text in {language}"))
    await boss.send("Жогорку Кеңеш мыйзамды кабыл алды.")
    await said(boss, t("ru", "Send the text in {language}"))
    await boss.send("Жогорку Кенеш принял закон.")
    await said(boss, t("ru", "Send the text in {language}"))
    await press(boss, nav("skip"))  # no English
    await said(boss, t("ru", "Send documents to attach"))
    await boss.upload("document", b"%PDF-1.4 law text", filename="zakon.pdf",
                      mime_type="application/pdf")
    await said(boss, t("ru", "Attached: {name}. Send more, or press Done.", name="zakon.pdf"))
    await press(boss, nav("skip"))
    await said(boss, t("ru", "Send the link to the source"))
    await boss.send("https://cbd.minjust.gov.kg/act/view/ru-ru/112")
    await said(boss, t("ru", "Who should receive it?"))
    await press(boss, pick("ba", "regions"))
    await said(boss, t("ru", "Tap to choose, then go back to the audience."))
    await press(boss, pick("bt_regi", batken))
    toggled = await said(boss, t("ru", "Tap to choose, then go back to the audience."))
    assert any(label.startswith("✅") for label, _ in buttons(toggled))
    await press(boss, pick("ba", "menu"))
    msg = await said(boss, t("ru", "Who should receive it?"))
    assert "3" in text_of(msg)  # three members in Batken
    region_name = next(p.name for p in await reference.regions(db, "ru") if p.id == batken)
    assert f"{t('ru', 'Regions')}: {region_name}" in text_of(msg)  # the name, not "1"
    await press(boss, pick("ba", "done"))
    await said(boss, "Жогорку Кенеш принял закон.")  # the preview, in Russian
    await said(boss, t("ru", "Above is the preview in {language}, as members will see it."))
    await press(boss, pick("bp", "ky"))
    preview_ky = await said(boss, "Жогорку Кеңеш мыйзамды кабыл алды.")
    await press(boss, pick("bw", "now"))
    await said(boss, t("ru", "Send to {count} recipients, {when}?", count=3, when=t("ru", "now")))
    await press(boss, pick("bc", "yes"))
    done = await said(boss, t("ru", "Broadcast B-{id} is being sent to {count} recipients."))
    broadcast_id = int(text_of(done).split("B-")[1].split()[0])

    got = await said(asel, "Жогорку Кенеш принял закон.")
    assert t("ru", "Law adopted") in text_of(got)
    got_ky = await said(nurlan, "Жогорку Кеңеш мыйзамды кабыл алды.")
    # The Kyrgyz preview is byte for byte what a Kyrgyz reader gets: title, frame and buttons.
    assert "Жергиликтүү өз алдынча башкаруу жөнүндө мыйзам" in text_of(got_ky)
    assert "Закон о местном" not in text_of(got_ky)
    assert text_of(preview_ky) == text_of(got_ky)
    assert [label for label, _ in buttons(preview_ky)] == [label for label, _ in buttons(got_ky)]
    await said(kanat, "Жогорку Кенеш принял закон.")  # no English text: Russian
    await silent(bakyt)
    transcript = await asel.transcript()
    assert any((m.get("document") or {}).get("file_name") == "zakon.pdf" for m in transcript)

    await asel.press(bc("ack", broadcast_id), got)
    assert t("ru", "Thank you, noted.") in str(await asel.answer())
    await asel.press(bc("copy", broadcast_id), got)
    await said(asel, t("ru", "Sent by the Union of LSGs through Birge"))

    async def delivered() -> bool:
        r = await broadcasts.report(db, staff_id, broadcast_id)
        return r.finished and r.by_status.get("sent") == 3

    await wait_for(delivered)
    await boss.press(bc("report", broadcast_id))
    report = await said(boss, t("ru", "Sent {sent} of {total}", sent=3, total=3))
    assert "Лейлекский район" in text_of(report)
    del asel_id


async def test_a_draft_law_collects_comments_grouped_by_district(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    staff_id = await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    asel, _ = await member(people, birge, "Асель Маматова", "ru", "leylek")
    sent = await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.DRAFT_LAW, title="Проект закона о МСУ", text_ky="Долбоор.",
        text_ru="Проект закона.", comments_until=utcnow() + timedelta(days=5),
        audience=Audience(districts=[await f.district_id(db, "leylek")])))
    got = await said(asel, "Проект закона.")
    await asel.press(bc("comment", sent.broadcast_id), got)
    await said(asel, t("ru", "Send your comment on the draft law."))
    await asel.send("Просим оставить норму о местных налогах.")
    await said(asel, t("ru", "Your comment was recorded. Thank you."))
    await boss.send("/broadcasts")
    await said(boss, t("ru", "Recent broadcasts:"))
    await boss.press(bc("report", sent.broadcast_id))
    await said(boss, t("ru", "Sent {sent} of {total}", sent=1, total=1))
    await boss.press(bc("comments", sent.broadcast_id))
    await said(boss, "Лейлекский район", "Просим оставить норму о местных налогах.")


async def test_a_liaisons_broadcast_waits_for_staff_and_a_member_cannot_approve_it(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    boss = await people("Staff", "ru")
    await f.staff(db, boss.user_id, "Сотрудник", language="ru")
    liaison, liaison_id = await member(people, birge, "Эрмек Жумабаев", "ru", "talas",
                                       position=Position.STATE_BODY, communities=())
    await roles.grant_role(db, None, liaison_id, Role.STATE_LIAISON)
    asel, _ = await member(people, birge, "Асель Маматова", "ru", "leylek")
    sent = await broadcasts.submit_broadcast(db, liaison_id, Draft(
        kind=BroadcastKind.GOVERNMENT, title="Постановление правительства",
        text_ky="Токтом.", text_ru="Постановление.",
        audience=Audience(districts=[await f.district_id(db, "leylek")])))
    assert sent.status == BroadcastStatus.AWAITING_APPROVAL
    notice = await said(boss, t("ru", "A state-body liaison asks to send this broadcast:"))
    # A member who forges the staff's Approve button is refused.
    await asel.send("/help")
    help_msg = await said(asel, t("ru", "What you can do in Birge:"))
    await asel.press_data(int(help_msg["message_id"]), bc("approve", sent.broadcast_id))
    assert t("ru", "You are not allowed to do that.") in str(await asel.answer())
    await silent(asel)
    await boss.press(bc("approve", sent.broadcast_id), notice)
    await said(asel, "Постановление.")
    await said(liaison, t("ru", "Your broadcast “{title}” was approved and is being sent.",
                          title="Постановление правительства"))


async def test_faults_while_sending_lose_nobody(
    birge: Running, people: PersonFactory, tg: EmulatorClient
) -> None:
    db = birge.db
    staff_id = await f.staff(db)
    readers = [await member(people, birge, f"Член Номер{chr(0x410 + i)}", "ru", "leylek")
               for i in range(6)]
    blocked, blocked_id = readers[-1]
    await blocked.block()
    await tg.fail(1, "429", retry_after=1, methods=["sendMessage"])
    await tg.fail(1, "500", methods=["sendMessage"])
    sent = await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.URGENT, title="Срочно", text_ky="Шашылыш.", text_ru="Срочно!",
        audience=Audience(districts=[await f.district_id(db, "leylek")])))
    for person, _ in readers[:-1]:
        await said(person, "Срочно!", timeout=15)

    async def settled() -> bool:
        r = await broadcasts.report(db, staff_id, sent.broadcast_id)
        return r.finished

    await wait_for(settled, timeout=15)
    r = await broadcasts.report(db, staff_id, sent.broadcast_id)
    assert r.by_status == {"sent": 5, "unreachable": 1}
    for person, _ in readers[:-1]:
        copies = [m for m in await person.transcript() if "Срочно!" in text_of(m)]
        assert len(copies) == 1
    del blocked_id


async def test_cancelling_a_running_broadcast_stops_the_rest(
    birge: Running, people: PersonFactory
) -> None:
    await birge.restart_with(send_rate_per_second=2)
    db = birge.db
    staff_id = await f.staff(db)
    readers = [await member(people, birge, f"Член Номер{chr(0x410 + i)}", "ru", "talas")
               for i in range(8)]
    sent = await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.NEWS, title="Новости", text_ky="Жаңылык.", text_ru="Новость.",
        audience=Audience(districts=[await f.district_id(db, "talas")])))
    async def received() -> int:
        got = 0
        for person, _ in readers:
            got += sum("Новость." in text_of(m) for m in await person.transcript())
        return got

    await said(readers[0][0], "Новость.")
    before = await received()
    stopped = await broadcasts.cancel_broadcast(db, staff_id, sent.broadcast_id)
    assert stopped >= 1

    async def settled() -> bool:
        return (await broadcasts.report(db, staff_id, sent.broadcast_id)).finished

    await wait_for(settled)
    r = await broadcasts.report(db, staff_id, sent.broadcast_id)
    delivered = r.by_status.get("sent", 0)
    cancelled = r.by_status.get("cancelled", 0)
    assert delivered + cancelled == 8 and cancelled >= 1
    # After the cancel only a message already on its way can still arrive (one per sending
    # lane: on PostgreSQL the shared gate lets a few wait for their slot at once).
    assert birge.app is not None
    assert delivered <= before + birge.app.worker.lanes, (before, delivered)
    assert await received() == delivered


async def test_a_restart_mid_broadcast_resumes_without_skipping_anyone(
    birge: Running, people: PersonFactory
) -> None:
    await birge.restart_with(send_rate_per_second=4)
    db = birge.db
    staff_id = await f.staff(db)
    readers = [await member(people, birge, f"Член Номер{chr(0x410 + i)}", "ky", "chatkal")
               for i in range(10)]
    await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.EVENT, title="Семинар", text_ky="Семинар болот.",
        text_ru="Будет семинар.",
        audience=Audience(districts=[await f.district_id(db, "chatkal")])))
    await said(readers[1][0], "Семинар болот.")
    await birge.restart()

    async def everyone_has_it() -> bool:
        for person, _ in readers:
            if not any("Семинар болот." in text_of(m) for m in await person.transcript()):
                return False
        return True

    await wait_for(everyone_has_it, timeout=15)
    extra = 0
    for person, _ in readers:
        copies = sum("Семинар болот." in text_of(m) for m in await person.transcript())
        assert copies >= 1
        extra += copies - 1
    # Only a message whose request was on the wire when Birge stopped can arrive twice.
    assert birge.app is not None and extra <= birge.app.worker.lanes


async def test_a_plain_member_cannot_compose_cancel_or_read_reports(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    staff_id = await f.staff(db)
    asel, _ = await member(people, birge, "Асель Маматова", "ru", "leylek")
    sent = await broadcasts.submit_broadcast(db, staff_id, Draft(
        kind=BroadcastKind.NEWS, title="Новости Союза", text_ky="Жаңылык.", text_ru="Новость.",
        send_at=utcnow() + timedelta(hours=3),
        audience=Audience(districts=[await f.district_id(db, "leylek")])))
    await asel.send("/broadcast")
    await said(asel, t("ru", "You are not allowed to do that."))
    await asel.send("/broadcasts")
    msg = await said(asel, t("ru", "You are not allowed to do that."))
    for action in ("cancel", "report", "csv", "comments", "approve"):
        await asel.press_data(int(msg["message_id"]), bc(action, sent.broadcast_id))
        assert t("ru", "You are not allowed to do that.") in str(await asel.answer()), action
    r = await broadcasts.report(db, staff_id, sent.broadcast_id)
    assert r.broadcast.status == BroadcastStatus.SCHEDULED and r.by_status == {"pending": 1}
