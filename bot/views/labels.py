"""Localized names for the closed vocabularies, and the words for every service refusal.

Kept together so a translator sees them side by side and a handler never spells one out itself.
"""

from __future__ import annotations

import html

from bot.i18n import _
from bot.services.errors import ServiceError
from storage.enums import MemberStatus, Position, Role


def position_label(position: Position | str) -> str:
    labels = {
        Position.HEAD_AO: _("Head of aiyl okmotu"),
        Position.FINANCE: _("Finance officer"),
        Position.DEPUTY: _("Local kenesh deputy"),
        Position.SECRETARY: _("Responsible secretary"),
        Position.MUNICIPAL_STAFF: _("Other municipal staff"),
        Position.STATE_BODY: _("State body"),
        Position.NGO: _("NGO or donor project"),
        Position.EXPERT: _("Expert or lawyer"),
    }
    return labels.get(Position(position), str(position))


def role_label(role: Role | str) -> str:
    labels = {
        Role.MEMBER: _("Member"),
        Role.DISTRICT_LEADER: _("District leader"),
        Role.MODERATOR: _("Moderator"),
        Role.EXPERT: _("Expert or lawyer"),
        Role.UNION_STAFF: _("Union staff"),
        Role.STATE_LIAISON: _("State body liaison"),
        Role.PARTNER: _("Partner (NGO or donor)"),
    }
    return labels.get(Role(role), str(role))


def status_label(status: MemberStatus | str) -> str:
    labels = {
        MemberStatus.PENDING: _("waiting for approval"),
        MemberStatus.ACTIVE: _("active"),
        MemberStatus.REJECTED: _("not approved"),
        MemberStatus.INVITED: _("invited"),
    }
    return labels.get(MemberStatus(status), str(status))


def refusal(error: ServiceError) -> str:
    """One short sentence for a refused action, saying what to do where possible."""
    p = error.params
    by_code = {
        "denied": _("You are not allowed to do that."),
        "not_found": _("That item no longer exists."),
        "name_too_long": _("That is too long: at most {limit} characters.").format(
            limit=p.get("limit", 120)
        ),
        "name_invalid": _(
            "Please send your full name in letters, for example: Aibek Asanov."
        ),
        "municipality_other": _(
            "Please send the name of your municipality (2 to {limit} characters)."
        ).format(limit=p.get("limit", 120)),
        "already_registered": _("You are already registered. /profile shows your profile."),
        "leader_taken": _("This community already has a leader in that district."),
        "leader_scope": _("A district leader needs a district and a community."),
        "broadcast_title": _("The title must be 3 to {limit} characters.").format(
            limit=p.get("limit", 200)),
        "broadcast_text": _("The Kyrgyz and Russian texts are required, at most {limit} "
                            "characters each.").format(limit=p.get("limit", 3500)),
        "broadcast_source": _("The source must be a link starting with https://."),
        "broadcast_documents": _("At most {limit} documents.").format(
            limit=p.get("limit", 10)),
        "broadcast_when": _("That time has already passed."),
        "broadcast_deadline": _("A draft law needs a comment deadline in the future."),
        "broadcast_not_running": _("This broadcast is not running any more."),
        "not_a_draft": _("Comments are collected only on draft laws."),
        "comments_closed": _("The comment period is over."),
        "reply_length": _("Please write 2 to {limit} characters.").format(
            limit=p.get("limit", 2000)),
        "group_name": _("A group's name must be 2 to {limit} characters, in Kyrgyz and "
                        "Russian.").format(limit=p.get("limit", 120)),
        "group_description": _("That is too long: at most {limit} characters.").format(
            limit=p.get("limit", 1000)),
        "group_archived": _("This group is archived and takes no new questions."),
        "question_length": _("The question must be {minimum} to {limit} characters.").format(
            minimum=p.get("minimum", 10), limit=p.get("limit", 3500)),
        "answer_length": _("Please write {minimum} to {limit} characters.").format(
            minimum=p.get("minimum", 2), limit=p.get("limit", 3500)),
        "reason_length": _("Please write {minimum} to {limit} characters.").format(
            minimum=p.get("minimum", 3), limit=p.get("limit", 500)),
        "file_size": _("That file is larger than {limit} MB.").format(limit=p.get("limit", 20)),
        "file_type": _("This type of file is not accepted. Allowed: {types}.").format(
            types=p.get("types", "")),
        "attachments_count": _("At most {limit} files.").format(limit=p.get("limit", 5)),
        "question_closed": _("This question is closed: it takes no more answers."),
        "answer_not_acceptable": _("This answer cannot be accepted."),
        "own_answer": _("That is your own answer."),
        "own_question": _("That is your own question: add a follow-up instead."),
        "duplicate_target": _("There is no open question with that number."),
        "issue_title": _("The title must be 5 to {limit} characters.").format(
            limit=p.get("limit", 200)),
        "issue_text": _("Please write 10 to {limit} characters.").format(
            limit=p.get("limit", 3000)),
        "issue_topic": _("Please choose a topic from the list."),
        "issue_body": _("Please choose a state body from the list."),
        "issue_documents": _("At most {limit} documents.").format(limit=p.get("limit", 10)),
        "issue_state": _("This issue is no longer in a state that allows that."),
        "issue_closed": _("This issue is closed: it can no longer be co-signed or changed."),
        "own_issue": _("You raised this issue yourself, so you already stand behind it."),
        "already_cosigned": _("Your co-signature is already counted."),
        "cosign_comment": _("The comment is too long: at most {limit} characters.").format(
            limit=p.get("limit", 1000)),
        "merge_target": _("That issue cannot take the merge: send the number of another "
                          "open issue."),
        "response_length": _("Please write 2 to {limit} characters.").format(
            limit=p.get("limit", 4000)),
        "dossier_sent": _("This dossier has already been sent."),
        "dossier_not_sent": _("Record the sending of this dossier first."),
        "dossier_empty": _("Add at least one issue to the dossier first."),
        "dossier_via": _("Please describe how it was sent in 2 to {limit} characters.").format(
            limit=p.get("limit", 200)),
        "dossier_reference": _("The reference number must be 1 to {limit} characters.").format(
            limit=p.get("limit", 100)),
        "dossier_date": _("Please send a date that has passed, for example 25.11.2026."),
        "issue_in_dossier": _("This issue is already in a dossier that was sent."),
        "legal_documents": _("At most {limit} documents.").format(limit=p.get("limit", 10)),
        "legal_text": _("Please write 2 to {limit} characters.").format(
            limit=p.get("limit", 3000)),
        "legal_consent": _("Without your consent the lawyers cannot see the request."),
        "legal_deadline": _("Please send a future date, for example 25.12.2026."),
        "legal_taken": _("Another lawyer has already taken this case."),
        "legal_not_lawyer": _("Only a lawyer of the Union can be assigned."),
        "legal_case_closed": _("The case {case} is closed. The requester can reopen it within "
                               "14 days.").format(case=p.get("case", "")),
        "legal_not_closed": _("This can be done only after the case is closed."),
        "legal_reopen_late": _("A case can be reopened only within {limit} days of closing. "
                               "Please send a new request.").format(limit=p.get("limit", 14)),
        "legal_rated": _("You have already rated this case."),
        "legal_not_rated": _("Please rate the case first."),
        "legal_no_consent": _("The requester has not agreed to publication."),
        "legal_not_prepared": _("Prepare the anonymised question and answer first."),
        "event_title": _("The title must be 3 to {limit} characters.").format(
            limit=p.get("limit", 200)),
        "event_description": _("Please write 3 to {limit} characters.").format(
            limit=p.get("limit", 3000)),
        "event_start_past": _("The start must be in the future."),
        "event_end_before_start": _("The end must be after the start."),
        "event_too_long": _("An event may last at most 14 days."),
        "event_deadline": _("Registration must close in the future and no later than the "
                            "start."),
        "event_address": _("The address must be 3 to {limit} characters.").format(
            limit=p.get("limit", 300)),
        "event_url": _("That is not a link. Please send the full link from the browser, "
                       "starting with https://."),
        "event_place": _("Please give an address or an online link."),
        "event_host": _("Please choose the host municipality."),
        "event_capacity": _("Please send a number from 1 to {limit}.").format(
            limit=p.get("limit", 10000)),
        "event_scope": _("A district leader's event is for their own district only."),
        "event_district_limits": _("At most {limit} districts with their own limit.").format(
            limit=p.get("limit", 60)),
        "event_district_name": _("No district is called «{name}». Please write its name as "
                                 "in the list of districts, for example: Талас: 5.").format(
            name=html.escape(str(p.get("name", "")))),
        "event_district_line": _("Please write each line as a district and a number, for "
                                 "example: Талас: 5 («{line}»).").format(
            line=html.escape(str(p.get("line", "")))),
        "event_library_item": _("Only a published library item open to all members can be shared."),
        "event_started": _("This event has already started."),
        "event_cancelled": _("This event is cancelled."),
        "event_registration_closed": _("Registration for this event is closed."),
        "event_already_registered": _("You are already registered for this event."),
        "event_already_waiting": _("You are already on the waiting list."),
        "event_not_registered": _("You are not registered for this event."),
        "event_not_started": _("This can be done once the event has started."),
        "event_materials": _("At most {limit} files.").format(limit=p.get("limit", 20)),
        "event_no_materials": _("Add the materials first."),
        "event_no_attendees": _("Mark who attended first."),
        "event_rating": _("Please choose 1 to 5 stars."),
        "event_rated": _("You have already rated this event."),
        "event_not_rated": _("Please rate the event first."),
        "library_title": _("The title must be {minimum} to {limit} characters.").format(
            minimum=p.get("minimum", 3), limit=p.get("limit", 200)),
        "library_text": _("Please write 2 to {limit} characters.").format(
            limit=p.get("limit", 3000)),
        "library_missing": _("Some required parts are empty: please fill them in."),
        "library_kind": _("Please choose a kind from the list."),
        "library_number": _("Please send the act's number (up to {limit} characters).").format(
            limit=p.get("limit", 100)),
        "library_number_taken": _("An act with the number {number} is already in the "
                                  "library.").format(number=p.get("number", "")),
        "library_date": _("Please send a date such as 25.11.2026."),
        "library_date_future": _("That date is in the future: an act cannot be adopted yet."),
        "library_link": _("The link must start with {prefix}").format(prefix="https://"),
        "library_act_status": _("Please choose from the list."),
        "library_decision": _("Please choose from the list."),
        "library_comment": _("Please write {minimum} to {limit} characters.").format(
            minimum=p.get("minimum", 3), limit=p.get("limit", 1000)),
        "library_not_in_review": _("This proposal has already been decided."),
        "library_not_published": _("This item is not published."),
        "library_own_item": _("That is your own item."),
        "library_already_adopted": _("Your municipality is already counted."),
        "library_not_adoptable": _("A legal act cannot be adopted: it applies anyway."),
    }
    return by_code.get(error.code, _("That choice is not available. Please try again."))
