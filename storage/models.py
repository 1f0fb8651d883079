"""The tables. Every schema change also gets an Alembic migration in `storage/migrations/`.

Names in three languages are columns (`name_ky`, `name_ru`, `name_en`) rather than a translation
table: reference data is small, edited rarely, and always read in one of exactly three languages.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Named(SQLModel):
    name_ky: str = Field(max_length=200)
    name_ru: str = Field(max_length=200)
    name_en: str = Field(max_length=200)

    def name(self, language: str) -> str:
        return str(getattr(self, f"name_{language}", None) or self.name_ru)


class Region(Named, table=True):
    __tablename__ = "region"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    kind: str = Field(max_length=20)
    sort: int = 0
    active: bool = True


class District(Named, table=True):
    __tablename__ = "district"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    sort: int = 0
    active: bool = True


class Municipality(Named, table=True):
    __tablename__ = "municipality"
    __table_args__ = (UniqueConstraint("district_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60)
    district_id: int = Field(foreign_key="district.id", index=True)
    kind: str = Field(max_length=20)
    active: bool = True
    # "confirmed" (shipped, imported, added by a district leader or confirmed by one), "pending"
    # (typed by a member; waits for the district leader or staff) or "merged" (into
    # `merged_into_id`: nothing points at it any more).
    status: str = Field(default="confirmed", max_length=20)
    merged_into_id: int | None = Field(default=None, foreign_key="municipality.id")
    # Who typed a pending name (no foreign key: member → municipality already has one).
    proposed_by_id: int | None = None
    created_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Community(Named, table=True):
    """A practice community: heads of aiyl okmotu, finance officers, deputies, secretaries."""

    __tablename__ = "community"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    sort: int = 0


class Member(SQLModel, table=True):
    __tablename__ = "member"
    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, unique=True, nullable=True)
    )
    username: str | None = Field(default=None, max_length=64, index=True)
    full_name: str = Field(max_length=120)
    language: str = Field(default="ky", max_length=2)
    position: str = Field(max_length=30)
    region_id: int | None = Field(default=None, foreign_key="region.id")
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True)
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id")
    # A municipality the member typed because it was not in the list; staff map it later.
    municipality_other: str | None = Field(default=None, max_length=120)
    status: str = Field(max_length=20, index=True)
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reachable: bool = True
    # Shown in the directory only when the member chose so in /settings.
    phone: str | None = Field(default=None, max_length=32)
    # The member deleted their account: every personal field above is erased.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="member.id")


class CommunityMembership(SQLModel, table=True):
    __tablename__ = "community_membership"
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    community_id: int = Field(foreign_key="community.id", primary_key=True, index=True)
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoleAssignment(SQLModel, table=True):
    """A role a member holds, optionally scoped to a community and a district.

    The partial unique index makes "the leader of community C in district D" unique.
    """

    __tablename__ = "role_assignment"
    __table_args__ = (
        UniqueConstraint("member_id", "role", "community_id", "district_id"),
        # One district leader per district: unique where role = 'district_leader'. The migration
        # (0001) gives PostgreSQL the same predicate; `postgresql_where` here would load
        # SQLAlchemy's PostgreSQL dialect into every Birge on SQLite (~2 MB idle, issue 20).
        # Alembic does not compare index predicates: models and migrations match on both.
        Index(
            "uq_district_leader",
            "community_id",
            "district_id",
            unique=True,
            sqlite_where=text("role = 'district_leader'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=30, index=True)
    community_id: int | None = Field(default=None, foreign_key="community.id")
    district_id: int | None = Field(default=None, foreign_key="district.id")
    granted_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Invite(SQLModel, table=True):
    __tablename__ = "invite"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    created_by_id: int = Field(foreign_key="member.id")
    role: str = Field(default="member", max_length=30)
    position: str | None = Field(default=None, max_length=30)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    community_id: int | None = Field(default=None, foreign_key="community.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_id: int | None = Field(default=None, foreign_key="member.id")
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditLog(SQLModel, table=True):
    """Who changed what, and which actions were denied."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    action: str = Field(max_length=60, index=True)
    target_type: str | None = Field(default=None, max_length=40)
    target_id: int | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Outbox(SQLModel, table=True):
    """A notification to someone other than the member acting now (transactional outbox).

    Services write rows in the same transaction as the change; `bot.delivery` renders them in the
    recipient's language at send time and sends them under Telegram's limits.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "priority", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # Set for the per-recipient rows of a broadcast: their states are its delivery report.
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id", index=True)
    kind: str = Field(max_length=60)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Lower goes first: 0 personal notices, 10 bulk broadcasts.
    priority: int = 0
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=300)
    telegram_message_id: int | None = None
    # Which process is sending the row ("sending") and until when its claim holds: a claim
    # that expired (its process died) is the only one recovery puts back in the queue.
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Broadcast(SQLModel, table=True):
    """A decision or announcement sent downward to the members it concerns."""

    __tablename__ = "broadcast"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    title: str = Field(max_length=200)  # in Russian; the fallback of the other two
    title_ky: str | None = Field(default=None, max_length=200)
    title_en: str | None = Field(default=None, max_length=200)
    text_ky: str = Field(max_length=4000)
    text_ru: str = Field(max_length=4000)
    text_en: str | None = Field(default=None, max_length=4000)
    source_url: str | None = Field(default=None, max_length=500)
    # Telegram file ids of the attached documents: [{"file_id", "name"}].
    documents: list[dict[str, Any]] = Field(default_factory=list,
                                            sa_column=Column(JSON, nullable=False))
    # {"roles": [...], "communities": [ids], "regions": [ids], "districts": [ids],
    #  "languages": [...], "members": [ids]}; empty means everyone.
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="draft", max_length=20, index=True)
    created_by_id: int = Field(foreign_key="member.id")
    approved_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    send_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    comments_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recipients: int = 0


class BroadcastResponse(SQLModel, table=True):
    """What a member did with a broadcast: acknowledged it, commented on a draft, asked."""

    __tablename__ = "broadcast_response"
    __table_args__ = (Index("ix_broadcast_response_kind", "broadcast_id", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    kind: str = Field(max_length=20)  # ack, comment, question
    text: str | None = Field(default=None, max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BroadcastOutcome(SQLModel, table=True):
    """How many of a broadcast's recipients ended in a status, by region and district: what
    remains of its outbox rows once the pruning job (bot/jobs/pruning.py) has deleted them, so
    its report keeps its figures. The report adds these counts to the rows that remain."""

    __tablename__ = "broadcast_outcome"
    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    region_id: int | None = None
    district_id: int | None = None
    status: str = Field(max_length=20)
    count: int = 0


class FsmRecord(SQLModel, table=True):
    """aiogram conversation state, kept in the database so a restart loses no flow."""

    __tablename__ = "fsm_record"
    key: str = Field(primary_key=True, max_length=200)
    state: str | None = Field(default=None, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UpdateLog(SQLModel, table=True):
    """Each Telegram update as it arrived, written before Telegram is told it was received
    (the next getUpdates offset, or the webhook's 200): an update whose handler a crash cut
    short is handled again on start (`storage/inbox.py`)."""

    __tablename__ = "update_log"
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Until then the process that received (or took over) the update is handling it.
    claimed_until: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class SendPace(SQLModel, table=True):
    """Telegram's limits for the bot as a whole, shared by every replica (PostgreSQL).

    Row 0 is the bot's next free sending slot; a row per chat is that chat's next slot for
    bulk messages. Taking a slot moves `next_at` on by one interval in one statement."""

    __tablename__ = "send_pace"
    key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    next_at: datetime = Field(sa_type=UTCDateTime)


class JobRun(SQLModel, table=True):
    """One scheduled run of a job (its slot): taken by one process, so a slot runs once."""

    __tablename__ = "job_run"
    name: str = Field(primary_key=True, max_length=100)
    slot: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    holder: str = Field(max_length=200)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SchedulerLease(SQLModel, table=True):
    """Which process runs scheduled jobs: two Birge processes on one database never both do."""

    __tablename__ = "scheduler_lease"
    name: str = Field(primary_key=True, max_length=50)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class TopicGroup(Named, table=True):
    """A topic group where members ask and answer; the practice communities are groups too.

    `community_id` set means the group is open only to that practice community's members.
    `forum_topic_id` is the group's thread in the forum supergroup, when there is one.
    """

    __tablename__ = "topic_group"
    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=40, unique=True)
    description_ky: str = Field(default="", max_length=1000)
    description_ru: str = Field(default="", max_length=1000)
    description_en: str = Field(default="", max_length=1000)
    community_id: int | None = Field(default=None, foreign_key="community.id", index=True)
    sort: int = 0
    forum_topic_id: int | None = None
    # The chat the topic is in: the shared forum for open groups, a community's own forum chat
    # (`FORUM_CHAT_IDS`) for a community group; never the shared forum for a community group.
    forum_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def description(self, language: str) -> str:
        return str(getattr(self, f"description_{language}", None) or self.description_ru)


class GroupMember(SQLModel, table=True):
    """A member who joined (follows) a topic group: they hear of its new questions."""

    __tablename__ = "group_member"
    group_id: int = Field(foreign_key="topic_group.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class GroupModerator(SQLModel, table=True):
    """A moderator of one topic group, appointed by Union staff."""

    __tablename__ = "group_moderator"
    group_id: int = Field(foreign_key="topic_group.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    appointed_by_id: int | None = Field(default=None, foreign_key="member.id")
    appointed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Question(SQLModel, table=True):
    """A member's question in a topic group (shown as Q-<id>)."""

    __tablename__ = "question"
    __table_args__ = (Index("ix_question_waiting", "status", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="topic_group.id", index=True)
    asker_id: int = Field(foreign_key="member.id", index=True)
    text: str = Field(max_length=3500)
    anonymous: bool = False
    # [{"file_id", "kind": "document"|"photo", "name", "size"}]
    attachments: list[dict[str, Any]] = Field(default_factory=list,
                                              sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", max_length=20)
    accepted_answer_id: int | None = None
    duplicate_of_id: int | None = Field(default=None, foreign_key="question.id")
    hidden_reason: str | None = Field(default=None, max_length=500)
    hidden_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    moderators_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    staff_escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    forum_message_id: int | None = None


class Answer(SQLModel, table=True):
    """An answer to a question, or the asker's follow-up (`is_follow_up`)."""

    __tablename__ = "answer"
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    author_id: int = Field(foreign_key="member.id", index=True)
    text: str = Field(max_length=3500)
    attachments: list[dict[str, Any]] = Field(default_factory=list,
                                              sa_column=Column(JSON, nullable=False))
    is_follow_up: bool = False
    useful_count: int = 0
    hidden_reason: str | None = Field(default=None, max_length=500)
    hidden_by_id: int | None = Field(default=None, foreign_key="member.id")
    forum_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AnswerVote(SQLModel, table=True):
    """A member marked an answer useful (once)."""

    __tablename__ = "answer_vote"
    answer_id: int = Field(foreign_key="answer.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StateBody(Named, table=True):
    """A state body the Union carries issues to (parliament committee, ministry, agency).

    Reference data staff edit by CSV like the districts (`storage/reference/state_bodies.csv`).
    """

    __tablename__ = "state_body"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    kind: str = Field(max_length=20)
    sort: int = 0
    active: bool = True


class Dossier(SQLModel, table=True):
    """An appeal to one state body that groups national issues; sent once, answered once."""

    __tablename__ = "dossier"
    id: int | None = Field(default=None, primary_key=True)
    state_body_id: int = Field(foreign_key="state_body.id", index=True)
    status: str = Field(default="draft", max_length=20, index=True)
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_via: str | None = Field(default=None, max_length=200)
    reference_number: str | None = Field(default=None, max_length=100)
    response_text: str | None = Field(default=None, max_length=4000)
    # Telegram file ids of the response's documents: [{"file_id", "name", "size", "mime"}].
    response_documents: list[dict[str, Any]] = Field(default_factory=list,
                                                     sa_column=Column(JSON, nullable=False))
    response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NationalIssue(SQLModel, table=True):
    """A local problem raised to the national level (shown as P-<id>).

    The backing counts are kept on the row (recounted on every co-signature and merge) so that
    the list can be ordered by "most municipalities affected" without a grouped join.
    """

    __tablename__ = "national_issue"
    # The issues list's order (most municipalities first): its first page without a sort.
    __table_args__ = (Index("ix_national_issue_ranking", "municipalities_count", "members_count",
                            "id"),)
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    topic: str = Field(max_length=30, index=True)
    problem: str = Field(max_length=4000)
    cause: str | None = Field(default=None, max_length=4000)
    solution: str = Field(max_length=4000)
    state_body_id: int | None = Field(default=None, foreign_key="state_body.id", index=True)
    documents: list[dict[str, Any]] = Field(default_factory=list,
                                            sa_column=Column(JSON, nullable=False))
    restricted: bool = False  # sensitive: only staff and the author see it
    state: str = Field(default="new", max_length=20, index=True)
    author_id: int = Field(foreign_key="member.id", index=True)
    # The author's place when they raised it, from their profile.
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id")
    municipality_other: str | None = Field(default=None, max_length=120)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    region_id: int | None = Field(default=None, foreign_key="region.id")
    merged_into_id: int | None = Field(default=None, foreign_key="national_issue.id")
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    decline_reason: str | None = Field(default=None, max_length=1000)
    response_text: str | None = Field(default=None, max_length=4000)
    members_count: int = 1
    municipalities_count: int = 0
    districts_count: int = 0
    regions_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IssueCosign(SQLModel, table=True):
    """A member saying "our municipality faces this too", once per issue, with their place."""

    __tablename__ = "issue_cosign"
    __table_args__ = (UniqueConstraint("issue_id", "member_id", name="uq_issue_cosign_member"),)
    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="national_issue.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    comment: str | None = Field(default=None, max_length=1000)
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id")
    municipality_other: str | None = Field(default=None, max_length=120)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    region_id: int | None = Field(default=None, foreign_key="region.id")
    # Set when the co-signature came with an issue merged into this one.
    carried_from_id: int | None = Field(default=None, foreign_key="national_issue.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LegalCase(SQLModel, table=True):
    """A private request for legal help: seen only by its requester, lawyers and Union staff."""

    __tablename__ = "legal_case"
    id: int | None = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="member.id", index=True)
    category: str = Field(max_length=30, index=True)
    summary: str = Field(max_length=4000)  # what happened
    act: str | None = Field(default=None, max_length=1000)  # the act or decision in question
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="new", max_length=20, index=True)
    assignee_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    consent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set once by the reminders job (conditional updates: never twice).
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=1000)
    rated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The requester's word on publishing an anonymised Q&A: None not asked, True/False.
    publish_consent: bool | None = None
    publication_status: str | None = Field(default=None, max_length=20)
    publication_question: str | None = Field(default=None, max_length=4000)
    publication_answer: str | None = Field(default=None, max_length=4000)
    prepared_by_id: int | None = Field(default=None, foreign_key="member.id")


class LegalCaseEvent(SQLModel, table=True):
    """One entry of a case's timeline: a message, an answer or a change of state, in order."""

    __tablename__ = "legal_case_event"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="legal_case.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="member.id")
    kind: str = Field(max_length=20)
    text: str | None = Field(default=None, max_length=4000)
    status: str | None = Field(default=None, max_length=20)  # the case's state after it
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LegalDocument(SQLModel, table=True):
    """A file attached to a case (by the requester or a lawyer): Telegram keeps the bytes."""

    __tablename__ = "legal_document"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="legal_case.id", index=True, ondelete="CASCADE")
    event_id: int | None = Field(default=None, foreign_key="legal_case_event.id")
    added_by_id: int | None = Field(default=None, foreign_key="member.id")
    file_id: str = Field(max_length=200)
    name: str = Field(max_length=200)
    mime_type: str | None = Field(default=None, max_length=100)
    size: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MemberSettings(SQLModel, table=True):
    """A member's digest schedule, quiet hours and the kinds of notification they want.

    A member without a row has the defaults (weekly, Monday 09:00, quiet hours on, everything
    wanted). `last_digest_at` is the schedule slot of the last digest built for them: moving it
    with a conditional update is what makes a digest go out once per slot, whoever runs the job.
    """

    __tablename__ = "member_settings"
    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE",
                                             name="fk_member_settings_member"),
                         primary_key=True))
    digest_frequency: str = Field(default="weekly", max_length=10)
    digest_weekday: int = 0  # Monday = 0, as in Python's date.weekday()
    digest_hour: int = 9  # local (Asia/Bishkek) hour
    quiet_hours: bool = True
    # NoticeCategory values the member switched off.
    muted: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    last_digest_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_queues_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The member directory (/people): hidden from it (leaders and staff stay listed), and what
    # of their contacts the card shows.
    directory_hidden: bool = False
    show_username: bool = False
    show_phone: bool = False


class DirectMessage(SQLModel, table=True):
    """One message a member wrote to another through Birge ("Write to them" in /people)."""

    __tablename__ = "direct_message"
    __table_args__ = (Index("ix_direct_message_sender", "sender_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    sender_id: int = Field(foreign_key="member.id")
    recipient_id: int = Field(foreign_key="member.id", index=True)
    text: str = Field(default="", max_length=2000)
    # {"file_id", "kind": "document"|"photo", "name", "size"} or empty.
    attachment: dict[str, Any] = Field(default_factory=dict,
                                       sa_column=Column(JSON, nullable=False))
    reply_to_id: int | None = Field(default=None, foreign_key="direct_message.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MemberBlock(SQLModel, table=True):
    """`member_id` takes no more messages from `blocked_id`."""

    __tablename__ = "member_block"
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    blocked_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LibraryItem(SQLModel, table=True):
    """A library item (shown as LIB-<id>): a practice, a legal act, a template, a method or a
    partner's product, in one topic group, with its texts in Kyrgyz and Russian (English
    optional) and its files.

    `texts` is {"ky": {"title", "body", "problem", …}, "ru": {…}, "en": {…}}: the fields a kind
    has (`bot.services.library.FIELDS`) in each language written. The titles are columns too, for
    lists and the exact-title ranking. `files` is [{"file_id" | "blob_id", "kind", "name",
    "size"}]: a file a member sent lives at Telegram, an imported one in `library_blob`.
    The counts are kept on the row (recounted on every vote and adoption) so that lists can be
    ordered by "most used" without a grouped join.
    """

    __tablename__ = "library_item"
    __table_args__ = (Index("ix_library_item_list", "group_id", "kind", "status", "published_at"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    group_id: int = Field(foreign_key="topic_group.id", index=True)
    status: str = Field(default="review", max_length=20, index=True)
    title_ky: str = Field(default="", max_length=200)
    title_ru: str = Field(default="", max_length=200)
    title_en: str = Field(default="", max_length=200)
    texts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    files: list[dict[str, Any]] = Field(default_factory=list,
                                        sa_column=Column(JSON, nullable=False))
    # A legal act's number as written, and as compared (lower case, no "№", no spaces).
    number: str | None = Field(default=None, max_length=100)
    number_key: str | None = Field(default=None, max_length=100, unique=True)
    adopted_on: date | None = None
    act_status: str | None = Field(default=None, max_length=20)  # in_force, amended, repealed
    link: str | None = Field(default=None, max_length=500)  # the official legal database
    author_id: int = Field(foreign_key="member.id", index=True)
    hide_contact: bool = False
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id")
    district_id: int | None = Field(default=None, foreign_key="district.id")
    review_comment: str | None = Field(default=None, max_length=1000)
    reviewed_by_id: int | None = Field(default=None, foreign_key="member.id")
    # Set on rows written by `birge library import`: makes a second import an update.
    import_key: str | None = Field(default=None, max_length=200, unique=True)
    useful_count: int = 0
    adoptions_count: int = 0
    municipalities_count: int = 0
    districts_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def title(self, language: str) -> str:
        for lang in (language, "ru", "ky", "en"):
            value = getattr(self, f"title_{lang}", "")
            if value:
                return str(value)
        return ""


class LibraryRevision(SQLModel, table=True):
    """What an item said before an edit: every edit keeps the previous version here."""

    __tablename__ = "library_revision"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="library_item.id", index=True)
    editor_id: int | None = Field(default=None, foreign_key="member.id")
    # {"title_ky", "title_ru", "title_en", "texts", "files", "number", "adopted_on", "status"}
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LibraryAdoption(SQLModel, table=True):
    """"Our municipality uses this": once per member and item, with their place at the time."""

    __tablename__ = "library_adoption"
    __table_args__ = (UniqueConstraint("item_id", "member_id", name="uq_library_adoption"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="library_item.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id")
    municipality_other: str | None = Field(default=None, max_length=120)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LibraryVote(SQLModel, table=True):
    """A member found a library item useful (once)."""

    __tablename__ = "library_vote"
    item_id: int = Field(foreign_key="library_item.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LibraryBlob(SQLModel, table=True):
    """A file imported from disk (`birge library import --files DIR`): kept in the database so
    every replica can send it; Telegram's file id is remembered after the first send."""

    __tablename__ = "library_blob"
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    size: int = 0
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    file_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DecisionReceipt(SQLModel, table=True):
    """A broadcast sent to a member: the decisions archive (`/decisions`) and search read these,
    so what a member received stays findable after its outbox rows are pruned."""

    __tablename__ = "decision_receipt"
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", primary_key=True, index=True)
class Survey(SQLModel, table=True):
    """A survey (shown as S-<id>), or a quick poll posted as a native Telegram poll.

    The questions are kept on the row as a list of dicts (`bot.services.survey_forms` says what
    each may hold): a survey's questions never change once it is open, and a response refers to
    them by name.
    """

    __tablename__ = "survey"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="survey", max_length=10)  # survey | poll
    title_ky: str = Field(max_length=200)
    title_ru: str = Field(max_length=200)
    title_en: str | None = Field(default=None, max_length=200)
    intro_ky: str = Field(default="", max_length=2000)
    intro_ru: str = Field(default="", max_length=2000)
    intro_en: str | None = Field(default=None, max_length=2000)
    questions: list[dict[str, Any]] = Field(default_factory=list,
                                            sa_column=Column(JSON, nullable=False))
    # The same shape as a broadcast's audience (`bot.services.broadcasts.Audience`).
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    per_municipality: bool = False
    anonymous: bool = False
    status: str = Field(default="open", max_length=20, index=True)
    deadline: datetime = Field(sa_type=UTCDateTime, index=True)
    created_by_id: int = Field(foreign_key="member.id", index=True)
    # A moderator's survey is for their topic group's members.
    group_id: int | None = Field(default=None, foreign_key="topic_group.id")
    # A quick poll in a topic group's forum thread.
    forum_thread_id: int | None = None
    # Anonymous surveys: the key of the one-way tokens; wiped when the survey closes.
    salt: str | None = Field(default=None, max_length=64)
    recipients: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    results_broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id")
    results_published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def title(self, language: str) -> str:
        return str(getattr(self, f"title_{language}", None) or self.title_ru)

    def intro(self, language: str) -> str:
        return str(getattr(self, f"intro_{language}", None) or self.intro_ru)


class SurveyInvite(SQLModel, table=True):
    """Who a survey was sent to: the base of the response rate and of the one reminder."""

    __tablename__ = "survey_invite"
    survey_id: int = Field(foreign_key="survey.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    region_id: int | None = Field(default=None, foreign_key="region.id")


class SurveyResponse(SQLModel, table=True):
    """One response: a member's, a municipality's, or an anonymous one.

    `key` is what makes a response unique in its survey: "m:<member id>", "mu:<municipality id>"
    or, for an anonymous survey, "a:<keyed one-way hash of the member id>" with no member id kept.
    A response is written as the member answers (`submitted_at` empty) so that they continue
    where they were after days or a restart; it counts once submitted.
    """

    __tablename__ = "survey_response"
    __table_args__ = (UniqueConstraint("survey_id", "key", name="uq_survey_response_key"),)
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    key: str = Field(max_length=80)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id")
    district_id: int | None = Field(default=None, foreign_key="district.id")
    region_id: int | None = Field(default=None, foreign_key="region.id")
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    current: str | None = Field(default=None, max_length=60)  # the question being answered
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class SurveyPoll(SQLModel, table=True):
    """A native Telegram poll Birge posted for a quick poll: where it is, to stop it later."""

    __tablename__ = "survey_poll"
    poll_id: str = Field(primary_key=True, max_length=100)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Event(SQLModel, table=True):
    """A webinar, training, exchange visit, board meeting, conference or community meeting.

    `registered` counts the confirmed seats; it moves only by conditional updates
    (`registered < capacity`), so two members can never take the last seat together.
    `sequence` is the calendar revision (RFC 5545 SEQUENCE): every change of time or place
    raises it, so a phone replaces the event it already holds.
    """

    __tablename__ = "event"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    title_ky: str = Field(max_length=200)
    title_ru: str = Field(max_length=200)
    title_en: str | None = Field(default=None, max_length=200)
    description_ky: str = Field(max_length=3000)
    description_ru: str = Field(max_length=3000)
    description_en: str | None = Field(default=None, max_length=3000)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    address: str | None = Field(default=None, max_length=300)
    online_url: str | None = Field(default=None, max_length=500)
    host_municipality_id: int | None = Field(default=None, foreign_key="municipality.id")
    capacity: int
    per_district: int | None = None  # at most this many registered from one district
    # Limits that differ by district, overriding `per_district`: {"<district id>": limit}.
    district_limits: dict[str, int] = Field(default_factory=dict,
                                            sa_column=Column(JSON, nullable=False))
    registration_until: datetime = Field(sa_type=UTCDateTime)
    # A broadcast's audience: {"roles": [...], "districts": [ids], ...}; empty is everyone.
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="published", max_length=20, index=True)
    registered: int = 0
    sequence: int = 0
    invitations: int = 0
    created_by_id: int = Field(foreign_key="member.id", index=True)
    approved_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    materials_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def title(self, language: str) -> str:
        return str(getattr(self, f"title_{language}", None) or self.title_ru)

    def description(self, language: str) -> str:
        return str(getattr(self, f"description_{language}", None) or self.description_ru)


class EventRegistration(SQLModel, table=True):
    """A member's answer to an event: registered, on the waiting list, maybe, not going or
    cancelled; attendance, the reminder markers (set once by conditional updates) and the
    rating after the event."""

    __tablename__ = "event_registration"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id", name="uq_event_registration_member"),
        Index("ix_event_registration_status", "event_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    status: str = Field(max_length=20)
    # The member's district when they answered (the per-district cap and the report use it).
    district_id: int | None = Field(default=None, foreign_key="district.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When the member took their current status: the waiting list moves up in this order.
    status_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attended: bool = False
    reminded_day_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_hour_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=1000)
    rated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EventMaterial(SQLModel, table=True):
    """A file the organiser shares with the attendees after the event: Telegram keeps it."""

    __tablename__ = "event_material"
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    added_by_id: int | None = Field(default=None, foreign_key="member.id")
    file_id: str = Field(max_length=200)  # "" for a library item
    # A library item shared as a material: attendees get a button to its card.
    library_item_id: int | None = Field(default=None, foreign_key="library_item.id")
    name: str = Field(max_length=200)
    mime_type: str | None = Field(default=None, max_length=100)
    size: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EventListWatch(SQLModel, table=True):
    """The organiser's open participant list: the message that is edited by itself when someone
    registers or cancels. `edit_due_at` is when the last edit was queued for; a change before it
    adds nothing (that edit reads the list when it is sent), so edits come at most one per
    `events_live.EDIT_EVERY` per organiser."""

    __tablename__ = "event_list_watch"
    __table_args__ = (UniqueConstraint("event_id", "member_id", name="uq_event_list_watch"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    message_id: int
    edit_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- the vertical loop (issue 18): positions on draft laws, liaisons, questions, figures ----------


class LawPosition(SQLModel, table=True):
    """The Union's position on a draft law (a draft-law broadcast), signed off by the district
    leaders and sent to a committee or state body as a letter."""

    __tablename__ = "law_position"
    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    addressee: str = Field(max_length=300)
    text_ky: str = Field(max_length=4000)
    text_ru: str = Field(max_length=4000)
    documents: list[dict[str, Any]] = Field(default_factory=list,
                                            sa_column=Column(JSON, nullable=False))
    # draft -> signoff -> final -> sent
    status: str = Field(default="draft", max_length=20, index=True)
    # The communities whose district leaders sign off (empty: all of them).
    community_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reference_number: str | None = Field(default=None, max_length=100)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PositionVote(SQLModel, table=True):
    """A district leader's sign-off: agree, agree with remarks, or disagree with a reason."""

    __tablename__ = "position_vote"
    __table_args__ = (UniqueConstraint("position_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    position_id: int = Field(foreign_key="law_position.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    community_id: int | None = Field(default=None, foreign_key="community.id")
    district_id: int | None = Field(default=None, foreign_key="district.id")
    vote: str = Field(max_length=20)
    remark: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BillStage(SQLModel, table=True):
    """A step of a draft law through the parliament: registered, readings, adopted, signed."""

    __tablename__ = "bill_stage"
    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    stage: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=500)
    by_id: int = Field(foreign_key="member.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EffectReport(SQLModel, table=True):
    """How an adopted law works out in a member's community (asked by a "law adopted" broadcast)."""

    __tablename__ = "effect_report"
    __table_args__ = (UniqueConstraint("broadcast_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    district_id: int | None = Field(default=None, foreign_key="district.id")
    changed: str = Field(max_length=2000)
    problem: str | None = Field(default=None, max_length=2000)
    figures: str | None = Field(default=None, max_length=500)
    documents: list[dict[str, Any]] = Field(default_factory=list,
                                            sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EffectRequest(SQLModel, table=True):
    """A "law adopted" broadcast whose recipients are asked to report its effect."""

    __tablename__ = "effect_request"
    broadcast_id: int = Field(foreign_key="broadcast.id", primary_key=True)
    by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StateLiaison(SQLModel, table=True):
    """Which state body a state-body liaison answers for."""

    __tablename__ = "state_liaison"
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    state_body_id: int = Field(foreign_key="state_body.id", index=True)


class LiaisonReply(SQLModel, table=True):
    """A liaison's response to (or request for clarification on) an issue or dossier."""

    __tablename__ = "liaison_reply"
    id: int | None = Field(default=None, primary_key=True)
    issue_id: int | None = Field(default=None, foreign_key="national_issue.id", index=True)
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    by_id: int = Field(foreign_key="member.id")
    kind: str = Field(max_length=20)  # response, clarification
    text: str = Field(max_length=4000)
    reference_number: str | None = Field(default=None, max_length=100)
    documents: list[dict[str, Any]] = Field(default_factory=list,
                                            sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DecisionQuestion(SQLModel, table=True):
    """The staff inbox state of a member's question about a broadcast ("Ask about this")."""

    __tablename__ = "decision_question"
    response_id: int = Field(foreign_key="broadcast_response.id", primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    assigned_to_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    answered_by_id: int | None = Field(default=None, foreign_key="member.id")
    answer: str | None = Field(default=None, max_length=2000)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    follow_up_id: int | None = Field(default=None, foreign_key="decision_follow_up.id")


class DecisionFollowUp(SQLModel, table=True):
    """One answer to a question many asked, sent to every recipient of the broadcast."""

    __tablename__ = "decision_follow_up"
    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    text: str = Field(max_length=2000)
    by_id: int = Field(foreign_key="member.id")
    recipients: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AnnualReport(SQLModel, table=True):
    """The annual report to the President: a draft, a consultation round, then final."""

    __tablename__ = "annual_report"
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    status: str = Field(default="draft", max_length=20)  # draft, consultation, final
    survey_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finalised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AnnualReportComment(SQLModel, table=True):
    """A district leader's or liaison's comment on the annual report's draft."""

    __tablename__ = "annual_report_comment"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="annual_report.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    text: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
