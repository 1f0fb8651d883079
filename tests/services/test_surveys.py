"""Surveys through their services: who may ask whom, branching, one response per member or
municipality, anonymous tokens and the threshold, the one reminder and closing, quick polls."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.services import survey_forms as forms
from bot.services import survey_polls, surveys
from bot.services.broadcasts import Audience
from bot.services.errors import InvalidInput, InvalidState, PermissionDenied
from storage.db import Database
from storage.models import Outbox, SurveyPoll, SurveyResponse
from storage.types import utcnow
from tests import factories as f
from tests.survey_helpers import QUESTIONS, answer_all, create, draft

FULL = {"budget": "no", "gap": 250000, "trust": 7, "problems": ["water", "roads"],
        "priority": ["water", "waste", "roads"]}


async def test_a_branch_is_followed_and_a_submitted_response_counts_once(db: Database) -> None:
    staff = await f.staff(db)
    m = await f.member(db, "Асель", district="leylek", municipality="katran")
    sid = await create(db, staff, Audience(districts=[await f.district_id(db, "leylek")]))
    step = await surveys.begin(db, m.id, sid)
    assert (step.current, step.position, step.total) == ("budget", 1, 6)
    step = await surveys.answer(db, m.id, sid, "budget", "yes")
    assert step.current == "trust"  # "gap" is shown only after "no"
    step = await surveys.back(db, m.id, sid)
    step = await surveys.answer(db, m.id, sid, "budget", "no")
    assert (step.current, step.total) == ("gap", 7)
    with pytest.raises(InvalidInput) as bad:
        await surveys.answer_typed(db, m.id, sid, "5 000 сом")
    assert bad.value.code == "survey_number"
    with pytest.raises(InvalidInput):
        await surveys.answer_typed(db, m.id, sid, "5,5")
    step = await surveys.answer_typed(db, m.id, sid, "5000")
    assert step.answers["gap"] == 5000
    step = await surveys.answer(db, m.id, sid, "trust", 8)
    step = await surveys.tap(db, m.id, sid, "problems", "water")
    step = await surveys.tap(db, m.id, sid, "problems", "roads")
    with pytest.raises(InvalidInput) as many:
        await surveys.tap(db, m.id, sid, "problems", "waste")
    assert many.value.code == "survey_too_many_choices"
    step = await surveys.done(db, m.id, sid, "problems")
    assert step.current == "priority"
    step = await surveys.tap(db, m.id, sid, "priority", "roads")
    with pytest.raises(InvalidInput) as repeated:
        await surveys.tap(db, m.id, sid, "priority", "roads")
    assert repeated.value.code == "survey_repeated"
    step = await surveys.undo(db, m.id, sid, "priority")
    assert step.answers["priority"] == []
    for option in ("waste", "water", "roads"):
        step = await surveys.tap(db, m.id, sid, "priority", option)
    step = await surveys.done(db, m.id, sid, "priority")
    step = await surveys.skip(db, m.id, sid, "since")
    with pytest.raises(InvalidInput):
        await surveys.answer_typed(db, m.id, sid, "x" * 10_000)
    step = await surveys.answer_typed(db, m.id, sid, "Суу жок.")
    assert step.current is None
    step = await surveys.submit(db, m.id, sid)
    assert step.submitted
    # Edited until the deadline: still one response.
    step = await surveys.edit(db, m.id, sid, "trust")
    step = await surveys.answer(db, m.id, sid, "trust", 9)
    assert step.current is None
    await surveys.submit(db, m.id, sid)
    found = await surveys.results(db, staff, sid)
    assert (found.invited, found.responded) == (1, 1)
    trust = next(q for q in found.questions if q.question["name"] == "trust")
    assert trust.mean == 9


async def test_a_finance_officer_tapping_two_options_at_once_keeps_both(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow connection delivers two taps together: each is written on the response the
    other left (the write is conditional on what was read), none is lost."""
    staff = await f.staff(db)
    m = await f.member(db, "Бермет", district="leylek", municipality="katran")
    sid = await create(db, staff, Audience(districts=[await f.district_id(db, "leylek")]))
    await surveys.begin(db, m.id, sid)
    await surveys.answer(db, m.id, sid, "budget", "yes")
    await surveys.answer(db, m.id, sid, "trust", 6)
    # Both taps read the response before either writes.
    both_read = asyncio.Barrier(2)
    reads = 0
    own = surveys._own

    async def read_together(*args: object) -> object:
        nonlocal reads
        found = await own(*args)  # type: ignore[arg-type]
        reads += 1
        if reads <= 2:
            await both_read.wait()
        return found

    monkeypatch.setattr(surveys, "_own", read_together)
    await asyncio.gather(surveys.tap(db, m.id, sid, "problems", "water"),
                         surveys.tap(db, m.id, sid, "problems", "roads"))
    assert reads == 3  # the second write found the response changed and read it again
    step = await surveys.done(db, m.id, sid, "problems")
    assert sorted(step.answers["problems"]) == ["roads", "water"]


async def test_a_district_leader_asks_only_their_district_and_strangers_cannot_answer(
        db: Database) -> None:
    leader = await f.leader(db, "Лидер", "leylek", "heads")
    inside = await f.member(db, "Асель", district="leylek")
    outside = await f.member(db, "Бакыт", district="talas")
    sid = await create(db, leader.id)
    assert (await surveys.begin(db, inside.id, sid)).current == "budget"
    with pytest.raises(PermissionDenied):
        await surveys.begin(db, outside.id, sid)
    with pytest.raises(PermissionDenied):
        await create(db, leader.id, Audience(districts=[await f.district_id(db, "talas")]))
    plain = await f.member(db, "Нурлан")
    with pytest.raises(PermissionDenied):
        await create(db, plain.id)


async def test_one_response_per_municipality_names_who_answered(db: Database) -> None:
    staff = await f.staff(db)
    a = await f.member(db, "Асель Маматова", district="leylek", municipality="katran")
    b = await f.member(db, "Нурлан", district="leylek", municipality="katran")
    sid = await create(db, staff, Audience(districts=[await f.district_id(db, "leylek")]),
                       per_municipality=True)
    await answer_all(db, a.id, sid, FULL)
    step = await surveys.begin(db, b.id, sid)
    assert step.answered_by == "Асель Маматова" and not step.own
    with pytest.raises(InvalidState):
        await surveys.answer(db, b.id, sid, "budget", "yes")
    listed = await surveys.for_member(db, b.id)
    assert listed[0].state == "answered_by"
    found = await surveys.results(db, staff, sid)
    assert (found.invited, found.responded) == (1, 1)  # one municipality, answered


async def test_an_anonymous_survey_keeps_no_member_and_hides_small_districts(
        db: Database) -> None:
    staff = await f.staff(db)
    members = [await f.member(db, "Член " + "абвгд"[i], district="leylek") for i in range(5)]
    lone = await f.member(db, "Один", district="talas")
    sid = await create(db, staff, anonymous=True)
    for m in [*members, lone]:
        await answer_all(db, m.id, sid, FULL)
    async with db.read() as s:
        rows = (await s.exec(select(SurveyResponse).where(
            SurveyResponse.survey_id == sid))).all()
    assert len(rows) == 6 and all(r.member_id is None for r in rows)
    assert all(r.key.startswith("a:") and len(r.key) == 66 for r in rows)
    # The token stops a second response: the member continues their own.
    again = await surveys.begin(db, members[0].id, sid)
    assert again.submitted
    found = await surveys.results(db, staff, sid)
    shown = {p.district: p for p in found.by_place}
    assert not shown["Лейлекский район"].hidden
    assert shown["Таласский район"].hidden
    _, exported = await surveys.export_rows(db, staff, sid)
    assert all(r.who is None and r.district is None for r in exported)


async def test_one_reminder_then_closing_at_the_deadline(db: Database) -> None:
    staff = await f.staff(db)
    done_m = await f.member(db, "Асель", district="leylek")
    late = await f.member(db, "Нурлан", district="leylek")
    sid = await create(db, staff, Audience(districts=[await f.district_id(db, "leylek")]),
                       deadline=utcnow() + timedelta(days=2))
    await answer_all(db, done_m.id, sid, FULL)
    now = utcnow()
    assert await surveys.run_deadlines(db, now) == (0, 0)
    assert await surveys.run_deadlines(db, now + timedelta(days=1, hours=1)) == (1, 0)
    assert await surveys.run_deadlines(db, now + timedelta(days=1, hours=2)) == (0, 0)
    async with db.read() as s:
        reminders = (await s.exec(select(Outbox.member_id).where(
            Outbox.kind == "survey_reminder"))).all()
    assert reminders == [late.id]
    assert await surveys.run_deadlines(db, now + timedelta(days=3)) == (0, 1)
    with pytest.raises(InvalidState):
        await surveys.begin(db, late.id, sid)


async def test_a_quick_poll_counts_votes_and_taken_back_votes(db: Database) -> None:
    staff = await f.staff(db)
    m = await f.member(db, "Асель", district="leylek", telegram_id=555)
    q = {**QUESTIONS[0]}
    sid = (await surveys.create_survey(db, staff, draft(
        Audience(districts=[await f.district_id(db, "leylek")]), kind="poll",
        questions=[q]))).survey_id
    async with db.transaction() as s:
        await survey_polls.poll_posted(s, {"survey_id": sid, "poll_id": "P1", "chat_id": 555}, 7)
    assert await survey_polls.record_poll_vote(db, "P1", 555, [1])
    assert not await survey_polls.record_poll_vote(db, "P1", 999, [1])
    assert not await survey_polls.record_poll_vote(db, "nope", 555, [1])
    found = await surveys.results(db, staff, sid)
    assert found.questions[0].counts == {"yes": 0, "no": 1}
    assert await survey_polls.record_poll_vote(db, "P1", 555, [])
    assert (await surveys.results(db, staff, sid)).responded == 0
    await survey_polls.record_poll_vote(db, "P1", 555, [0])
    await surveys.run_deadlines(db, utcnow() + timedelta(days=6))
    async with db.read() as s:
        poll = await s.get(SurveyPoll, "P1")
        stops = (await s.exec(select(Outbox).where(Outbox.kind == "survey_poll_stop"))).all()
    assert poll is not None and poll.stopped_at is not None
    assert [r.payload["message_id"] for r in stops] == [7]
    del m


def test_borda_scores_rank_the_priorities() -> None:
    q = QUESTIONS[4]
    found = {r.question["name"]: r for r in __import__("bot.services.surveys").services
             .surveys.aggregate([q], [{"priority": ["water", "roads", "waste"]},
                                      {"priority": ["water", "waste", "roads"]},
                                      {"priority": ["roads", "water", "waste"]}])}
    assert found["priority"].borda == [("water", 5.0), ("roads", 3.0), ("waste", 1.0)]


def test_bad_forms_are_refused_with_the_question_named() -> None:
    with pytest.raises(InvalidInput) as dup:
        forms.clean_questions([QUESTIONS[0], QUESTIONS[0]])
    assert dup.value.code == "survey_duplicate" and dup.value.params["where"] == "budget"
    bad_relevant = {**QUESTIONS[1], "relevant": {"q": "nothing", "value": "x"}}
    with pytest.raises(InvalidInput) as rel:
        forms.clean_questions([QUESTIONS[0], bad_relevant])
    assert rel.value.code == "survey_relevant"
    with pytest.raises(InvalidInput):
        forms.clean_questions([{**QUESTIONS[0], "label": {"ru": "Только русский"}}])


async def test_digests_list_surveys_waiting_and_results_published_and_so_does_the_bulletin(
        db: Database) -> None:
    from zoneinfo import ZoneInfo

    from bot.services import bulletin, digests

    staff = await f.staff(db)
    asel = await f.member(db, "Асель", district="leylek")
    nurlan = await f.member(db, "Нурлан", district="leylek")
    sid = await create(db, staff, Audience(districts=[await f.district_id(db, "leylek")]))
    since = utcnow() - timedelta(days=1)

    def codes(found: digests.Digest | None) -> dict[str, list[str]]:
        assert found is not None
        return {code: [i.ref for i in part.items] for code, part in found.sections
                if part.count}

    assert codes(await digests.build_digest(db, asel.id, since))["surveys"] == [f"S-{sid}"]
    await answer_all(db, asel.id, sid, FULL)
    assert "surveys" not in codes(await digests.build_digest(db, asel.id, since))
    assert "surveys" in codes(await digests.build_digest(db, nurlan.id, since))
    await surveys.publish_results(db, staff, sid, "Итоги", "Жыйынтык.", "Итоги.")
    assert codes(await digests.build_digest(db, asel.id, since))["survey_results"] == [
        f"S-{sid}"]
    tz = ZoneInfo("Asia/Bishkek")
    data = await bulletin.compile_bulletin(db, staff, utcnow().astimezone(tz).date(), tz)
    assert [i.ref for i in dict(data.parts)["survey_results"]] == [f"S-{sid}"]


async def test_a_moderator_asks_their_groups_members_only(db: Database) -> None:
    mod = await f.moderator(db, "Модератор", "budget")
    follower = await f.member(db, "Асель", district="talas")
    stranger = await f.member(db, "Нурлан", district="talas")
    from bot.services import groups

    await groups.join_group(db, follower.id, await f.group_id(db, "budget"))
    sid = await create(db, mod.id, group_id=await f.group_id(db, "budget"))
    assert (await surveys.begin(db, follower.id, sid)).current == "budget"
    with pytest.raises(PermissionDenied):
        await surveys.begin(db, stranger.id, sid)
    with pytest.raises(PermissionDenied):  # not their group
        await create(db, mod.id, group_id=await f.group_id(db, "land"))


async def test_the_surveys_list_says_where_the_member_stands_in_each(db: Database) -> None:
    staff = await f.staff(db)
    m = await f.member(db, "Асель Маматова", district="leylek")
    other = await f.member(db, "Бакыт Осмонов", district="leylek")
    untouched = await create(db, staff)
    started = await create(db, staff)
    submitted = await create(db, staff)
    await surveys.begin(db, m.id, started)
    await surveys.answer(db, m.id, started, "budget", "yes")
    await answer_all(db, m.id, submitted, FULL)
    listed = await surveys.for_member(db, m.id)
    assert [(item.survey.id, item.state) for item in listed] == [
        (submitted, "submitted"), (started, "started"), (untouched, "new")]
    assert [item.state for item in await surveys.for_member(db, other.id)] == ["new"] * 3
