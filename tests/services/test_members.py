"""Members: applying, approval by the right people, invites, profile edits."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.services import invites, members
from bot.services.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from storage.db import Database
from storage.enums import MemberStatus, Position, Role
from storage.models import AuditLog, Member, Outbox
from tests import factories as f


async def outbox(db: Database) -> list[Outbox]:
    async with db.read() as s:
        return list((await s.exec(select(Outbox).order_by(Outbox.id))).all())


async def test_a_newcomer_in_leylek_is_announced_to_the_leylek_leader_and_staff(db: Database):
    lead = await f.leader(db, "Gulnara Toktosunova", "leylek", "heads")
    other = await f.leader(db, "Bakyt Osmonov", "talas", "heads")
    before = {r.id for r in await outbox(db)}
    newcomer = await f.applicant(db, "Nurlan Abdyldaev", district="leylek")
    assert newcomer.status == MemberStatus.PENDING
    notices = [r for r in await outbox(db) if r.id not in before]
    recipients = {r.member_id for r in notices}
    assert lead.id in recipients
    assert other.id not in recipients
    assert all(r.kind == "applicant_pending" for r in notices)


async def test_the_district_leader_approves_and_the_newcomer_hears_of_it(db: Database):
    lead = await f.leader(db, "Gulnara Toktosunova", "leylek", "heads")
    newcomer = await f.applicant(db, "Nurlan Abdyldaev", district="leylek")
    decision = await members.approve_member(db, lead.id, newcomer.id)
    assert decision.changed and decision.member.status == MemberStatus.ACTIVE
    again = await members.approve_member(db, lead.id, newcomer.id)
    assert not again.changed
    verdicts = [r for r in await outbox(db) if r.member_id == newcomer.id]
    assert [r.kind for r in verdicts] == ["member_approved"]


async def test_a_leader_of_another_district_cannot_approve_and_the_refusal_is_logged(
    db: Database,
):
    other = await f.leader(db, "Bakyt Osmonov", "talas", "heads")
    newcomer = await f.applicant(db, "Nurlan Abdyldaev", district="leylek")
    with pytest.raises(PermissionDenied):
        await members.approve_member(db, other.id, newcomer.id)
    assert (await members.by_id(db, newcomer.id)).status == MemberStatus.PENDING  # type: ignore[union-attr]
    async with db.read() as s:
        denied = (await s.exec(select(AuditLog).where(AuditLog.action == "denied"))).all()
    assert denied and denied[-1].actor_id == other.id


async def test_a_plain_member_cannot_reject_anyone(db: Database):
    plain = await f.member(db, "Asel Mamatova", district="leylek")
    newcomer = await f.applicant(db, "Nurlan Abdyldaev", district="leylek")
    with pytest.raises(PermissionDenied):
        await members.reject_member(db, plain.id, newcomer.id)


async def test_a_staff_invite_pre_approves_and_grants_the_role(db: Database):
    admin = await f.staff(db)
    leylek = await f.district_id(db, "leylek")
    heads = await f.community_id(db, "heads")
    inv = await invites.create_invite(db, admin, Role.DISTRICT_LEADER, Position.HEAD_AO,
                                      district_id=leylek, community_id=heads)
    app = members.Application(full_name="Kanat Isaev", language="ky", position=Position.HEAD_AO,
                              region_id=await f.region_of(db, leylek), district_id=leylek,
                              community_ids=[heads], invite_code=inv.code)
    result = await members.submit_application(db, 5551, None, app)
    assert result.pre_approved and result.member.status == MemberStatus.ACTIVE
    assert Role.DISTRICT_LEADER in result.member.roles
    assert await invites.check_invite(db, inv.code) == invites.InviteProblem.USED


async def test_a_leader_may_invite_only_members_of_their_own_district(db: Database):
    lead = await f.leader(db, "Gulnara Toktosunova", "leylek", "heads")
    inv = await invites.create_invite(db, lead.id, Role.MEMBER)
    assert inv.district_id == lead.district_id
    with pytest.raises(PermissionDenied):
        await invites.create_invite(db, lead.id, Role.UNION_STAFF)
    with pytest.raises(PermissionDenied):
        await invites.create_invite(db, lead.id, Role.MEMBER,
                                    district_id=await f.district_id(db, "talas"))


async def test_an_unknown_invite_code_is_reported(db: Database):
    assert await invites.check_invite(db, "nosuchcode") == invites.InviteProblem.UNKNOWN
    assert await invites.check_invite(db, "'; DROP TABLE--") == invites.InviteProblem.UNKNOWN


async def test_a_bad_name_or_forged_district_leaves_nothing_behind(db: Database):
    leylek = await f.district_id(db, "leylek")
    talas_region = await f.region_of(db, await f.district_id(db, "talas"))
    for app in (
        members.Application(full_name="x" * 10_000, language="ru", position=Position.FINANCE,
                            region_id=await f.region_of(db, leylek), district_id=leylek),
        members.Application(full_name="Asel Mamatova", language="ru", position=Position.FINANCE,
                            region_id=talas_region, district_id=leylek),
        members.Application(full_name="Asel Mamatova", language="ru", position=Position.FINANCE,
                            region_id=talas_region, district_id=None, community_ids=[999]),
    ):
        with pytest.raises(InvalidInput):
            await members.submit_application(db, 777, None, app)
    async with db.read() as s:
        assert (await s.exec(select(Member).where(Member.telegram_id == 777))).first() is None


async def test_applying_twice_while_pending_is_refused(db: Database):
    newcomer = await f.applicant(db, "Nurlan Abdyldaev", telegram_id=4242)
    d = newcomer.district_id
    app = members.Application(full_name="Nurlan Abdyldaev", language="ru",
                              position=Position.HEAD_AO, region_id=newcomer.region_id,
                              district_id=d)
    with pytest.raises(InvalidState):
        await members.submit_application(db, 4242, None, app)


async def test_a_member_edits_their_profile(db: Database):
    m = await f.member(db, "Asel Mamatova", district="leylek", position=Position.FINANCE,
                       communities=("finance",))
    talas = await f.district_id(db, "talas")
    app = members.Application(full_name="Asel Mamatova-Ryskulova", language="ru",
                              position=Position.FINANCE, region_id=await f.region_of(db, talas),
                              district_id=talas,
                              community_ids=[await f.community_id(db, "finance"),
                                             await f.community_id(db, "heads")])
    view = await members.update_profile(db, m.id, app)
    assert view.full_name == "Asel Mamatova-Ryskulova"
    assert view.district_id == talas and len(view.community_ids) == 2


async def test_the_profile_card_names_the_place_and_communities_in_the_members_language(
        db: Database):
    m = await f.member(db, "Асель Маматова", district="leylek", municipality="katran",
                       communities=("heads", "finance"))
    card = await members.profile_card(db, m.id, "ky")
    assert (card.municipality, card.district) == ("Катран айыл аймагы", "Лейлек району")
    assert card.region is not None and card.member.roles == {Role.MEMBER}
    assert len(card.communities) == 2 and card.member.community_ids == m.community_ids
    typed = await f.applicant(db, "Бакыт Осмонов", district="leylek",
                              municipality_other="Жаңы-Жер", communities=())
    card = await members.profile_card(db, typed.id, "ru")
    assert card.municipality == "Жаңы-Жер" and card.communities == []
    assert card.member.status == MemberStatus.PENDING and card.member.roles == frozenset()
    with pytest.raises(NotFound):
        await members.profile_card(db, 10**9, "ru")


async def test_the_leader_of_a_community_in_a_district_is_unique(db: Database):
    from bot.services import roles

    await f.leader(db, "Gulnara Toktosunova", "leylek", "heads")
    second = await f.member(db, "Bakyt Osmonov", district="leylek")
    with pytest.raises(InvalidState):
        await roles.grant_role(db, None, second.id, Role.DISTRICT_LEADER,
                               community_id=await f.community_id(db, "heads"),
                               district_id=await f.district_id(db, "leylek"))


async def test_granting_a_role_twice_keeps_one_and_revoking_removes_it(db: Database):
    from bot.services import roles
    from storage.models import RoleAssignment

    m = await f.member(db, "Асель Маматова", district="leylek", communities=("heads", "finance"))
    assert m.telegram_id is not None
    assert (await members.by_telegram(db, m.telegram_id)).roles == {Role.MEMBER}  # type: ignore[union-attr]
    await roles.grant_role(db, None, m.id, Role.MODERATOR)
    await roles.grant_role(db, None, m.id, Role.MODERATOR)
    await roles.grant_role(db, None, m.id, Role.DISTRICT_LEADER,
                           community_id=await f.community_id(db, "heads"),
                           district_id=await f.district_id(db, "leylek"))
    # The member's next update sees the roles (and their communities), as does their card.
    seen = await members.by_telegram(db, m.telegram_id)
    assert seen is not None and seen.community_ids == m.community_ids
    assert seen.roles == {Role.MEMBER, Role.MODERATOR, Role.DISTRICT_LEADER}
    assert (await members.profile_card(db, m.id, "ky")).member == seen
    async with db.read() as s:
        found = (await s.exec(select(RoleAssignment).where(
            RoleAssignment.member_id == m.id, RoleAssignment.role == Role.MODERATOR))).all()
    assert len(found) == 1
    assert await roles.revoke_role(db, None, m.id, Role.MODERATOR) is True
    assert Role.MODERATOR not in (await members.by_id(db, m.id)).roles  # type: ignore[union-attr]
    after = await members.by_telegram(db, m.telegram_id)  # the next update: revoked already
    assert after is not None and after.roles == {Role.MEMBER, Role.DISTRICT_LEADER}


async def test_colleagues_who_type_the_same_new_municipality_at_once_all_join_and_share_it(
        db: Database):
    import asyncio

    joined = await asyncio.gather(*(
        f.applicant(db, f"Колдонуучу {chr(0x0410 + i)}", district="talas",
                    municipality_other="Жаңы-Арык", communities=()) for i in range(8)))
    assert all(m.status == MemberStatus.PENDING for m in joined)
    async with db.read() as s:
        places = set((await s.exec(select(Member.municipality_id).where(
            col(Member.id).in_([m.id for m in joined])))).all())
    assert len(places) == 1 and None not in places
