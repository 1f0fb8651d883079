"""Renderers for national issues: a change of state to everyone behind an issue, and a new
issue to the Union staff. Read when sent, so the text is in the recipient's language and shows
the issue as it is then (the state named in the row is the one announced)."""

from __future__ import annotations

import html
from typing import Any

from bot.delivery.attachments import Attachment, attachments
from bot.delivery.render import Recipient, Rendered, renderer
from bot.i18n import _
from bot.services import national_issues as ni
from bot.views.buttons import button, markup
from bot.views.callbacks import Iss
from bot.views.issues import backing_line, clip, fit, state_label, topic_label
from storage.db import Database
from storage.enums import IssueState


@renderer(ni.OUTBOX_STATE)
async def state_changed(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    target_id = payload.get("target_id")
    found = await ni.for_notice(db, int(payload["issue_id"]), to.language,
                                int(target_id) if target_id else None)
    if found is None:
        return None
    issue, state = found.issue, IssueState(payload["state"])
    e = html.escape
    # The author raised it; the others co-signed it: each is told in their own words.
    head = _("Your issue {id} “{title}”: {state}.") if issue.author_id == to.member_id \
        else _("The issue {id} “{title}” that you stand behind: {state}.")
    lines = [head.format(id=ni.short_id(issue.id), title=e(issue.title),
                         state=state_label(state))]
    open_id = issue.id
    if state == IssueState.UNDER_REVIEW:
        lines.append(_("The Union staff are studying it."))
    elif state == IssueState.FORWARDED:
        lines.append(_("The Union sent it to: {body}.").format(body=e(found.body or "—")))
        if found.dossier is not None and found.dossier.reference_number:
            lines.append(_("Reference number: {number}.").format(
                number=e(found.dossier.reference_number)))
    elif state == IssueState.RESPONDED:
        lines += ["", "<b>" + _("Response of the state body") + "</b>",
                  clip(issue.response_text or "—", 3000)]
    elif state == IssueState.RESOLVED:
        lines.append(_("Thank you for raising it and standing behind it."))
    elif state == IssueState.DECLINED:
        lines.append(_("Reason: {reason}").format(reason=clip(issue.decline_reason or "—", 1000)))
    elif state == IssueState.MERGED and found.target is not None:
        lines.append(_("It was merged into {id} “{title}”: you now stand behind that issue."
                       ).format(id=ni.short_id(found.target.id), title=e(found.target.title)))
        open_id = found.target.id
    assert open_id is not None
    kb = markup([[button(_("Open the issue"), Iss(action="o", issue_id=open_id))]])
    files: tuple[Attachment, ...] = ()
    if state == IssueState.RESPONDED and found.dossier is not None:
        files = attachments(found.dossier.response_documents)
    return Rendered(fit(lines), kb, files)


@renderer(ni.OUTBOX_RAISED)
async def raised(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    found = await ni.for_notice(db, int(payload["issue_id"]), to.language)
    if found is None or found.issue.state != IssueState.NEW:
        return None
    issue = found.issue
    assert issue.id is not None
    text = "\n".join([
        "🆕 " + _("A new national issue to triage:"),
        f"<b>{ni.short_id(issue.id)} · {html.escape(issue.title)}</b>",
        _("Topic: {topic}").format(topic=topic_label(issue.topic)),
        "🤝 " + backing_line(ni.backing_of(issue)),
    ])
    return Rendered(text, markup([[button(_("Open the issue"),
                                          Iss(action="o", issue_id=issue.id))]]))
