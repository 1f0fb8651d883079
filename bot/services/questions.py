"""Questions and answers in topic groups: every state change of a question is one function here.

A question (Q-<id>) is asked in one group, optionally anonymously: an anonymous asker is shown to
the group's moderators and Union staff only, never to peers or the forum. Answers come from the
bot's answer flow or as replies to the question's post in the forum thread. The asker accepts one
answer (→ resolved) or asks a follow-up; moderators resolve, close duplicates and hide abuse.
Every change that alters what a question shows re-indexes it for the knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit, files, forums, groups, labels, notify, policy, search
from bot.services.errors import InvalidInput, InvalidState, NotFound
from bot.services.forums import Forums
from storage.db import Database
from storage.enums import AttachmentKind, QuestionStatus, Role
from storage.models import (
    Answer,
    AnswerVote,
    GroupMember,
    GroupModerator,
    Member,
    Question,
    RoleAssignment,
    TopicGroup,
)
from storage.types import utcnow

QUESTION_MIN = 10
QUESTION_MAX = 3500
ANSWER_MIN = 2
ANSWER_MAX = 3500
REASON_MAX = 500
ATTACHMENTS_MAX = 5

VISIBLE = (QuestionStatus.OPEN, QuestionStatus.ANSWERED, QuestionStatus.RESOLVED)


def label(question_id: int) -> str:
    return f"Q-{question_id}"


def parse_label(value: str) -> int | None:
    """"Q-123", "q123", "#123" or "123" → 123."""
    return labels.parse_label(value, "Q")


def _attachments(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(items) > ATTACHMENTS_MAX:
        raise InvalidInput("attachments_count", limit=ATTACHMENTS_MAX)
    clean = []
    for item in items:
        kind = AttachmentKind(item.get("kind", "document"))
        name = files.check_file(item.get("name"), item.get("mime"), item.get("size"))
        clean.append({"file_id": str(item["file_id"])[:200], "kind": kind.value, "name": name,
                      "size": int(item.get("size") or 0)})
    return clean


def _text(value: str, minimum: int, maximum: int, code: str) -> str:
    value = value.strip()
    if not minimum <= len(value) <= maximum:
        raise InvalidInput(code, minimum=minimum, limit=maximum)
    return value


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerView:
    id: int
    author: str
    text: str
    attachments: list[dict[str, Any]]
    is_follow_up: bool
    useful: int
    accepted: bool
    hidden_reason: str | None
    created_at: datetime
    mine: bool


@dataclass(frozen=True)
class QuestionCard:
    id: int
    group_id: int
    group_name: str
    asker: str | None  # None: anonymous to this viewer
    anonymous: bool
    text: str
    attachments: list[dict[str, Any]]
    status: QuestionStatus
    created_at: datetime
    duplicate_of_id: int | None
    hidden_reason: str | None
    answers: list[AnswerView] = field(default_factory=list)
    is_asker: bool = False
    can_answer: bool = False
    moderates: bool = False


@dataclass(frozen=True)
class MyQuestion:
    id: int
    text: str
    status: QuestionStatus
    answers: int


async def _question(session: AsyncSession, question_id: int) -> Question:
    question = await session.get(Question, question_id)
    if question is None:
        raise NotFound(what="question")
    return question


async def _readable(db: Database, s: AsyncSession, actor_id: int,
                    question: Question) -> groups.Access:
    """The viewer's access to the question's group; refuses what they may not read."""
    actor = await policy.load_actor(s, actor_id)
    a = await groups.access(s, actor, question.group_id)
    hidden_from_them = (question.status == QuestionStatus.HIDDEN
                        and not policy.can_moderate(actor, a.moderates)
                        and question.asker_id != actor_id)
    if not a.sees or hidden_from_them:
        await policy.ensure(db, actor, False, policy.Action.VIEW_QUESTION, question.id)
    return a


async def question_card(db: Database, actor_id: int, question_id: int,
                        language: str) -> QuestionCard:
    """A question with its answers, the accepted one first, as this viewer may see it."""
    async with db.read() as s:
        question = await _question(s, question_id)
        a = await _readable(db, s, actor_id, question)
        moderates = policy.can_moderate(a.actor, a.moderates)
        asker = await s.get(Member, question.asker_id)
        shown_asker: str | None = asker.full_name if asker else "?"
        if question.anonymous and not moderates and question.asker_id != actor_id:
            shown_asker = None
        rows = (await s.exec(
            select(Answer, Member.full_name).join(Member, col(Member.id) == Answer.author_id)
            .where(Answer.question_id == question_id).order_by(col(Answer.id)))).all()
    answers = []
    for answer, author in rows:
        if answer.hidden_reason is not None and not moderates and answer.author_id != actor_id:
            continue
        answers.append(AnswerView(
            id=answer.id or 0,
            author=(shown_asker or "") if answer.author_id == question.asker_id else author,
            text=answer.text, attachments=list(answer.attachments),
            is_follow_up=answer.is_follow_up, useful=answer.useful_count,
            accepted=answer.id == question.accepted_answer_id,
            hidden_reason=answer.hidden_reason, created_at=answer.created_at,
            mine=answer.author_id == actor_id))
    answers.sort(key=lambda v: (not v.accepted,))
    return QuestionCard(
        id=question_id, group_id=question.group_id, group_name=a.group.name(language),
        asker=shown_asker, anonymous=question.anonymous, text=question.text,
        attachments=list(question.attachments), status=QuestionStatus(question.status),
        created_at=question.created_at, duplicate_of_id=question.duplicate_of_id,
        hidden_reason=question.hidden_reason, answers=answers,
        is_asker=question.asker_id == actor_id,
        can_answer=policy.can_answer(a.actor, a.sees, a.moderates)
        and question.status in VISIBLE and a.group.archived_at is None,
        moderates=moderates)


async def my_questions(db: Database, actor_id: int, limit: int = 30) -> list[MyQuestion]:
    async with db.read() as s:
        questions = (await s.exec(select(Question).where(Question.asker_id == actor_id)
                                  .order_by(col(Question.id).desc()).limit(limit))).all()
        counts: dict[int, int] = {}
        if questions:
            for qid in (await s.exec(select(Answer.question_id).where(
                    col(Answer.question_id).in_([q.id for q in questions]),
                    col(Answer.is_follow_up).is_(False),
                    col(Answer.hidden_reason).is_(None)))).all():
                counts[qid] = counts.get(qid, 0) + 1
    return [MyQuestion(q.id or 0, q.text, QuestionStatus(q.status), counts.get(q.id or 0, 0))
            for q in questions]


# --- asking ----------------------------------------------------------------------------------


@dataclass
class QuestionDraft:
    group_id: int
    text: str
    attachments: list[dict[str, Any]] = field(default_factory=list)
    anonymous: bool = False


async def _moderators(s: AsyncSession, group_id: int) -> list[int]:
    return list((await s.exec(select(GroupModerator.member_id).where(
        GroupModerator.group_id == group_id))).all())


async def _staff(s: AsyncSession) -> list[int]:
    return sorted(set((await s.exec(select(RoleAssignment.member_id).where(
        RoleAssignment.role == Role.UNION_STAFF))).all()))


async def _post_to_forum(s: AsyncSession, forum_chat_id: int | Forums | None,
                         group: TopicGroup, kind: str, **payload: Any) -> None:
    """Mirror a post in the group's forum thread, only in a chat the group may be mirrored in
    (`bot.services.forums`): a community's group never reaches the shared forum."""
    chat = await forums.mirror_chat(s, forum_chat_id, group)
    if chat is not None:
        notify.enqueue_chat(s, chat, kind, thread_id=group.forum_topic_id, **payload)


async def ask_question(db: Database, actor_id: int, draft: QuestionDraft,
                       forum_chat_id: int | Forums | None = None,
                       notify_also: tuple[int, ...] = ()
                       ) -> int:
    """Post a question; its group's moderators and followers (and `notify_also`: a library
    item's author) hear of it. Returns its id."""
    text = _text(draft.text, QUESTION_MIN, QUESTION_MAX, "question_length")
    attachments = _attachments(draft.attachments)
    async with db.transaction() as s:
        actor = await policy.load_actor(s, actor_id)
        a = await groups.access(s, actor, draft.group_id)
        await policy.ensure(db, actor, a.sees, policy.Action.ASK_QUESTION, draft.group_id)
        if a.group.archived_at is not None:
            raise InvalidState("group_archived")
        question = Question(group_id=draft.group_id, asker_id=actor_id, text=text,
                            anonymous=draft.anonymous, attachments=attachments)
        s.add(question)
        if not a.joined:
            s.add(GroupMember(group_id=draft.group_id, member_id=actor_id))
        await s.flush()
        assert question.id is not None
        followers = set((await s.exec(select(GroupMember.member_id).where(
            GroupMember.group_id == draft.group_id))).all())
        recipients = (followers | set(await _moderators(s, draft.group_id))
                      | set(notify_also)) - {actor_id}
        await notify.enqueue_many(s, sorted(recipients), "question_new",
                                  question_id=question.id)
        await _post_to_forum(s, forum_chat_id, a.group, "forum_question",
                             question_id=question.id)
        await search.reindex(s, question.id)
        audit.record(s, actor_id, "question_asked", "question", question.id)
        return question.id


# --- answering -------------------------------------------------------------------------------


async def answer_question(db: Database, actor_id: int, question_id: int, text: str,
                          attachments: list[dict[str, Any]] | None = None, *,
                          forum_chat_id: int | Forums | None = None,
                          forum_message_id: int | None = None) -> int:
    """Answer a question (from the bot or the forum thread); the asker hears of it."""
    text = _text(text, ANSWER_MIN, ANSWER_MAX, "answer_length")
    clean = _attachments(attachments or [])
    async with db.transaction() as s:
        question = await _question(s, question_id)
        actor = await policy.load_actor(s, actor_id)
        a = await groups.access(s, actor, question.group_id)
        allowed = policy.can_answer(actor, a.sees, a.moderates)
        await policy.ensure(db, actor, allowed, policy.Action.ANSWER_QUESTION, question_id)
        if question.asker_id == actor_id:
            raise InvalidState("own_question")  # the asker adds a follow-up instead
        if question.status not in VISIBLE or a.group.archived_at is not None:
            raise InvalidState("question_closed")
        answer = Answer(question_id=question_id, author_id=actor_id, text=text,
                        attachments=clean, forum_message_id=forum_message_id)
        s.add(answer)
        if not a.joined:
            s.add(GroupMember(group_id=question.group_id, member_id=actor_id))
        await s.flush()
        assert answer.id is not None
        if question.answered_at is None:
            question.answered_at = utcnow()
        if question.status == QuestionStatus.OPEN:
            question.status = QuestionStatus.ANSWERED
        notify.enqueue(s, question.asker_id, "question_answered", question_id=question_id,
                       answer_id=answer.id)
        if forum_message_id is None:
            await _post_to_forum(s, forum_chat_id, a.group, "forum_answer",
                                 question_id=question_id,
                           answer_id=answer.id)
        audit.record(s, actor_id, "question_answered", "question", question_id,
                     answer_id=answer.id)
        return answer.id


async def follow_up(db: Database, actor_id: int, question_id: int, text: str,
                    attachments: list[dict[str, Any]] | None = None) -> int:
    """The asker adds to their question; it opens again and those who answered hear of it."""
    text = _text(text, ANSWER_MIN, ANSWER_MAX, "answer_length")
    clean = _attachments(attachments or [])
    async with db.transaction() as s:
        question = await _question(s, question_id)
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_accept(actor, question.asker_id),
                            policy.Action.ACCEPT_ANSWER, question_id)
        if question.status not in VISIBLE:
            raise InvalidState("question_closed")
        answer = Answer(question_id=question_id, author_id=actor_id, text=text,
                        attachments=clean, is_follow_up=True)
        s.add(answer)
        await s.flush()
        question.status = QuestionStatus.OPEN
        question.resolved_at = None
        question.accepted_answer_id = None
        answerers = set((await s.exec(select(Answer.author_id).where(
            Answer.question_id == question_id, col(Answer.is_follow_up).is_(False)))).all())
        for member_id in sorted((answerers | set(await _moderators(s, question.group_id)))
                                - {actor_id}):
            notify.enqueue(s, member_id, "question_follow_up", question_id=question_id,
                           answer_id=answer.id)
        await search.reindex(s, question_id)
        audit.record(s, actor_id, "question_follow_up", "question", question_id)
        assert answer.id is not None
        return answer.id


async def accept_answer(db: Database, actor_id: int, answer_id: int) -> int:
    """The asker accepts an answer: the question is resolved. Returns the question id."""
    async with db.transaction() as s:
        answer = await s.get(Answer, answer_id)
        if answer is None:
            raise NotFound(what="answer")
        question = await _question(s, answer.question_id)
        actor = await policy.load_actor(s, actor_id)
        await policy.ensure(db, actor, policy.can_accept(actor, question.asker_id),
                            policy.Action.ACCEPT_ANSWER, answer_id)
        if answer.is_follow_up or answer.hidden_reason is not None:
            raise InvalidState("answer_not_acceptable")
        if question.status not in VISIBLE:
            raise InvalidState("question_closed")
        if question.accepted_answer_id == answer_id:
            return question.id or 0
        question.accepted_answer_id = answer_id
        question.status = QuestionStatus.RESOLVED
        question.resolved_at = utcnow()
        if answer.author_id != actor_id:
            notify.enqueue(s, answer.author_id, "answer_accepted",
                           question_id=question.id, answer_id=answer_id)
        await search.reindex(s, question.id or 0)
        audit.record(s, actor_id, "answer_accepted", "question", question.id,
                     answer_id=answer_id)
        return question.id or 0


async def mark_useful(db: Database, actor_id: int, answer_id: int) -> bool:
    """A member marks an answer useful, once; False if they already did."""
    async with db.transaction() as s:
        answer = await s.get(Answer, answer_id)
        if answer is None or answer.hidden_reason is not None:
            raise NotFound(what="answer")
        question = await _question(s, answer.question_id)
        await _readable(db, s, actor_id, question)
        if answer.author_id == actor_id:
            raise InvalidState("own_answer")
        if await s.get(AnswerVote, (answer_id, actor_id)) is not None:
            return False
        s.add(AnswerVote(answer_id=answer_id, member_id=actor_id))
        await s.exec(update(Answer).where(col(Answer.id) == answer_id)
                     .values(useful_count=col(Answer.useful_count) + 1))
        return True


# --- moderating ------------------------------------------------------------------------------


async def _moderated(db: Database, s: AsyncSession, actor_id: int,
                     question: Question) -> groups.Access:
    actor = await policy.load_actor(s, actor_id)
    a = await groups.access(s, actor, question.group_id)
    await policy.ensure(db, actor, policy.can_moderate(actor, a.moderates),
                        policy.Action.MODERATE_QUESTION, question.id)
    return a


async def mark_resolved(db: Database, actor_id: int, question_id: int) -> bool:
    async with db.transaction() as s:
        question = await _question(s, question_id)
        await _moderated(db, s, actor_id, question)
        if question.status == QuestionStatus.RESOLVED:
            return False
        if question.status not in VISIBLE:
            raise InvalidState("question_closed")
        question.status = QuestionStatus.RESOLVED
        question.resolved_at = utcnow()
        if question.asker_id != actor_id:
            notify.enqueue(s, question.asker_id, "question_resolved", question_id=question_id)
        await search.reindex(s, question_id)
        audit.record(s, actor_id, "question_resolved", "question", question_id)
        return True


async def close_as_duplicate(db: Database, actor_id: int, question_id: int,
                             original_id: int) -> None:
    """Close a question as a duplicate; the asker is pointed to the original."""
    async with db.transaction() as s:
        question = await _question(s, question_id)
        await _moderated(db, s, actor_id, question)
        original = await s.get(Question, original_id)
        if (original is None or original_id == question_id
                or original.status not in VISIBLE):
            raise InvalidInput("duplicate_target")
        if question.status not in VISIBLE:
            raise InvalidState("question_closed")
        question.status = QuestionStatus.DUPLICATE
        question.duplicate_of_id = original_id
        notify.enqueue(s, question.asker_id, "question_duplicate", question_id=question_id,
                       original_id=original_id)
        await search.reindex(s, question_id)
        audit.record(s, actor_id, "question_duplicate", "question", question_id,
                     original_id=original_id)


async def hide_question(db: Database, actor_id: int, question_id: int, reason: str) -> None:
    reason = _text(reason, 3, REASON_MAX, "reason_length")
    async with db.transaction() as s:
        question = await _question(s, question_id)
        await _moderated(db, s, actor_id, question)
        if question.status == QuestionStatus.HIDDEN:
            return
        question.status = QuestionStatus.HIDDEN
        question.hidden_reason = reason
        question.hidden_by_id = actor_id
        notify.enqueue(s, question.asker_id, "question_hidden", question_id=question_id)
        await search.reindex(s, question_id)
        audit.record(s, actor_id, "question_hidden", "question", question_id, reason=reason)


async def hide_answer(db: Database, actor_id: int, answer_id: int, reason: str) -> int:
    """Hide an abusive answer (an accepted one stops being accepted). Returns the question id."""
    reason = _text(reason, 3, REASON_MAX, "reason_length")
    async with db.transaction() as s:
        answer = await s.get(Answer, answer_id)
        if answer is None:
            raise NotFound(what="answer")
        question = await _question(s, answer.question_id)
        await _moderated(db, s, actor_id, question)
        if answer.hidden_reason is not None:
            return question.id or 0
        answer.hidden_reason = reason
        answer.hidden_by_id = actor_id
        if question.accepted_answer_id == answer_id:
            question.accepted_answer_id = None
            question.status = QuestionStatus.ANSWERED
            question.resolved_at = None
        notify.enqueue(s, answer.author_id, "answer_hidden", question_id=question.id,
                       answer_id=answer_id)
        await search.reindex(s, question.id or 0)
        audit.record(s, actor_id, "answer_hidden", "answer", answer_id, reason=reason)
        return question.id or 0


# --- the forum -------------------------------------------------------------------------------


async def record_forum_post(s: AsyncSession, payload: dict[str, Any], message_id: int) -> None:
    """After the worker posted a question or answer in the forum: remember the message."""
    if "answer_id" in payload:
        await s.exec(update(Answer).where(col(Answer.id) == payload["answer_id"])
                     .values(forum_message_id=message_id))
    elif "question_id" in payload:
        await s.exec(update(Question).where(col(Question.id) == payload["question_id"])
                     .values(forum_message_id=message_id))


async def question_for_forum_reply(db: Database, replied_message_id: int,
                                   chat_id: int | None = None) -> int | None:
    """The question whose forum post (or an answer's post) a thread reply answers; with
    `chat_id`, only a question whose group is mirrored in that chat (message ids are per chat)."""
    async with db.read() as s:
        found = list((await s.exec(select(Question.id).where(
            Question.forum_message_id == replied_message_id))).all())
        found += list((await s.exec(select(Answer.question_id).where(
            Answer.forum_message_id == replied_message_id))).all())
        for qid in found:
            if chat_id is None:
                return qid
            question = await s.get(Question, qid)
            group = await s.get(TopicGroup, question.group_id) if question else None
            if group is not None and group.forum_chat_id in (chat_id, None):
                return qid
        return None


# --- escalation (run by the scheduler) -------------------------------------------------------


async def escalate_unanswered(db: Database, now: datetime, moderator_hours: float,
                              staff_hours: float) -> tuple[int, int]:
    """Remind moderators of questions unanswered for `moderator_hours`, and Union staff after
    `staff_hours`. Each reminder is claimed by a conditional update, so it goes out once however
    often (or in how many processes) this runs. Returns (reminded, escalated)."""
    reminded = escalated = 0
    async with db.transaction() as s:
        due = (await s.exec(select(Question).where(
            Question.status == QuestionStatus.OPEN, col(Question.answered_at).is_(None),
            col(Question.moderators_reminded_at).is_(None),
            col(Question.created_at) <= now - timedelta(hours=moderator_hours)))).all()
        for question in due:
            claimed = await s.exec(update(Question).where(
                col(Question.id) == question.id,
                col(Question.moderators_reminded_at).is_(None)).values(
                moderators_reminded_at=now))
            if not claimed.rowcount:
                continue
            for member_id in await _moderators(s, question.group_id):
                notify.enqueue(s, member_id, "question_unanswered", question_id=question.id,
                               hours=int(moderator_hours))
            reminded += 1
        late = (await s.exec(select(Question).where(
            Question.status == QuestionStatus.OPEN, col(Question.answered_at).is_(None),
            col(Question.staff_escalated_at).is_(None),
            col(Question.created_at) <= now - timedelta(hours=staff_hours)))).all()
        staff = await _staff(s) if late else []
        for question in late:
            claimed = await s.exec(update(Question).where(
                col(Question.id) == question.id,
                col(Question.staff_escalated_at).is_(None)).values(staff_escalated_at=now))
            if not claimed.rowcount:
                continue
            for member_id in staff:
                notify.enqueue(s, member_id, "question_escalated", question_id=question.id,
                               hours=int(staff_hours))
            escalated += 1
    return reminded, escalated


async def question_of_answer(db: Database, answer_id: int) -> int | None:
    async with db.read() as s:
        answer = await s.get(Answer, answer_id)
        return answer.question_id if answer is not None else None


async def answer_files(db: Database, actor_id: int, answer_id: int) -> list[dict[str, Any]]:
    """An answer's attachments, for a member who may read the question."""
    async with db.read() as s:
        answer = await s.get(Answer, answer_id)
        if answer is None:
            raise NotFound(what="answer")
        question = await _question(s, answer.question_id)
        a = await _readable(db, s, actor_id, question)
        if answer.hidden_reason is not None and not policy.can_moderate(a.actor, a.moderates):
            raise NotFound(what="answer")
        return list(answer.attachments)


async def publish_answered(s: AsyncSession, *, group_code: str, asker_id: int,
                           answerer_id: int, question_text: str, answer_text: str) -> int:
    """Put an already answered question into the knowledge base (a legal case's anonymised
    Q&A): resolved, its answer accepted, asked anonymously, nobody notified. Runs inside the
    caller's transaction, which has checked who may publish."""
    group = (await s.exec(select(TopicGroup).where(TopicGroup.code == group_code))).first()
    if group is None or group.id is None:
        raise NotFound(what="group")
    now = utcnow()
    question = Question(group_id=group.id, asker_id=asker_id, anonymous=True,
                        text=_text(question_text[:QUESTION_MAX], QUESTION_MIN, QUESTION_MAX,
                                   "question_length"),
                        status=QuestionStatus.RESOLVED, answered_at=now, resolved_at=now)
    s.add(question)
    await s.flush()
    assert question.id is not None
    answer = Answer(question_id=question.id, author_id=answerer_id,
                    text=_text(answer_text[:ANSWER_MAX], ANSWER_MIN, ANSWER_MAX,
                               "answer_length"))
    s.add(answer)
    await s.flush()
    question.accepted_answer_id = answer.id
    await search.reindex(s, question.id)
    return question.id
