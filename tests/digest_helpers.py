"""Temporary helpers for the digest tests: topic-group follows, questions and answers written
straight into the tables. The question services are being written in parallel; once they are on
`main`, these should go through them (`ask`, `answer`, `resolve`) instead."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from storage.db import Database
from storage.enums import QuestionStatus
from storage.models import Answer, GroupMember, GroupModerator, Question, TopicGroup


async def group_id(db: Database, code: str) -> int:
    async with db.read() as s:
        found = (await s.exec(select(TopicGroup.id).where(TopicGroup.code == code))).one()
        assert found is not None
        return found


async def follow(db: Database, member_id: int, *codes: str) -> None:
    for code in codes:
        gid = await group_id(db, code)
        async with db.transaction() as s:
            s.add(GroupMember(group_id=gid, member_id=member_id))


async def moderate(db: Database, member_id: int, code: str) -> None:
    gid = await group_id(db, code)
    async with db.transaction() as s:
        s.add(GroupModerator(group_id=gid, member_id=member_id))


async def ask(db: Database, asker_id: int, code: str, text: str, at: datetime,
              status: QuestionStatus = QuestionStatus.OPEN) -> int:
    gid = await group_id(db, code)
    async with db.transaction() as s:
        q = Question(group_id=gid, asker_id=asker_id, text=text, created_at=at, status=status)
        s.add(q)
        await s.flush()
        assert q.id is not None
        return q.id


async def answer(db: Database, question_id: int, author_id: int, at: datetime,
                 resolved: bool = False, text: str = "Ответ", useful: int = 0) -> int:
    async with db.transaction() as s:
        q = await s.get(Question, question_id)
        assert q is not None
        a = Answer(question_id=question_id, author_id=author_id, text=text, created_at=at,
                   useful_count=useful)
        s.add(a)
        await s.flush()
        q.status = QuestionStatus.RESOLVED if resolved else QuestionStatus.ANSWERED
        q.answered_at = q.answered_at or at
        if resolved:
            q.resolved_at = at
            q.accepted_answer_id = a.id
        assert a.id is not None
        return a.id
