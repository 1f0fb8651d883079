"""The sandbox's demo rows for the vertical loop, built only through Birge's services.

The draft law open for comments (from `demo.add_broadcasts`) gets comments from the finance
officers; the Union staff drafted the Union's position on it and put it to every district leader
for sign-off (one leader answered with remarks, the Talas leader persona is still asked); the
Ministry of Finance's liaison persona, linked to the ministry by staff, has answered the dossier
on the land tax, so the issue's backers heard the response and staff see it with Correct.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.services import broadcasts, liaisons, positions
from storage.db import Database
from storage.enums import BroadcastKind, DossierStatus
from storage.models import Broadcast, Dossier, StateBody

COMMENTS = (
    ("leylek_finance", "Статья 4: предлагаем разрешить айыл окмоту заключать договор "
                       "социального заказа без конкурса, если сумма меньше 100 000 сомов."),
    ("aksy_finance", "Статья 7: казначейство должно принимать расходы на социальный заказ по "
                     "отдельной статье местного бюджета."),
    ("kara_buura_finance", "7-берене: социалдык заказдын отчетунун формасын жөнөкөйлөтүү "
                           "керек."),
    ("leylek_finance_leader", "Общее замечание: нужен переходный период в один год."),
)


async def populate(db: Database, staff_id: int, ids: dict[str, int], liaison_id: int) -> None:
    """Comments, a position with the leaders, and a liaison's answered dossier."""
    async with db.read() as s:
        draft = (await s.exec(select(Broadcast).where(Broadcast.kind == BroadcastKind.DRAFT_LAW)
                              .order_by(col(Broadcast.id).desc()))).first()
        minfin = (await s.exec(select(StateBody).where(StateBody.code == "minfin"))).one()
        dossier = (await s.exec(select(Dossier).where(
            Dossier.state_body_id == minfin.id, Dossier.status == DossierStatus.SENT))).first()
    assert draft is not None and draft.id is not None and minfin.id is not None
    for key, text in COMMENTS:
        await broadcasts.comment_on_draft(db, ids[key], draft.id, text)
    position = await positions.draft_position(
        db, staff_id, draft.id, "Комитет Жогорку Кенеша по конституционному законодательству, "
        "государственному устройству, местному самоуправлению и Регламенту Жогорку Кенеша",
        "ЖӨБ союзу мыйзам долбоорун колдойт, бирок социалдык заказды каржылоо тартибин "
        "мыйзамда так жазууну сунуштайт.",
        "Союз МСУ поддерживает законопроект и предлагает прямо прописать в нём порядок "
        "финансирования социального заказа из местного бюджета.")
    assert position.id is not None
    await positions.open_signoff(db, staff_id, position.id, positions.preset_deadline(7))
    await positions.sign_off(db, ids["leylek_finance_leader"], position.id, "remarks",
                             "Добавить переходный период в один год.")
    await liaisons.assign_body(db, staff_id, liaison_id, minfin.id)
    if dossier is not None and dossier.id is not None:
        await liaisons.respond(
            db, liaison_id, "dossier", dossier.id,
            "Министерство финансов подготовит поправки в Бюджетный кодекс о зачислении "
            "земельного налога в местный бюджет по месту нахождения земли и внесёт их в "
            "Кабинет Министров до 1 марта.", "04-2/1187")
