"""Draft laws, whole: the comments paged by district or article, the Union's position and its
sign-off by the district leaders, the bill's stage, and the effect reports of adopted laws."""

from __future__ import annotations

import html
from collections import Counter
from datetime import datetime
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _, format_when, ngettext
from bot.services import bill_stages, effect_reports, law_comments, positions
from bot.views.buttons import Row, button, markup, short
from bot.views.callbacks import Actions, ButtonId, ButtonPage
from storage.models import LawPosition

LawAction = Annotated[str, Actions(
    "district", "article", "docx", "xlsx", "position", "new_position", "stages",
    "effect_ask", "effect_docx", "effect_xlsx")]


class Lw(CallbackData, prefix="lw"):
    """Staff on a draft law (or an adopted law): comments, position, stage, effect reports."""

    action: LawAction
    broadcast_id: ButtonId
    page: ButtonPage = 0


PositionAction = Annotated[str, Actions("card", "open", "tally", "final", "letter", "sent")]


class Lp(CallbackData, prefix="lp"):
    """Staff on a position: put it to the leaders, tally, finalise, the letter, sent."""

    action: PositionAction
    position_id: ButtonId


OpenAction = Annotated[str, Actions("aud", "all", "com", "next", "days", "date", "go")]


class Lo(CallbackData, prefix="lo"):
    """Staff put a position to the leaders: the audience (all, or a community toggled by
    `value`), the deadline (`value` preset days, or typed), the confirmation."""

    action: OpenAction
    position_id: ButtonId
    value: ButtonId = 0


VoteAction = Annotated[str, Actions(*positions.VOTES)]


class Lv(CallbackData, prefix="lv"):
    """A district leader signs a position off."""

    action: VoteAction
    position_id: ButtonId


StageAction = Annotated[str, Actions(*bill_stages.STAGES)]


class Bs(CallbackData, prefix="bs"):
    """Staff move a bill to a stage."""

    stage: StageAction
    broadcast_id: ButtonId


EffectAction = Annotated[str, Actions("report")]


class Ef(CallbackData, prefix="ef"):
    """A member reports how an adopted law works out in their community."""

    action: EffectAction
    broadcast_id: ButtonId


def comment_words(lang: str) -> law_comments.Words:
    return law_comments.Words(
        language=lang, general=_("General remarks"), article=_("Article {number}"),
        continued=_("(continued)"), no_district=_("No district"),
        columns=(_("District"), _("Region"), _("Article"), _("Member"), _("Municipality"),
                 _("Comment")),
        title=_("Comments on the draft law “{title}”"))


def comments_keyboard(broadcast_id: int, by: str, page: int, total: int) -> InlineKeyboardMarkup:
    act = "article" if by == "article" else "district"
    nav = []
    if page > 0:
        nav.append(button("⬅️", Lw(action=act, broadcast_id=broadcast_id, page=page - 1)))
    nav.append(button(f"{page + 1}/{total}", Lw(action=act, broadcast_id=broadcast_id,
                                                 page=page)))
    if page + 1 < total:
        nav.append(button("➡️", Lw(action=act, broadcast_id=broadcast_id, page=page + 1)))
    other = "district" if by == "article" else "article"
    return markup([nav, [
        button(_("By district") if other == "district" else _("By article"),
               Lw(action=other, broadcast_id=broadcast_id)),
        button("📄 DOCX", Lw(action="docx", broadcast_id=broadcast_id)),
        button("📊 XLSX", Lw(action="xlsx", broadcast_id=broadcast_id))],
        [button("🏛 " + _("The Union's position"),
                Lw(action="position", broadcast_id=broadcast_id)),
         button("🧭 " + _("Bill stage"), Lw(action="stages", broadcast_id=broadcast_id))]])


def stage_label(stage: str) -> str:
    return {
        "registered": _("registered in the parliament"),
        "reading_1": _("passed the first reading"),
        "reading_2": _("passed the second reading"),
        "reading_3": _("passed the third reading"),
        "adopted": _("adopted"),
        "signed": _("signed into law"),
        "rejected": _("rejected"),
    }.get(stage, stage)


def stages_keyboard(broadcast_id: int) -> InlineKeyboardMarkup:
    return markup([[button(stage_label(s), Bs(stage=s, broadcast_id=broadcast_id))]
                   for s in bill_stages.STAGES])


def position_status(status: str) -> str:
    return {"draft": _("draft"), "signoff": _("with the district leaders"),
            "final": _("final"), "sent": _("sent")}.get(status, status)


def vote_label(vote: str | None) -> str:
    return {"agree": _("agree"), "remarks": _("agree with remarks"),
            "disagree": _("disagree"), None: _("no answer yet")}.get(vote, str(vote))


def position_card(p: LawPosition, lang: str) -> str:
    text = p.text_ky if lang == "ky" else p.text_ru
    lines = [f"<b>L-{p.id}</b> · {html.escape(position_status(p.status))}",
             _("To: {addressee}").format(addressee=html.escape(p.addressee)), "",
             html.escape(text[:2500])]
    if p.deadline:
        lines += ["", _("Sign-off until {when}").format(when=format_when(p.deadline, lang))]
    if p.reference_number:
        lines.append(_("Sent under № {number}").format(number=html.escape(p.reference_number)))
    return "\n".join(lines)


def position_keyboard(p: LawPosition) -> InlineKeyboardMarkup:
    assert p.id is not None
    rows = []
    if p.status == "draft":
        rows.append([button("🗳 " + _("Put to the leaders"), Lp(action="open", position_id=p.id))])
    rows.append([button("📊 " + _("Tally"), Lp(action="tally", position_id=p.id)),
                 button("📄 " + _("Letter") + " (DOCX)", Lp(action="letter", position_id=p.id))])
    if p.status in ("draft", "signoff"):
        rows.append([button("✅ " + _("Finalise"), Lp(action="final", position_id=p.id))])
    if p.status == "final":
        rows.append([button("📮 " + _("Record as sent"), Lp(action="sent", position_id=p.id))])
    return markup(rows)


def tally_text(t: positions.Tally) -> str:
    lines = [_("Sign-off of L-{id}: {answered} of {asked} answered").format(
        id=t.position.id, answered=t.answered, asked=t.asked),
        f"✅ {t.counts['agree']} · ✍️ {t.counts['remarks']} · ❌ {t.counts['disagree']}", "",
        _("By community:")]
    communities: dict[str, Counter[str | None]] = {}
    for r in t.rows:
        communities.setdefault(r.community, Counter())[r.vote] += 1
    for name, c in sorted(communities.items()):
        lines.append(f"{html.escape(name)}: {c.total() - c[None]}/{c.total()} · "
                     f"✅ {c['agree']} · ✍️ {c['remarks']} · ❌ {c['disagree']}")
    lines += ["", _("By district:")]
    for r in t.rows:
        line = (f"{html.escape(r.district)}, {html.escape(r.community)}: "
                f"{html.escape(vote_label(r.vote))}")
        if r.remark:
            line += f" — {html.escape(r.remark)}"
        lines.append(line)
    return "\n".join(lines)


def vote_keyboard(position_id: int) -> InlineKeyboardMarkup:
    return markup([[button("✅ " + _("Agree"), Lv(action="agree", position_id=position_id))],
                   [button("✍️ " + _("Agree with remarks"),
                           Lv(action="remarks", position_id=position_id))],
                   [button("❌ " + _("Disagree"), Lv(action="disagree", position_id=position_id))]])


def letter_words(lang: str) -> positions.LetterWords:
    return positions.LetterWords(
        language=lang, to=_("To: {body}"),
        title=_("The position of the Union of LSGs on “{title}”, {number} of {date}"),
        intro=_("The Union of local self-government bodies discussed the draft law with its "
                "members and the district leaders, and states the following position."),
        tally=_("District leaders: {agree} agreed, {remarks} agreed with remarks, "
                "{disagree} disagreed, of {asked} asked."),
        remarks=_("Remarks of the districts"),
        closing=_("Respectfully, the Union of local self-government bodies of the Kyrgyz "
                  "Republic"))


def effect_words(lang: str) -> effect_reports.ReportWords:
    return effect_reports.ReportWords(
        language=lang, title=_("How “{title}” works out in the communities"),
        intro=_("{count} reports from {districts} districts, compiled by the Union of LSGs."),
        columns=(_("Member"), _("What changed"), _("Problem"), _("Figures"), _("Date")))


def effect_button(broadcast_id: int) -> InlineKeyboardMarkup:
    return markup([[button("📝 " + _("Report the effect"),
                           Ef(action="report", broadcast_id=broadcast_id))]])


def audience_text(position_id: int) -> str:
    return _("Who is asked to sign off L-{id}? All district leaders, or the leaders of the "
             "practice communities you tick.").format(id=position_id)


def audience_keyboard(position_id: int, communities: list[tuple[int, str]],
                      chosen: set[int]) -> InlineKeyboardMarkup:
    rows: list[Row] = [[button(("🔘 " if not chosen else "⚪ ") + _("All district leaders"),
                               Lo(action="all", position_id=position_id))]]
    rows += [[button(("☑️ " if cid in chosen else "⬜ ") + short(name, 40),
                     Lo(action="com", position_id=position_id, value=cid))]
             for cid, name in communities]
    rows.append([button("✖️ " + _("Cancel"), Lp(action="card", position_id=position_id)),
                 button(_("Next") + " ➡️", Lo(action="next", position_id=position_id))])
    return markup(rows)


def deadline_text() -> str:
    return _("Until when can the leaders answer? One reminder goes a day before.")


def deadline_keyboard(position_id: int) -> InlineKeyboardMarkup:
    presets = [button(ngettext("{n} day", "{n} days", n).format(n=n),
                      Lo(action="days", position_id=position_id, value=n))
               for n in positions.PRESET_DAYS]
    return markup([presets,
                   [button("📅 " + _("Type a date"), Lo(action="date", position_id=position_id))],
                   [button("⬅️ " + _("Back"), Lo(action="aud", position_id=position_id)),
                    button("✖️ " + _("Cancel"), Lp(action="card", position_id=position_id))]])


def date_prompt() -> str:
    return _("Send the deadline in Bishkek time as {example} (a day alone means its end), at "
             "most {days} days ahead.").format(example="25.12.2026 18:00",
                                               days=positions.DEADLINE_MAX.days)


def confirm_text(position_id: int, audience: list[str], count: int, until: datetime,
                 lang: str) -> str:
    who = ", ".join(audience) if audience else _("all district leaders")
    return "\n".join([
        "🗳 " + _("Put L-{id} to the district leaders?").format(id=position_id),
        _("Who: {audience}").format(audience=html.escape(who)),
        _("Leaders to be asked: {count}").format(count=count),
        _("Until: {when}").format(when=format_when(until, lang))])


def confirm_keyboard(position_id: int, count: int) -> InlineKeyboardMarkup:
    rows: list[Row] = []
    if count:
        rows.append([button("✅ " + _("Put to the leaders"),
                            Lo(action="go", position_id=position_id))])
    rows.append([button("⬅️ " + _("Back"), Lo(action="next", position_id=position_id)),
                 button("✖️ " + _("Cancel"), Lp(action="card", position_id=position_id))])
    return markup(rows)
