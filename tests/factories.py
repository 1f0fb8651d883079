"""Building members the way Birge does: through the services, never with raw SQL."""

from __future__ import annotations

import itertools

from sqlmodel import select

from bot.services import members, roles
from bot.services.members import Application, MemberView
from storage.db import Database
from storage.enums import Position, Role
from storage.models import Community, District, Municipality, NationalIssue, StateBody

_ids = itertools.count(900_000_001)


async def district_id(db: Database, code: str) -> int:
    async with db.read() as s:
        d = (await s.exec(select(District).where(District.code == code))).one()
        assert d.id is not None
        return d.id


async def region_of(db: Database, district: int) -> int:
    async with db.read() as s:
        d = await s.get(District, district)
        assert d is not None
        return d.region_id


async def community_id(db: Database, code: str) -> int:
    async with db.read() as s:
        c = (await s.exec(select(Community).where(Community.code == code))).one()
        assert c.id is not None
        return c.id


async def municipality_id(db: Database, code: str) -> int:
    async with db.read() as s:
        m = (await s.exec(select(Municipality).where(Municipality.code == code))).one()
        assert m.id is not None
        return m.id


async def staff(db: Database, telegram_id: int | None = None, name: str = "Staff",
                language: str = "ky") -> int:
    """A Union staff member, bootstrapped as `birge admin add` does, speaking `language`."""
    member_id = await roles.bootstrap_admin(db, telegram_id or next(_ids), name)
    await members.set_language(db, member_id, language)
    return member_id


async def applicant(
    db: Database,
    name: str = "Aibek Asanov",
    *,
    telegram_id: int | None = None,
    username: str | None = None,
    position: Position = Position.HEAD_AO,
    district: str = "leylek",
    municipality: str | None = None,
    municipality_other: str | None = None,
    communities: tuple[str, ...] = ("heads",),
    language: str = "ru",
) -> MemberView:
    """A newcomer who went through onboarding and consented (pending)."""
    d = await district_id(db, district)
    app = Application(
        full_name=name,
        language=language,
        position=position,
        region_id=await region_of(db, d),
        district_id=d,
        municipality_id=await municipality_id(db, municipality) if municipality else None,
        municipality_other=municipality_other,
        community_ids=[await community_id(db, c) for c in communities],
    )
    result = await members.submit_application(db, telegram_id or next(_ids), username, app)
    return result.member


async def member(db: Database, name: str = "Aibek Asanov", **kwargs: object) -> MemberView:
    """An approved member."""
    newcomer = await applicant(db, name, **kwargs)  # type: ignore[arg-type]
    admin = await staff(db)
    await members.approve_member(db, admin, newcomer.id)
    found = await members.by_id(db, newcomer.id)
    assert found is not None
    return found


async def leader(db: Database, name: str, district: str, community: str,
                 **kwargs: object) -> MemberView:
    """A district leader of `community` in `district`."""
    m = await member(db, name, district=district, communities=(community,), **kwargs)
    await roles.grant_role(db, None, m.id, Role.DISTRICT_LEADER,
                           community_id=await community_id(db, community),
                           district_id=await district_id(db, district))
    found = await members.by_id(db, m.id)
    assert found is not None
    return found


async def group_id(db: Database, code: str) -> int:
    """A seeded topic group: budget, land, services, social, legal, kenesh, waste, or
    community-<code> for a practice community's own group."""
    from storage.models import TopicGroup

    async with db.read() as s:
        g = (await s.exec(select(TopicGroup).where(TopicGroup.code == code))).one()
        assert g.id is not None
        return g.id


async def moderator(db: Database, name: str, group: str, **kwargs: object) -> MemberView:
    """A member whom Union staff appointed moderator of a seeded group."""
    from bot.services import groups

    m = await member(db, name, **kwargs)
    await groups.appoint_moderator(db, await staff(db), await group_id(db, group), m.id)
    return m


async def state_body_id(db: Database, code: str) -> int:
    async with db.read() as s:
        b = (await s.exec(select(StateBody).where(StateBody.code == code))).one()
        assert b.id is not None
        return b.id


async def national_issue(db: Database, author_id: int, title: str = "Земельный налог",
                         **kwargs: object) -> NationalIssue:
    """An issue raised through `national_issues.raise_issue`, as the /raise flow does."""
    from bot.services import national_issues

    values: dict[str, object] = {
        "title": title, "topic": "land",
        "problem": "Земельный налог не поступает в местный бюджет в полном объёме.",
        "solution": "Зачислять земельный налог в местный бюджет полностью.",
    }
    values.update(kwargs)
    return await national_issues.raise_issue(
        db, author_id, national_issues.IssueDraft(**values))  # type: ignore[arg-type]


async def lawyer(db: Database, name: str = "Эркин Сыдыков", **kwargs: object) -> MemberView:
    """An approved member with the expert/lawyer role (answers legal-help requests)."""
    kwargs.setdefault("position", Position.EXPERT)
    kwargs.setdefault("communities", ())
    m = await member(db, name, **kwargs)
    await roles.grant_role(db, None, m.id, Role.EXPERT)
    found = await members.by_id(db, m.id)
    assert found is not None
    return found
