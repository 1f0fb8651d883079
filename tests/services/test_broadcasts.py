"""Broadcasts at the service level: who receives what, who may send, and what members can do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.services import broadcasts, roles
from bot.services.broadcasts import Audience, Draft
from bot.services.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from storage.db import Database
from storage.enums import BroadcastKind, BroadcastStatus, MemberStatus, Position, Role
from storage.models import Member, Outbox
from storage.types import utcnow
from tests import factories as f


def draft(audience: Audience | None = None, **kw: object) -> Draft:
    values: dict[str, object] = {
        "kind": BroadcastKind.LAW, "title": "О местном бюджете",
        "text_ky": "Жергиликтүү бюджет жөнүндө мыйзам кабыл алынды.",
        "text_ru": "Принят закон о местном бюджете.",
        "audience": audience or Audience(),
    }
    values.update(kw)
    return Draft(**values)  # type: ignore[arg-type]


async def recipients(db: Database, broadcast_id: int) -> set[int]:
    async with db.read() as s:
        rows = (await s.exec(select(Outbox.member_id).where(
            Outbox.broadcast_id == broadcast_id))).all()
    return {r for r in rows if r is not None}


@pytest.fixture
async def people(db: Database) -> dict[str, int]:
    """Members across Batken and Talas, communities, languages and roles."""
    found = {
        "leylek_finance_ru": (await f.member(db, "Асель Маматова", district="leylek",
                                             position=Position.FINANCE,
                                             communities=("finance",), language="ru")).id,
        "leylek_head_ky": (await f.member(db, "Нурлан Абдылдаев", district="leylek",
                                          communities=("heads",), language="ky")).id,
        "batken_deputy_en": (await f.member(db, "Kanat Isaev", district="batken",
                                            position=Position.DEPUTY,
                                            communities=("deputies",), language="en")).id,
        "talas_head_ru": (await f.member(db, "Бакыт Осмонов", district="talas",
                                         communities=("heads",), language="ru",
                                         username="bakyt_talas")).id,
    }
    found["talas_leader"] = (await f.leader(db, "Гулнара Токтосунова", "talas", "finance",
                                            language="ky")).id
    found["pending"] = (await f.applicant(db, "Ждущий Заявитель", district="leylek")).id
    found["staff"] = await f.staff(db)
    return found


async def test_segments_pick_exactly_the_members_concerned(
    db: Database, people: dict[str, int]
) -> None:
    staff = people["staff"]
    batken = await f.region_of(db, await f.district_id(db, "leylek"))
    finance = await f.community_id(db, "finance")
    heads = await f.community_id(db, "heads")
    async with db.read() as s:
        active = set((await s.exec(select(Member.id).where(
            Member.status == MemberStatus.ACTIVE))).all())
    assert people["pending"] not in active
    cases = [
        (Audience(), active),
        (Audience(communities=[finance]), {people["leylek_finance_ru"], people["talas_leader"]}),
        (Audience(regions=[batken], communities=[heads]), {people["leylek_head_ky"]}),
        (Audience(districts=[await f.district_id(db, "talas")]),
         {people["talas_head_ru"], people["talas_leader"]}),
        (Audience(languages=["ky"], regions=[batken]), {people["leylek_head_ky"]}),
        (Audience(roles=[Role.DISTRICT_LEADER]), {people["talas_leader"]}),
        (Audience(members=[people["talas_head_ru"], people["pending"]]),
         {people["talas_head_ru"]}),
    ]
    for audience, expected in cases:
        sent = await broadcasts.submit_broadcast(db, staff, draft(audience))
        assert sent.status == BroadcastStatus.SENDING
        assert await recipients(db, sent.broadcast_id) == expected, audience
        assert sent.recipients == len(expected)


async def test_a_pasted_list_is_resolved_and_unknown_names_reported(
    db: Database, people: dict[str, int]
) -> None:
    found, unknown = await broadcasts.resolve_pasted(db, "@bakyt_talas, nobody_here 12 ;")
    assert found == [people["talas_head_ru"]]
    assert unknown == ["nobody_here", "12"]


async def test_each_member_reads_their_language_with_a_fallback(db: Database) -> None:
    from storage.models import Broadcast

    b = Broadcast(kind="law", title="t", text_ky="кыргызча", text_ru="по-русски",
                  text_en=None, created_by_id=1)
    assert broadcasts.text_for(b, "ky") == "кыргызча"
    assert broadcasts.text_for(b, "ru") == "по-русски"
    assert broadcasts.text_for(b, "en") == "по-русски"
    b.text_en = "in English"
    assert broadcasts.text_for(b, "en") == "in English"


async def test_only_staff_and_liaisons_compose_and_only_staff_approve(
    db: Database, people: dict[str, int]
) -> None:
    with pytest.raises(PermissionDenied):
        await broadcasts.submit_broadcast(db, people["leylek_finance_ru"], draft())
    with pytest.raises(PermissionDenied):
        await broadcasts.submit_broadcast(db, people["talas_leader"], draft())
    liaison = await f.member(db, "Эрмек Жумабаев", district="talas",
                             position=Position.STATE_BODY, communities=())
    await roles.grant_role(db, None, liaison.id, Role.STATE_LIAISON)
    waiting = await broadcasts.submit_broadcast(db, liaison.id, draft())
    assert waiting.status == BroadcastStatus.AWAITING_APPROVAL
    assert await recipients(db, waiting.broadcast_id) == set()
    with pytest.raises(PermissionDenied):
        await broadcasts.approve_broadcast(db, liaison.id, waiting.broadcast_id)
    with pytest.raises(PermissionDenied):
        await broadcasts.approve_broadcast(db, people["leylek_head_ky"], waiting.broadcast_id)
    approved = await broadcasts.approve_broadcast(db, people["staff"], waiting.broadcast_id)
    assert approved.status == BroadcastStatus.SENDING and approved.recipients > 0
    again = await broadcasts.approve_broadcast(db, people["staff"], waiting.broadcast_id)
    assert again.recipients == approved.recipients
    assert len(await recipients(db, waiting.broadcast_id)) == approved.recipients


async def test_bad_drafts_are_refused_whole(db: Database, people: dict[str, int]) -> None:
    staff = people["staff"]
    for bad in (draft(text_ky=""), draft(title="x"), draft(text_ru="я" * 3501),
                draft(kind=BroadcastKind.DRAFT_LAW), draft(source_url="javascript:alert(1)"),
                draft(send_at=utcnow() - timedelta(days=1))):
        with pytest.raises(InvalidInput):
            await broadcasts.submit_broadcast(db, staff, bad)
    async with db.read() as s:
        assert (await s.exec(select(Outbox).where(Outbox.kind == "broadcast"))).first() is None


async def test_cancel_stops_what_has_not_gone(db: Database, people: dict[str, int]) -> None:
    sent = await broadcasts.submit_broadcast(
        db, people["staff"], draft(send_at=utcnow() + timedelta(hours=2)))
    assert sent.status == BroadcastStatus.SCHEDULED
    with pytest.raises(PermissionDenied):
        await broadcasts.cancel_broadcast(db, people["leylek_head_ky"], sent.broadcast_id)
    stopped = await broadcasts.cancel_broadcast(db, people["staff"], sent.broadcast_id)
    assert stopped == sent.recipients
    with pytest.raises(InvalidState):
        await broadcasts.cancel_broadcast(db, people["staff"], sent.broadcast_id)
    report = await broadcasts.report(db, people["staff"], sent.broadcast_id)
    assert report.by_status == {"cancelled": sent.recipients}


async def test_members_acknowledge_once_and_comment_until_the_deadline(
    db: Database, people: dict[str, int]
) -> None:
    staff = people["staff"]
    sent = await broadcasts.submit_broadcast(
        db, staff, draft(kind=BroadcastKind.DRAFT_LAW,
                         comments_until=utcnow() + timedelta(days=3)))
    member = people["leylek_finance_ru"]
    assert await broadcasts.acknowledge(db, member, sent.broadcast_id) is True
    assert await broadcasts.acknowledge(db, member, sent.broadcast_id) is False
    await broadcasts.comment_on_draft(db, member, sent.broadcast_id,
                                      "Просим учесть малые айыл аймаки.")
    await broadcasts.comment_on_draft(db, people["talas_head_ru"], sent.broadcast_id,
                                      "Нужен переходный период.")
    grouped = await broadcasts.comments_by_district(db, staff, sent.broadcast_id)
    assert set(grouped) == {"Лейлекский район", "Таласский район"}
    with pytest.raises(PermissionDenied):
        await broadcasts.comments_by_district(db, member, sent.broadcast_id)
    report = await broadcasts.report(db, staff, sent.broadcast_id)
    assert report.acknowledged == 1
    assert report.by_place[("Баткенская область", "Лейлекский район")]["acknowledged"] == 1
    csv_text = await broadcasts.report_csv(db, staff, sent.broadcast_id)
    assert "Лейлекский район" in csv_text.splitlines()[1] or "Лейлекский район" in csv_text


async def test_nobody_answers_what_they_did_not_receive(
    db: Database, people: dict[str, int]
) -> None:
    talas = await f.district_id(db, "talas")
    sent = await broadcasts.submit_broadcast(db, people["staff"],
                                             draft(Audience(districts=[talas])))
    with pytest.raises(NotFound):
        await broadcasts.acknowledge(db, people["leylek_finance_ru"], sent.broadcast_id)
    with pytest.raises(InvalidState):
        await broadcasts.comment_on_draft(db, people["talas_head_ru"], sent.broadcast_id,
                                          "Не черновик")
