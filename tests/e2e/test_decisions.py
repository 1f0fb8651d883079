"""A notice with decision buttons goes to several people; when one decides, every other copy is
edited to the verdict and keeps no live buttons (issue 13, item 9)."""

from __future__ import annotations

from bot.services import broadcasts, legal, roles
from bot.services.broadcasts import Audience, Draft
from bot.services.legal import Intake
from bot.views.callbacks import Bc, Lc
from storage.enums import BroadcastKind, LegalCategory, Position, Role
from tests import factories as f
from tests.e2e.conftest import (
    PersonFactory,
    Running,
    buttons,
    decide,
    press,
    said,
    t,
)
from tests.e2e.journeys import member


async def test_the_staffs_copy_of_a_join_request_shows_the_leaders_approval(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    leader = await people("Gulnara", "ky")
    await f.leader(db, "Гулнара Токтосунова", "leylek", "heads", telegram_id=leader.user_id,
                   language="ky")
    boss = await people("Boss", "en")
    await f.staff(db, boss.user_id, "Union Staff", language="en")
    newcomer = await people("Nurlan", "ru")
    pending = await f.applicant(db, "Нурлан Абдылдаев", telegram_id=newcomer.user_id)
    boss_copy = await said(boss, "Нурлан Абдылдаев", t("en", "A newcomer asks to join Birge:"))
    await said(leader, "Нурлан Абдылдаев", t("ky", "A newcomer asks to join Birge:"))

    await press(leader, decide("approve", pending.id))
    await said(leader, t("ky", "✅ You approved {name}.", name="Нурлан Абдылдаев"))
    edited = await said(boss, t("en", "{name}: approved by {by}.", name="Нурлан Абдылдаев",
                                by="Гулнара Токтосунова"))
    assert edited["message_id"] == boss_copy["message_id"]
    assert buttons(edited) == []


async def test_the_other_staffs_copy_of_a_broadcast_approval_shows_the_verdict(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    first, second = await people("Staff A", "ru"), await people("Staff B", "ky")
    await f.staff(db, first.user_id, "Айгүл Сатарова", language="ru")
    await f.staff(db, second.user_id, "Бекзат Исаев", language="ky")
    _liaison, liaison_id = await member(people, birge, "Эрмек Жумабаев", "ru", "talas",
                                        position=Position.STATE_BODY, communities=())
    await roles.grant_role(db, None, liaison_id, Role.STATE_LIAISON)
    sent = await broadcasts.submit_broadcast(db, liaison_id, Draft(
        kind=BroadcastKind.GOVERNMENT, title="Постановление о бюджете",
        text_ky="Токтом.", text_ru="Постановление.",
        audience=Audience(districts=[await f.district_id(db, "leylek")])))
    notice = await said(first, t("ru", "A state-body liaison asks to send this broadcast:"))
    other = await said(second, t("ky", "A state-body liaison asks to send this broadcast:"))
    await first.press(Bc(action="reject", broadcast_id=sent.broadcast_id).pack(), notice)
    edited = await said(second, t("ky", "Broadcast “{name}”: rejected by {by}.",
                                  name="Постановление о бюджете", by="Айгүл Сатарова"))
    assert edited["message_id"] == other["message_id"] and buttons(edited) == []


async def test_other_lawyers_copies_of_a_new_request_show_who_took_it(
    birge: Running, people: PersonFactory
) -> None:
    db = birge.db
    erkin, aida = await people("Erkin", "ru"), await people("Aida", "ru")
    await f.lawyer(db, "Эркин Сыдыков", telegram_id=erkin.user_id, language="ru")
    await f.lawyer(db, "Аида Нурланова", telegram_id=aida.user_id, language="ru")
    await said(erkin, t("ru", "Your application has been approved."))
    await said(aida, t("ru", "Your application has been approved."))
    _asel, asel_id = await member(people, birge, "Асель Маматова", "ru")
    case_id = await legal.open_case(db, asel_id, Intake(
        category=LegalCategory.BUDGET, consent=True,
        summary="Районная налоговая требует вернуть земельный налог за прошлый год."))
    notice = await said(erkin, t("ru", "New legal request {code}"))
    aidas = await said(aida, t("ru", "New legal request {code}"))
    await erkin.press(Lc(action="take", case_id=case_id).pack(), notice)
    edited = await said(aida, t("ru", "{name}: taken by {by}.", name=f"L-{case_id}",
                                by="Эркин Сыдыков"))
    assert edited["message_id"] == aidas["message_id"]
    assert "take" not in " ".join(data for _, data in buttons(edited))

