"""Refusals of the vertical loop (positions, liaisons, questions, figures) in the member's words;
anything else is worded by `bot.views.labels.refusal`."""

from __future__ import annotations

from bot.i18n import _
from bot.services.errors import ServiceError
from bot.views import labels


def refusal(error: ServiceError) -> str:
    p = error.params
    by_code = {
        "position_addressee": _("Please write 3 to {limit} characters.").format(
            limit=p.get("limit", 300)),
        "position_text": _("Please write 10 to {limit} characters.").format(
            limit=p.get("limit", 4000)),
        "position_remark": _("Please write your remark or reason: 2 to {limit} "
                             "characters.").format(limit=p.get("limit", 2000)),
        "position_deadline": _("The deadline must be at least an hour and at most {days} "
                               "days from now.").format(days=p.get("days", 90)),
        "position_nobody": _("No district leader would be asked: choose other communities."),
        "position_communities": _("That choice is not available. Please try again."),
        "position_not_draft": _("This position has already been put to the leaders."),
        "position_final": _("This position is already final."),
        "position_not_final": _("Finalise the position first."),
        "position_reference": _("Please send the reference number (up to {limit} "
                                "characters).").format(limit=p.get("limit", 100)),
        "signoff_closed": _("The sign-off is closed: the deadline has passed."),
        "already_signed": _("You have already answered on this position."),
        "sign_off_position": _("Only the district leaders asked can sign this position off."),
        "bill_stage_same": _("The bill is already at that stage, or its way is over."),
        "effect_not_law": _("Effect reports are asked only on adopted laws."),
        "effect_requested": _("Members have already been asked about this law."),
        "effect_not_requested": _("No effect reports are asked on this law."),
        "effect_reported": _("You have already reported on this law. Thank you."),
        "effect_length": _("That is too long: at most {limit} characters.").format(
            limit=p.get("limit", 2000)),
        "liaison_body": _("Choose a state body from the list."),
        "liaison_answered": _("A response to this is already recorded."),
        "liaison_reference": _("Please send the reference number (up to {limit} "
                               "characters).").format(limit=p.get("limit", 100)),
        "liaison_answer": _("This is addressed to another state body."),
        "question_answered_already": _("A colleague has already answered this question."),
        "inbox_colleague": _("Choose a Union staff member."),
        "report_no_data": _("There is no data for {year}.").format(year=p.get("year", "")),
        "report_year": _("Please send a year such as 2026."),
        "report_not_draft": _("The consultation has already started."),
        "report_not_in_consultation": _("This report is not open for comments."),
        "report_final": _("This report is already final."),
        "view_stats": _("The figures are for the Union staff."),
    }
    if error.code == "denied" and str(p.get("action")) in by_code:
        return by_code[str(p["action"])]
    return by_code.get(error.code) or labels.refusal(error)
