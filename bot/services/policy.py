"""Who may do what: the one place where Birge's permission rules live.

Services load an `Actor` inside their transaction (so a role revoked a second ago already counts)
and ask the predicates below. Buttons and commands are never trusted: every id they carry goes
through a predicate here, in the service that acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audit import record_denied
from bot.services.errors import PermissionDenied
from storage.db import Database
from storage.enums import MemberStatus, Role
from storage.models import Member, RoleAssignment


@dataclass(frozen=True)
class Grant:
    role: Role
    community_id: int | None = None
    district_id: int | None = None


@dataclass(frozen=True)
class Actor:
    member_id: int
    status: MemberStatus
    district_id: int | None
    grants: frozenset[Grant]

    @property
    def active(self) -> bool:
        return self.status == MemberStatus.ACTIVE

    def has(self, role: Role) -> bool:
        return self.active and any(g.role == role for g in self.grants)

    @property
    def is_staff(self) -> bool:
        return self.has(Role.UNION_STAFF)

    def leads_district(self, district_id: int | None) -> bool:
        return (
            self.active
            and district_id is not None
            and any(
                g.role == Role.DISTRICT_LEADER and g.district_id == district_id
                for g in self.grants
            )
        )


    @property
    def roles(self) -> set[Role]:
        found = {g.role for g in self.grants}
        if self.active:
            found.add(Role.MEMBER)
        return found


async def load_grants(session: AsyncSession, member_id: int) -> frozenset[Grant]:
    rows = await session.exec(select(RoleAssignment).where(RoleAssignment.member_id == member_id))
    return frozenset(
        Grant(Role(r.role), r.community_id, r.district_id) for r in rows.all()
    )


async def load_actor(session: AsyncSession, member_id: int) -> Actor:
    """The member's status, district and grants in one statement (every service starts here,
    often more than once an update)."""
    query = (sa_select(col(Member.status), col(Member.district_id), col(RoleAssignment.role),
                       col(RoleAssignment.community_id), col(RoleAssignment.district_id))
             .select_from(Member)
             .outerjoin(RoleAssignment, col(RoleAssignment.member_id) == Member.id)
             .where(col(Member.id) == member_id))
    rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    if not rows:
        return Actor(member_id, MemberStatus.REJECTED, None, frozenset())
    status, district_id = rows[0][0], rows[0][1]
    return Actor(
        member_id=member_id,
        status=MemberStatus(status),
        district_id=district_id,
        grants=frozenset(Grant(Role(role), community, district)
                         for _s, _d, role, community, district in rows if role is not None),
    )


# --- the rules -------------------------------------------------------------------------------


class Action(StrEnum):
    DECIDE_APPLICANT = "decide_applicant"
    CREATE_INVITE = "create_invite"
    MANAGE_ROLES = "manage_roles"
    COMPOSE_BROADCAST = "compose_broadcast"
    APPROVE_BROADCAST = "approve_broadcast"
    CANCEL_BROADCAST = "cancel_broadcast"
    VIEW_BROADCAST_REPORT = "view_broadcast_report"
    MANAGE_GROUPS = "manage_groups"
    JOIN_GROUP = "join_group"
    VIEW_QUESTION = "view_question"
    ASK_QUESTION = "ask_question"
    ANSWER_QUESTION = "answer_question"
    ACCEPT_ANSWER = "accept_answer"
    MODERATE_QUESTION = "moderate_question"
    RAISE_ISSUE = "raise_issue"
    VIEW_ISSUE = "view_issue"
    COSIGN_ISSUE = "cosign_issue"
    TRIAGE_ISSUE = "triage_issue"
    MANAGE_DOSSIER = "manage_dossier"
    EXPORT_ISSUES = "export_issues"
    OPEN_LEGAL_CASE = "open_legal_case"
    VIEW_LEGAL_CASE = "view_legal_case"
    WORK_LEGAL_CASE = "work_legal_case"
    ASSIGN_LEGAL_CASE = "assign_legal_case"
    REQUESTER_LEGAL_CASE = "requester_legal_case"
    MANAGE_LEGAL_DESK = "manage_legal_desk"
    CHANGE_SETTINGS = "change_settings"
    COMPILE_BULLETIN = "compile_bulletin"
    MANAGE_MUNICIPALITIES = "manage_municipalities"
    VIEW_DIRECTORY = "view_directory"
    WRITE_MEMBER = "write_member"
    DELETE_ACCOUNT = "delete_account"
    EXPORT_OWN_DATA = "export_own_data"
    CREATE_EVENT = "create_event"
    APPROVE_EVENT = "approve_event"
    MANAGE_EVENT = "manage_event"
    VIEW_EVENT = "view_event"
    VIEW_EVENT_REPORT = "view_event_report"
    ANSWER_EVENT = "answer_event"
    RATE_EVENT = "rate_event"
    PROPOSE_ITEM = "propose_item"
    VIEW_ITEM = "view_item"
    REVIEW_ITEM = "review_item"
    EDIT_ITEM = "edit_item"
    VIEW_ITEM_HISTORY = "view_item_history"
    USE_ITEM = "use_item"
    VIEW_DECISION = "view_decision"
    CREATE_SURVEY = "create_survey"
    MANAGE_SURVEY = "manage_survey"
    ANSWER_SURVEY = "answer_survey"
    MANAGE_POSITION = "manage_position"
    SIGN_OFF_POSITION = "sign_off_position"
    LIAISON_ANSWER = "liaison_answer"
    ANSWER_DECISION_QUESTION = "answer_decision_question"
    VIEW_STATS = "view_stats"
    COMMENT_ANNUAL_REPORT = "comment_annual_report"


def can_decide_applicant(actor: Actor, applicant_district_id: int | None) -> bool:
    """Union staff decide on anyone; a district leader on newcomers of their own district."""
    return actor.is_staff or actor.leads_district(applicant_district_id)


def can_create_invite(actor: Actor, role: Role, district_id: int | None) -> bool:
    """Staff invite anyone to any role; a leader invites plain members to their own district."""
    if actor.is_staff:
        return True
    return role == Role.MEMBER and actor.leads_district(district_id)


def can_manage_roles(actor: Actor) -> bool:
    return actor.is_staff


def can_compose_broadcast(actor: Actor) -> bool:
    """Union staff, and state-body liaisons (whose broadcasts staff approve)."""
    return actor.is_staff or actor.has(Role.STATE_LIAISON)


def can_approve_broadcast(actor: Actor) -> bool:
    return actor.is_staff


def can_manage_broadcast(actor: Actor, author_id: int) -> bool:
    """Follow, report on and cancel a broadcast: staff, or its author while still a composer."""
    return actor.is_staff or (actor.member_id == author_id and can_compose_broadcast(actor))


def can_manage_groups(actor: Actor) -> bool:
    """Create, rename and archive topic groups; appoint and remove their moderators."""
    return actor.is_staff


def can_see_group(actor: Actor, group_community_id: int | None,
                  member_communities: frozenset[int], moderates: bool) -> bool:
    """An open group is every active member's; a community group is its community's."""
    if not actor.active:
        return False
    if actor.is_staff or moderates or group_community_id is None:
        return True
    return group_community_id in member_communities


def can_answer(actor: Actor, open_to_them: bool, moderates: bool) -> bool:
    """Whoever the group is open to answers (answering makes them a member of it), and its
    moderators and Union staff."""
    return actor.active and (open_to_them or moderates or actor.is_staff)


def can_moderate(actor: Actor, moderates: bool) -> bool:
    """Mark resolved, close as a duplicate, hide: the group's moderators and Union staff."""
    return actor.active and (moderates or actor.is_staff)


def can_accept(actor: Actor, asker_id: int) -> bool:
    """Only the asker accepts an answer to their question."""
    return actor.active and actor.member_id == asker_id


def can_raise_issue(actor: Actor) -> bool:
    """Any active member may raise a local problem to the national level."""
    return actor.active


def can_view_issue(actor: Actor, author_id: int, restricted: bool) -> bool:
    """Active members see issues; a restricted (sensitive) one only its author and staff."""
    if not actor.active:
        return False
    return not restricted or actor.is_staff or actor.member_id == author_id


def can_cosign_issue(actor: Actor, author_id: int, restricted: bool) -> bool:
    """Anyone who may see it, except its author (who already stands behind it)."""
    return can_view_issue(actor, author_id, restricted) and actor.member_id != author_id


def can_triage_issue(actor: Actor) -> bool:
    """Change an issue's state, merge, decline, record a response: Union staff only."""
    return actor.is_staff


def can_manage_dossier(actor: Actor) -> bool:
    return actor.is_staff


def can_export_issues(actor: Actor) -> bool:
    return actor.is_staff


def can_manage_position(actor: Actor) -> bool:
    """Draft the Union's position on a draft law, move a bill's stage, compile reports."""
    return actor.is_staff


def can_sign_off_position(actor: Actor, community_ids: list[int]) -> bool:
    """A district leader of one of the communities asked (all of them when none is named)."""
    return actor.active and any(
        g.role == Role.DISTRICT_LEADER and (not community_ids or g.community_id in community_ids)
        for g in actor.grants)


def can_liaison_see(actor: Actor, own_body_id: int | None, addressed_body_id: int | None,
                    restricted: bool) -> bool:
    """A state-body liaison sees what is addressed to their own body, never a restricted
    (sensitive) issue; an id on a button that names another body's issue is refused."""
    return (actor.has(Role.STATE_LIAISON) and own_body_id is not None
            and addressed_body_id == own_body_id and not restricted)


def can_answer_decision_question(actor: Actor) -> bool:
    return actor.is_staff


def can_view_stats(actor: Actor) -> bool:
    return actor.is_staff


def can_comment_annual_report(actor: Actor) -> bool:
    """The consultation round: district leaders and state-body liaisons (and staff)."""
    return actor.is_staff or actor.has(Role.DISTRICT_LEADER) or actor.has(Role.STATE_LIAISON)


def is_lawyer(actor: Actor) -> bool:
    """Members with the expert/lawyer role answer legal-help requests."""
    return actor.has(Role.EXPERT)


def can_open_legal_case(actor: Actor) -> bool:
    """Any active member may ask the Union's lawyers for help."""
    return actor.active


def can_view_legal_case(actor: Actor, requester_id: int) -> bool:
    """A case is private: its requester, the lawyers and Union staff, nobody else."""
    if actor.member_id == requester_id and actor.active:
        return True
    return is_lawyer(actor) or actor.is_staff


def can_work_legal_case(actor: Actor, assignee_id: int | None) -> bool:
    """Ask for information, answer, close: the assigned lawyer (or any lawyer while nobody has
    taken it), and Union staff."""
    if actor.is_staff:
        return True
    return is_lawyer(actor) and assignee_id in (None, actor.member_id)


def can_assign_legal_case(actor: Actor) -> bool:
    """Take a case or hand it to a colleague: lawyers and staff."""
    return is_lawyer(actor) or actor.is_staff


def can_act_as_requester(actor: Actor, requester_id: int) -> bool:
    """Reply, reopen, rate, consent to publication: the requester alone."""
    return actor.active and actor.member_id == requester_id


def can_manage_legal_desk(actor: Actor) -> bool:
    """Monthly figures and publishing to the knowledge base: Union staff."""
    return actor.is_staff


def can_change_settings(actor: Actor) -> bool:
    """A member's own digest, quiet hours and notification kinds: any active member."""
    return actor.active


def can_compile_bulletin(actor: Actor) -> bool:
    """The monthly bulletin is the Union's: staff compile, edit and send it."""
    return actor.is_staff


def can_manage_municipalities(actor: Actor, district_id: int | None) -> bool:
    """Confirm, merge and add a district's municipalities: its district leaders and staff."""
    return actor.is_staff or actor.leads_district(district_id)


def can_view_directory(actor: Actor) -> bool:
    """The member directory is for approved members."""
    return actor.active


def can_write_member(actor: Actor, recipient_active: bool, blocked: bool) -> bool:
    """Relay a message: an approved member to another approved member who has not blocked
    them."""
    return actor.active and recipient_active and not blocked


def can_delete_account(actor: Actor, member_id: int) -> bool:
    """An account is deleted by its owner alone: nobody, not even staff, deletes another's."""
    return actor.member_id == member_id and actor.status != MemberStatus.DELETED


def can_create_event(actor: Actor) -> bool:
    """Union staff (for anyone), district leaders (for their own district) and partners (for
    their audience, approved by staff) organise events."""
    return actor.is_staff or actor.has(Role.DISTRICT_LEADER) or actor.has(Role.PARTNER)


def can_approve_event(actor: Actor) -> bool:
    return actor.is_staff


def can_organise_event(actor: Actor, creator_id: int) -> bool:
    """Change, cancel, see the list, mark attendance, share materials, export: Union staff, or
    the event's creator while they may still create events."""
    return actor.is_staff or (actor.member_id == creator_id and can_create_event(actor))


def can_answer_event(actor: Actor, invited: bool, published: bool) -> bool:
    """Register, maybe, not going: an active member the event is for, once it is published."""
    return actor.active and invited and published


def can_submit_item(actor: Actor, kind: str, sees_group: bool, moderates: bool) -> bool:
    """Any member proposes a practice in a group they may read; staff and the group's
    moderators add the other kinds; the partner role (and staff) submit partner products."""
    if not actor.active or not sees_group:
        return False
    if kind == "practice":
        return True
    if kind == "partner":
        return actor.is_staff or actor.has(Role.PARTNER)
    return actor.is_staff or moderates


def can_review_item(actor: Actor, kind: str, moderates: bool) -> bool:
    """Approve, return or decline a proposal: the group's moderators and staff; a partner
    product only staff."""
    if not actor.active:
        return False
    return actor.is_staff or (moderates and kind != "partner")


def can_view_item(actor: Actor, sees_group: bool, published: bool, author_id: int,
                  moderates: bool, kind: str) -> bool:
    """A published item: whoever may read its group; a proposal: its author and reviewers."""
    if not actor.active:
        return False
    if actor.member_id == author_id:
        return True
    if published:
        return sees_group
    return can_review_item(actor, kind, moderates)


def can_edit_item(actor: Actor, author_id: int, status: str, moderates: bool,
                  kind: str) -> bool:
    """The author edits a proposal (or a returned one, which goes back to review); reviewers
    edit any item of their group. Every edit keeps the previous version."""
    if can_review_item(actor, kind, moderates):
        return True
    return actor.active and actor.member_id == author_id and status in ("review", "returned")


def can_view_item_history(actor: Actor, author_id: int, moderates: bool, kind: str) -> bool:
    """Who changed what in an item, and when: its author and its reviewers (the group's
    moderators, staff)."""
    if not actor.active:
        return False
    return actor.member_id == author_id or can_review_item(actor, kind, moderates)


def can_use_item(actor: Actor, sees_group: bool) -> bool:
    """Mark useful, "our municipality uses this", ask the author: whoever may read it."""
    return actor.active and sees_group


def can_view_decision(actor: Actor, received: bool) -> bool:
    """A decision in the archive: its recipients, and staff every one."""
    return actor.active and (received or actor.is_staff)
def can_create_survey(actor: Actor, district_ids: list[int], moderates_group: bool) -> bool:
    """Union staff ask anyone; a district leader asks their own district (`district_ids` is the
    audience's districts, all of which they must lead); a moderator asks their group's members."""
    if actor.is_staff:
        return True
    if moderates_group:
        return actor.active
    return bool(district_ids) and all(actor.leads_district(d) for d in district_ids)


def can_manage_survey(actor: Actor, creator_id: int) -> bool:
    """Results, exports, closing and publishing results: Union staff and the survey's creator."""
    return actor.is_staff or (actor.active and actor.member_id == creator_id)


def can_answer_survey(actor: Actor, invited: bool) -> bool:
    """Only an active member the survey was sent to answers it."""
    return actor.active and invited


class Capability(StrEnum):
    """What /help lists for a member, by role."""

    PROFILE = "profile"
    LANGUAGE = "language"
    HELP = "help"
    INVITE = "invite"
    APPROVE = "approve"
    ADMIN = "admin"
    BROADCAST = "broadcast"
    GROUPS = "groups"
    ASK = "ask"
    SEARCH = "search"
    MY_QUESTIONS = "my_questions"
    ISSUES = "issues"
    TRIAGE = "triage"
    LEGAL_HELP = "legal_help"
    LEGAL_DESK = "legal_desk"
    SETTINGS = "settings"
    BULLETIN = "bulletin"
    PEOPLE = "people"
    PRIVACY = "privacy"
    PLACES = "places"
    EVENTS = "events"
    LIBRARY = "library"
    DECISIONS = "decisions"
    SURVEYS = "surveys"
    LIAISON = "liaison"  # a state body's liaison: /liaison
    VERTICAL = "vertical"  # staff: /inbox, /stats, /report, /liaisons


def capabilities(roles: frozenset[Role] | set[Role], active: bool) -> list[Capability]:
    """What a member with these roles can do; shown by /help and the home menu."""
    caps = [Capability.PROFILE, Capability.LANGUAGE, Capability.HELP, Capability.PRIVACY]
    if not active:
        return caps
    if Role.UNION_STAFF in roles or Role.DISTRICT_LEADER in roles:
        caps += [Capability.INVITE, Capability.APPROVE]
    if Role.UNION_STAFF in roles:
        caps.append(Capability.ADMIN)
    if Role.UNION_STAFF in roles or Role.STATE_LIAISON in roles:
        caps.append(Capability.BROADCAST)
    caps += [Capability.GROUPS, Capability.ASK, Capability.SEARCH, Capability.MY_QUESTIONS,
             Capability.LIBRARY, Capability.DECISIONS]
    caps.append(Capability.ISSUES)
    if Role.UNION_STAFF in roles:
        caps.append(Capability.TRIAGE)
    caps.append(Capability.LEGAL_HELP)
    if Role.EXPERT in roles or Role.UNION_STAFF in roles:
        caps.append(Capability.LEGAL_DESK)
    caps.append(Capability.EVENTS)
    caps.append(Capability.SETTINGS)
    if Role.UNION_STAFF in roles:
        caps.append(Capability.BULLETIN)
    caps.append(Capability.PEOPLE)
    if Role.UNION_STAFF in roles or Role.DISTRICT_LEADER in roles:
        caps.append(Capability.PLACES)
    caps.append(Capability.SURVEYS)
    if Role.STATE_LIAISON in roles:
        caps.append(Capability.LIAISON)
    if Role.UNION_STAFF in roles:
        caps.append(Capability.VERTICAL)
    return caps


async def ensure(
    db: Database, actor: Actor, allowed: bool, action: Action, target_id: int | None = None
) -> None:
    """Raise `PermissionDenied` (and log it) unless `allowed`."""
    if not allowed:
        await record_denied(db, actor.member_id, str(action), target_id)
        raise PermissionDenied(action=str(action))
