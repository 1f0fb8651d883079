"""The digest tests' shorthand for topic-group activity, built through the services.

Following a group (`groups.join_group`), being appointed its moderator by Union staff
(`groups.appoint_moderator`), asking (`questions.ask_question`), answering, accepting an answer,
marking it useful and hiding a question all go through the real services, so the data is what
Birge itself would write (notifications, search index and audit included). Each helper takes the
moment it happens: the clock is held there (time-machine, not ticking) during the service call,
so the services' own `utcnow()` stamps `created_at`, `answered_at` and `resolved_at` with it.
"""

from __future__ import annotations

import string
from datetime import datetime

import time_machine
from sqlmodel import col, select

from bot.services import groups, questions
from bot.services.questions import QuestionDraft
from storage.db import Database
from storage.enums import MemberStatus, QuestionStatus, Role
from storage.models import Member, Question, RoleAssignment
from tests import factories as f

HIDDEN_REASON = "Скрыт модератором"


async def group_id(db: Database, code: str) -> int:
    """A seeded topic group's id by its code."""
    return await f.group_id(db, code)


async def union_staff(db: Database) -> int:
    """An active Union staff member of this database: the first one there is (`f.member` has
    already bootstrapped one to approve the members), created only when there is none."""
    async with db.read() as s:
        found = (await s.exec(
            select(RoleAssignment.member_id)
            .join(Member, col(Member.id) == RoleAssignment.member_id)
            .where(RoleAssignment.role == Role.UNION_STAFF,
                   Member.status == MemberStatus.ACTIVE)
            .order_by(col(RoleAssignment.member_id)))).first()
    return found if found is not None else await f.staff(db)


async def follow(db: Database, member_id: int, *codes: str) -> None:
    """The member joins (follows) each group."""
    for code in codes:
        await groups.join_group(db, member_id, await group_id(db, code))


async def moderate(db: Database, member_id: int, code: str) -> None:
    """Union staff appoint the member moderator of the group (which also makes them follow it)."""
    await groups.appoint_moderator(db, await union_staff(db), await group_id(db, code),
                                   member_id)


async def ask(db: Database, asker_id: int, code: str, text: str, at: datetime,
              status: QuestionStatus = QuestionStatus.OPEN) -> int:
    """A question asked at `at`; with `status=HIDDEN`, Union staff then hide it."""
    if status not in (QuestionStatus.OPEN, QuestionStatus.HIDDEN):
        raise ValueError(f"ask() makes open or hidden questions, not {status}: "
                         "use answer() for answered or resolved ones")
    gid = await group_id(db, code)
    hider = await union_staff(db) if status == QuestionStatus.HIDDEN else None
    with time_machine.travel(at, tick=False):
        question_id = await questions.ask_question(db, asker_id, QuestionDraft(gid, text))
        if hider is not None:
            await questions.hide_question(db, hider, question_id, HIDDEN_REASON)
    return question_id


def _voter_name(n: int) -> str:
    """A distinct name for the n-th voter (names take letters, not digits): Voter A, …, Voter BA."""
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = string.ascii_uppercase[rest] + letters
    return f"Voter {letters.capitalize()}"


async def answer(db: Database, question_id: int, author_id: int, at: datetime,
                 resolved: bool = False, text: str = "Ответ", useful: int = 0) -> int:
    """An answer given at `at`; `useful` new members mark it useful, and with `resolved` the
    asker accepts it (resolving the question at `at`)."""
    voters = [(await f.member(db, _voter_name(n))).id for n in range(useful)]
    with time_machine.travel(at, tick=False):
        answer_id = await questions.answer_question(db, author_id, question_id, text)
        for voter in voters:
            assert await questions.mark_useful(db, voter, answer_id)
        if resolved:
            async with db.read() as s:
                question = await s.get(Question, question_id)
                assert question is not None
                asker_id = question.asker_id
            await questions.accept_answer(db, asker_id, answer_id)
    return answer_id
