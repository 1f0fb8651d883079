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
    # Deleted their account: the row stays (what they gave others reads "a former member"),
    # every personal field is erased.
    DELETED = "deleted"


class MunicipalityStatus(StrEnum):
    CONFIRMED = "confirmed"
    PENDING = "pending"  # typed by a member, waits for the district leader or staff
    MERGED = "merged"


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


class IssueState(StrEnum):
    """Where a national issue stands: new → under review → forwarded → response received →
    resolved; or merged into another issue, or declined with a reason."""

    NEW = "new"
    UNDER_REVIEW = "review"
    FORWARDED = "forwarded"
    RESPONDED = "responded"
    RESOLVED = "resolved"
    MERGED = "merged"
    DECLINED = "declined"


class IssueTopic(StrEnum):
    BUDGET = "budget"  # budget and finance
    LAND = "land"  # land and property
    SERVICES = "services"  # municipal services
    SOCIAL_ORDER = "social_order"  # municipal social order
    LEGAL = "legal"
    KENESH = "kenesh"  # local kenesh work
    UTILITIES = "utilities"  # waste and utilities
    OTHER = "other"


class StateBodyKind(StrEnum):
    PARLIAMENT = "parliament"  # a Jogorku Kenesh committee
    GOVERNMENT = "government"  # the Cabinet of Ministers and its administration
    MINISTRY = "ministry"
    AGENCY = "agency"  # state agencies and services


class DossierStatus(StrEnum):
    DRAFT = "draft"  # being put together
    SENT = "sent"  # sent to the state body
    ANSWERED = "answered"  # the body's response is recorded


class LegalCategory(StrEnum):
    LAND = "land"  # land and property
    BUDGET = "budget"  # local budget and taxes
    SERVICES = "services"  # municipal services
    PERSONNEL = "personnel"  # personnel and labour of municipal staff
    KENESH = "kenesh"  # local kenesh procedure and ethics
    CHARTER = "charter"  # charter of the local community
    PROCUREMENT = "procurement"  # social order and procurement
    STATE = "state"  # relations with state bodies
    OTHER = "other"


class LegalStatus(StrEnum):
    NEW = "new"  # nobody has taken it yet
    IN_PROGRESS = "in_progress"  # a lawyer works on it
    NEEDS_INFO = "needs_info"  # waiting for the requester's reply
    ANSWERED = "answered"  # the lawyer answered; the case may still be closed or reopened
    CLOSED = "closed"


OPEN_LEGAL_STATUSES = frozenset(
    {LegalStatus.NEW, LegalStatus.IN_PROGRESS, LegalStatus.NEEDS_INFO, LegalStatus.ANSWERED}
)


class LegalEventKind(StrEnum):
    OPENED = "opened"
    TAKEN = "taken"
    ASSIGNED = "assigned"
    INFO_REQUESTED = "info_requested"
    REPLY = "reply"  # the requester's message (a reply to a request for information or not)
    ANSWER = "answer"
    CLOSED = "closed"
    REOPENED = "reopened"
    RATED = "rated"
    PREPARED = "prepared"  # staff prepared the anonymised Q&A for the knowledge base
    FEEDBACK = "feedback"  # the requester's comment on the help, after rating it


class PublicationStatus(StrEnum):
    READY = "ready"  # anonymised Q&A stored, waiting for the knowledge base
    PUBLISHED = "published"


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
    EVENTS = "events"  # invitations to events (reminders of my registrations still come)


class EventKind(StrEnum):
    WEBINAR = "webinar"  # a webinar or video conference
    TRAINING = "training"  # LSG staff teach each other
    EXCHANGE = "exchange"  # an exchange visit to a host municipality
    BOARD = "board"  # the Union's board meeting
    CONFERENCE = "conference"
    COMMUNITY = "community"  # a local community meeting


class EventStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting"  # a partner's event: Union staff approve it first
    PUBLISHED = "published"  # invitations sent, registration open until the deadline
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class RegistrationStatus(StrEnum):
    INVITED = "invited"  # the invitation went out; no answer yet
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"  # the event was full: moves up when someone cancels
    MAYBE = "maybe"
    DECLINED = "declined"  # "not going" to the invitation
    CANCELLED = "cancelled"  # registered, then cancelled


class ItemKind(StrEnum):
    """The five kinds of library item."""

    PRACTICE = "practice"  # a municipality's practice: problem, what was done, results
    LEGAL_ACT = "legal_act"  # a normative legal act (НПА)
    TEMPLATE = "template"  # a model document: charter, ethics code, budget and procurement
    METHOD = "method"  # manuals and training materials
    PARTNER = "partner"  # a partner organisation's product, reviewed by staff


class ItemStatus(StrEnum):
    REVIEW = "review"  # proposed, waiting for the group's moderators or staff
    RETURNED = "returned"  # sent back to its author with a comment
    PUBLISHED = "published"
    DECLINED = "declined"


class ActStatus(StrEnum):
    IN_FORCE = "in_force"
    AMENDED = "amended"
    REPEALED = "repealed"
