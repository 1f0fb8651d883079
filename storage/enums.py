"""The closed vocabularies stored in columns: positions, roles, member states, outbox states."""

from __future__ import annotations

from enum import StrEnum


class Position(StrEnum):
    HEAD_AO = "head_ao"  # head of aiyl okmotu / mayor
    FINANCE = "finance"  # finance officer
    DEPUTY = "deputy"  # local kenesh deputy
    SECRETARY = "secretary"  # responsible secretary
    MUNICIPAL_STAFF = "municipal_staff"
    STATE_BODY = "state_body"
    NGO = "ngo"
    EXPERT = "expert"


# Positions whose people work in a municipality (and so pick one during onboarding).
MUNICIPAL_POSITIONS = frozenset(
    {Position.HEAD_AO, Position.FINANCE, Position.DEPUTY, Position.SECRETARY,
     Position.MUNICIPAL_STAFF}
)


class Role(StrEnum):
    MEMBER = "member"
    DISTRICT_LEADER = "district_leader"
    MODERATOR = "moderator"
    EXPERT = "expert"  # expert or lawyer
    UNION_STAFF = "union_staff"
    STATE_LIAISON = "state_liaison"
    PARTNER = "partner"  # NGO or donor


class MemberStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    # Imported from a spreadsheet but has not opened the bot yet.
    INVITED = "invited"


class RegionKind(StrEnum):
    OBLAST = "oblast"
    CITY = "city"


class MunicipalityKind(StrEnum):
    AIYL_AIMAK = "aiyl_aimak"
    TOWN = "town"
    CITY = "city"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"


# Community codes that exist from the start.
class CommunityCode(StrEnum):
    HEADS = "heads"
    FINANCE = "finance"
    DEPUTIES = "deputies"
    SECRETARIES = "secretaries"


POSITION_COMMUNITY: dict[Position, CommunityCode] = {
    Position.HEAD_AO: CommunityCode.HEADS,
    Position.FINANCE: CommunityCode.FINANCE,
    Position.DEPUTY: CommunityCode.DEPUTIES,
    Position.SECRETARY: CommunityCode.SECRETARIES,
}


class BroadcastKind(StrEnum):
    LAW = "law"  # a law adopted by the Jogorku Kenesh
    DRAFT_LAW = "draft"  # a draft law for discussion: members comment until a deadline
    GOVERNMENT = "government"  # a government decision
    NEWS = "news"  # Union news
    EVENT = "event"
    URGENT = "urgent"


class BroadcastStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting"  # composed by a state-body liaison; staff approve
    SCHEDULED = "scheduled"
    SENDING = "sending"  # its outbox rows are being delivered (or all have been)
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class ResponseKind(StrEnum):
    ACK = "ack"
    COMMENT = "comment"
    QUESTION = "question"


class QuestionStatus(StrEnum):
    OPEN = "open"  # waiting for an answer (or for more answers after a follow-up)
    ANSWERED = "answered"  # has answers, none accepted yet
    RESOLVED = "resolved"  # the asker accepted an answer, or a moderator marked it resolved
    DUPLICATE = "duplicate"  # closed by a moderator as a duplicate of another question
    HIDDEN = "hidden"  # hidden by a moderator for abusive content


class AttachmentKind(StrEnum):
    DOCUMENT = "document"
    PHOTO = "photo"


class DigestFrequency(StrEnum):
    WEEKLY = "weekly"
    DAILY = "daily"
    OFF = "off"


class NoticeCategory(StrEnum):
    """Kinds of notification a member may switch off in /settings (urgent broadcasts always go)."""

    QUESTIONS = "questions"  # new questions in the groups I follow
    ANSWERS = "answers"  # answers to my questions
    BROADCASTS = "broadcasts"  # non-urgent broadcasts: laws, decisions, news, events
    NATIONAL = "national"  # national issues
    LEGAL = "legal"  # legal cases
