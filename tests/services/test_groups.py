"""The /groups list at the service level: what each member is shown and how many follow."""

from __future__ import annotations

from bot.services import groups, privacy
from bot.services.groups import GroupLine
from storage.db import Database
from tests import factories as f


def followers(lines: list[GroupLine], group_id: int) -> int:
    return next(line.members for line in lines if line.id == group_id)


async def test_the_list_counts_followers_as_they_join_leave_and_delete_their_account(
        db: Database) -> None:
    asel = await f.member(db, "Асель Маматова", district="leylek")
    bakyt = await f.member(db, "Бакыт Осмонов", district="talas", communities=("deputies",))
    budget = await f.group_id(db, "budget")
    start = followers(await groups.list_groups(db, asel.id, "ru"), budget)

    assert await groups.join_group(db, bakyt.id, budget)
    assert await groups.join_group(db, asel.id, budget)
    seen = await groups.list_groups(db, asel.id, "ru")
    assert followers(seen, budget) == start + 2
    assert seen[0].id == budget and seen[0].joined  # followed groups come first

    assert await groups.leave_group(db, bakyt.id, budget)
    assert followers(await groups.list_groups(db, asel.id, "ru"), budget) == start + 1
    await privacy.delete_account(db, asel.id, asel.id)
    assert followers(await groups.list_groups(db, bakyt.id, "ru"), budget) == start


async def test_a_community_group_is_listed_for_its_community_and_its_moderators_only(
        db: Database) -> None:
    head = await f.member(db, "Асель Маматова", district="leylek", communities=("heads",))
    deputy = await f.member(db, "Бакыт Осмонов", district="talas", communities=("deputies",))
    heads_group = await f.group_id(db, "community-heads")
    assert heads_group in {line.id for line in await groups.list_groups(db, head.id, "ru")}
    assert heads_group not in {line.id for line in await groups.list_groups(db, deputy.id, "ru")}
    assert next(line for line in await groups.list_groups(db, head.id, "ru")
                if line.id == heads_group).community_only
    staff = await f.staff(db)
    assert await groups.appoint_moderator(db, staff, heads_group, deputy.id)
    assert heads_group in {line.id for line in await groups.list_groups(db, deputy.id, "ru")}
    newcomer = await f.applicant(db, "Жаңы Келген", district="leylek")
    assert await groups.list_groups(db, newcomer.id, "ru") == []
