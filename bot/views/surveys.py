"""How a survey looks in the chat: the invitation, one question per message with its buttons,
the summary, the member's list, and the words for every survey refusal.

Button payloads carry the survey id and the question's and option's positions (never names:
Telegram allows 64 bytes); the services re-check everything they name.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _, format_when, pgettext
from bot.services import survey_forms as forms
from bot.services.errors import ServiceError
from bot.services.surveys import ANONYMOUS_THRESHOLD, Listed, PlaceRate, Results, Step
from bot.views.buttons import Row, button, grid, markup
from bot.views.callbacks import Actions
from bot.views.labels import refusal
from storage.models import Survey


class Sv(CallbackData, prefix="sv"):
    """Answering a survey: `action` (open, pick, tog, rank, undo, done, skip, back, send, edit),
    `q` the question's position, `v` the option's position or the scale point."""

    action: Annotated[str, Actions(
        "back", "done", "edit", "open", "pick", "rank", "send", "skip", "tog", "undo")]
    survey_id: int
    q: int = -1
    v: int = -1


class Svr(CallbackData, prefix="svr"):
    """A survey's results for staff and its creator: card, charts, texts, xlsx, csv, close,
    publish; `v` is a question's position where one is meant (for publish: 0 the
    respondents, 1 everyone invited)."""

    action: Annotated[str, Actions(
        "card", "charts", "close", "csv", "import", "mine", "new", "poll", "publish", "texts",
        "xlsx")]
    survey_id: int
    v: int = -1


def title(survey: Survey, lang: str) -> str:
    return html.escape(survey.title(lang))


def invitation(survey: Survey, lang: str, *, reminder: bool = False) -> str:
    head = "🔔 " + _("A reminder: the survey waits for your answer.") if reminder \
        else "📋 " + _("A survey for you")
    lines = [head, f"<b>S-{survey.id} · {title(survey, lang)}</b>"]
    intro = survey.intro(lang)
    if intro:
        lines += ["", html.escape(intro)]
    lines += ["", _("Questions: {count}").format(count=len(survey.questions)),
              _("Answer by {when}").format(when=format_when(survey.deadline, lang))]
    if survey.anonymous:
        lines.append("🕶 " + _("Anonymous: nobody will see who answered what."))
    if survey.per_municipality:
        lines.append("🏛 " + _("One answer per municipality: the first member to answer "
                              "speaks for it."))
    return "\n".join(lines)


def invitation_markup(survey: Survey) -> InlineKeyboardMarkup:
    assert survey.id is not None
    return markup([[button("▶️ " + _("Answer the survey"), Sv(action="open",
                                                            survey_id=survey.id))]])


# --- one question --------------------------------------------------------------------------------


def _hint(q: dict[str, Any], lang: str) -> str:
    kind = q["type"]
    if kind == "single":
        return _("Choose one answer.")
    if kind == "multiple":
        if q.get("max_choices"):
            return _("Choose up to {count}, then press Done.").format(count=q["max_choices"])
        return _("Choose all that apply, then press Done.")
    if kind == "ranking":
        wanted = q.get("top") or len(q["choices"])
        return _("Tap the options in order of importance, the most important first ({count} "
                 "in all).").format(count=wanted)
    if kind == "scale":
        low = forms.label(q.get("low"), lang)
        high = forms.label(q.get("high"), lang)
        text = _("Choose from 1 to {top}.").format(top=q["scale"])
        if low or high:
            text += f"\n1 — {html.escape(low or '…')}; {q['scale']} — {html.escape(high or '…')}"
        return text
    if kind == "number":
        unit = q.get("unit")
        lowest, highest = q.get("min"), q.get("max")
        text = _("Send a number, digits only.") if q.get("integer", True) else \
            _("Send a number, digits only (a point for decimals, for example 5.5).")
        if lowest is not None or highest is not None:
            text += " " + _("From {low} to {high}.").format(
                low=_num(lowest) if lowest is not None else "…",
                high=_num(highest) if highest is not None else "…")
        if unit:
            text += " " + _("Unit: {unit}").format(unit=html.escape(unit))
        return text
    if kind == "date":
        return _("Send a date, for example 25.11.2026.")
    return _("Write your answer (up to {limit} characters).").format(
        limit=forms.TEXT_ANSWER_MAX)


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return f"{int(value):,}".replace(",", " ") if float(value).is_integer() else str(value)


def value_text(q: dict[str, Any], value: Any, lang: str) -> str:
    """An answer in words (the summary, exports)."""
    if value in (None, "", []):
        return "—"
    names = {c["name"]: forms.label(c["label"], lang) for c in q.get("choices", [])}
    kind = q["type"]
    if kind == "single":
        return names.get(value, str(value))
    if kind == "multiple":
        return "; ".join(names.get(v, str(v)) for v in value)
    if kind == "ranking":
        return "; ".join(f"{i}. {names.get(v, str(v))}" for i, v in enumerate(value, 1))
    if kind == "number":
        return _num(value) + (f" {q['unit']}" if q.get("unit") else "")
    if kind == "date":
        year, month, day = str(value).split("-")
        return f"{day}.{month}.{year}"
    return str(value)


def question_text(step: Step, lang: str) -> str:
    q = step.question
    assert q is not None
    lines = [f"<b>{title(step.survey, lang)}</b> · {step.position}/{step.total}", "",
             "<b>" + html.escape(forms.label(q["label"], lang)) + "</b>"]
    if not q["required"]:
        lines.append("<i>" + _("optional") + "</i>")
    lines += ["", _hint(q, lang)]
    current = step.answers.get(q["name"])
    if q["type"] == "multiple" and current:
        lines += ["", _("Chosen: {value}").format(value=html.escape(value_text(q, current,
                                                                                lang)))]
    elif q["type"] == "ranking" and current:
        names = {c["name"]: forms.label(c["label"], lang) for c in q["choices"]}
        lines += ["", _("Your order so far:")] + [
            f"{i}. {html.escape(names.get(v, v))}" for i, v in enumerate(current, 1)]
    elif q["type"] in ("number", "date", "text") and current not in (None, ""):
        lines += ["", _("Your answer: {value}").format(
            value=html.escape(value_text(q, current, lang)[:300]))]
    return "\n".join(lines)


def question_markup(step: Step, lang: str) -> InlineKeyboardMarkup:
    q = step.question
    assert q is not None and step.survey.id is not None
    sid = step.survey.id
    index = next(i for i, x in enumerate(step.survey.questions) if x["name"] == q["name"])
    current = step.answers.get(q["name"])
    rows: list[Row] = []
    kind = q["type"]
    if kind in ("single", "multiple", "ranking"):
        order = list(current) if isinstance(current, list) else []
        buttons = []
        for i, c in enumerate(q["choices"]):
            text = forms.label(c["label"], lang)
            if kind == "single":
                mark = "🔘 " if current == c["name"] else ""
                action = "pick"
            elif kind == "multiple":
                mark = "✅ " if c["name"] in order else "▫️ "
                action = "tog"
            else:
                mark = f"{order.index(c['name']) + 1}. " if c["name"] in order else "▫️ "
                action = "rank"
            buttons.append(button(mark + text, Sv(action=action, survey_id=sid, q=index, v=i)))
        long = any(len(forms.label(c["label"], lang)) > 14 for c in q["choices"])
        rows += grid(buttons, 1 if long else 2)
        if kind == "ranking":
            wanted = q.get("top") or len(q["choices"])
            extra = []
            if order:
                extra.append(button("↩️ " + _("Undo"), Sv(action="undo", survey_id=sid,
                                                             q=index)))
            if len(order) == wanted:
                extra.append(button("✔️ " + _("Done"), Sv(action="done", survey_id=sid,
                                                             q=index)))
            rows.append(extra)
        elif kind == "multiple":
            rows.append([button("✔️ " + _("Done"), Sv(action="done", survey_id=sid, q=index))])
    elif kind == "scale":
        top = q["scale"]
        points = [button(("🔘" if current == i else "") + str(i),
                         Sv(action="pick", survey_id=sid, q=index, v=i))
                  for i in range(1, top + 1)]
        rows.append(points)  # one row of numbers
    nav: Row = []
    if step.position > 1 or step.submitted:
        nav.append(button("⬅️ " + _("Back"), Sv(action="back", survey_id=sid)))
    if not q["required"]:
        nav.append(button(_("Skip") + " ➡️", Sv(action="skip", survey_id=sid, q=index)))
    rows.append(nav)
    return markup(rows)


# --- the summary and the member's list ------------------------------------------------------------


def summary_text(step: Step, lang: str) -> str:
    lines = [f"<b>{title(step.survey, lang)}</b>", "",
             "✅ " + _("Your answers are saved.") if step.submitted
             else _("Please check your answers and confirm.")]
    for i, q in enumerate(step.shown, 1):
        lines.append(f"\n{i}. {html.escape(forms.label(q['label'], lang))}\n"
                     f"<b>{html.escape(value_text(q, step.answers.get(q['name']), lang)[:300])}"
                     "</b>")
    lines += ["", _("You can change your answers until {when}.").format(
        when=format_when(step.survey.deadline, lang))]
    return "\n".join(lines)[:4000]


def summary_markup(step: Step) -> InlineKeyboardMarkup:
    sid = step.survey.id or 0
    positions = {q["name"]: i for i, q in enumerate(step.survey.questions)}
    edits = [button(f"✏️ {n}", Sv(action="edit", survey_id=sid, q=positions[q["name"]]))
             for n, q in enumerate(step.shown, 1)]
    rows = grid(edits, 6)
    if not step.submitted:
        rows.insert(0, [button("✅ " + _("Confirm and send"), Sv(action="send",
                                                                  survey_id=sid))])
    rows.append([button("⬅️ " + _("Back"), Sv(action="back", survey_id=sid))])
    return markup(rows)


def answered_by_text(step: Step, lang: str) -> str:
    return _("Your municipality's answer to “{title}” is given by {name}.").format(
        title=title(step.survey, lang), name=html.escape(step.answered_by or "—"))


def state_label(listed: Listed) -> str:
    return {
        "new": "🆕 " + _("not answered"),
        "started": "✍️ " + _("started"),
        "submitted": "✅ " + pgettext("survey", "answered"),
        "answered_by": "🏛 " + _("answered by {name}").format(name=listed.by or "—"),
    }.get(listed.state, listed.state)


def member_list(found: list[Listed], lang: str) -> tuple[str, InlineKeyboardMarkup | None]:
    if not found:
        return _("No open surveys for you now."), None
    rows = [[button(f"S-{x.survey.id} · {x.survey.title(lang)[:36]} · {state_label(x)}"[:64],
                    Sv(action="open", survey_id=x.survey.id or 0))] for x in found]
    return _("Open surveys:"), markup(rows)


# --- refusals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionRate:
    region: str
    invited: int
    responded: int
    hidden: bool = False


def region_rates(found: Results) -> list[RegionRate]:
    """The response rate by region, summed from its districts. An anonymous survey's region
    shows no figure where fewer than the threshold answered, nor where one of its districts
    hides its figure (the region's total less the other districts would give it away)."""
    regions: dict[str, list[PlaceRate]] = {}
    for place in found.by_place:
        regions.setdefault(place.region, []).append(place)
    rates = []
    for region, places in regions.items():
        responded = sum(p.responded for p in places)
        hidden = found.survey.anonymous and (
            responded < ANONYMOUS_THRESHOLD or any(p.hidden for p in places))
        rates.append(RegionRate(region, sum(p.invited for p in places), responded, hidden))
    return rates


def both_languages(text: dict[str, str] | None, limit: int) -> str | None:
    """Kyrgyz and Russian on one line (the forum is shared by members of both), or None when
    that does not fit in `limit` characters."""
    ky, ru = forms.label(text, "ky"), forms.label(text, "ru")
    found = ky if ky == ru or not ru else f"{ky} / {ru}"
    return found if len(found) <= limit else None


def poll_results_text(found: Results, lang: str) -> str:
    """A closed quick poll's figures, as posted in its forum thread (call in `lang`'s locale)."""
    survey, result = found.survey, found.questions[0]
    names = {c["name"]: forms.label(c["label"], lang) for c in result.question["choices"]}
    total = result.answered or 1
    lines = ["📊 <b>" + _("Poll S-{id} is closed: the results").format(id=survey.id) + "</b>",
             title(survey, lang), html.escape(forms.label(result.question["label"], lang)), ""]
    for name, count in result.counts.items():
        lines.append(f"{html.escape(names.get(name, name))}: {count} "
                     f"({round(count * 100 / total)}%)")
    lines.append(_("Voted: {count}").format(count=result.answered))
    return "\n".join(lines)


def results_files_text(survey: Survey, lang: str) -> str:
    return "📎 " + _("The results of the survey S-{id} “{title}”: the charts and the summary "
                    "table.").format(id=survey.id, title=title(survey, lang))


def survey_refusal(error: ServiceError) -> str:
    """A survey's refusal in one short sentence; other codes as everywhere else."""
    p = error.params
    where = html.escape(str(p.get("where", "")))
    row = p.get("row")
    by_code = {
        "survey_number": _("Please send digits only, without spaces, units or commas, for "
                           "example 5000."),
        "survey_integer": _("Please send a whole number, for example 5000."),
        "survey_out_of_range": _("The number must be from {low} to {high}.").format(
            low=p.get("low", "…"), high=p.get("high", "…")),
        "survey_date": _("Please send a date, for example 25.11.2026."),
        "survey_text": _("Please write 1 to {limit} characters.").format(
            limit=p.get("limit", forms.TEXT_ANSWER_MAX)),
        "survey_use_buttons": _("Please answer with the buttons."),
        "survey_choice": _("That choice is not available. Please try again."),
        "survey_repeated": _("That option is already in your order. Tap another one, or Undo."),
        "survey_too_many_choices": _("At most {limit} answers.").format(
            limit=p.get("limit", 1)),
        "survey_ranking_incomplete": _("Please put {count} options in order.").format(
            count=p.get("count", 1)),
        "survey_ranking_full": _("The order is complete: press Done, or Undo."),
        "survey_required": _("This question needs an answer."),
        "survey_incomplete": _("Some questions still need an answer."),
        "survey_closed": _("This survey is closed."),
        "survey_stale": _("This button is no longer active."),
        "survey_not_yours": _("Your municipality has already answered this survey."),
        "survey_busy": _("Please try again in a moment."),
        "survey_no_responses": _("Nobody has answered yet."),
        "survey_title": _("The title must be 3 to {limit} characters, in Kyrgyz and "
                          "Russian.").format(limit=p.get("limit", 200)),
        "survey_intro": _("That is too long: at most {limit} characters.").format(
            limit=p.get("limit", 2000)),
        "survey_deadline": _("Please send a future date, for example 25.12.2026."),
        "survey_mode": _("An anonymous survey cannot be answered per municipality, and a quick "
                         "poll is neither."),
        "poll_shape": _("A quick poll is one single or multiple choice question with up to "
                        "{limit} options.").format(limit=p.get("limit", 10)),
        "poll_no_forum": _("This group has no forum thread: send the poll to its members "
                           "instead."),
        "survey_empty": _("The survey has no questions."),
        "survey_too_many": _("At most {limit} questions.").format(limit=p.get("limit", 60)),
        "survey_label": _("Question {name}: a label in Kyrgyz and in Russian is required."
                          ).format(name=where),
        "survey_label_long": _("Question {name}: the text is too long (at most {limit} "
                               "characters).").format(name=where, limit=p.get("limit", 300)),
        "survey_name": _("Question {name}: the name may hold Latin letters, digits and _ "
                         "only.").format(name=where),
        "survey_duplicate": _("The name {name} is used twice.").format(name=where),
        "survey_type": _("Question {name}: this type of question is not supported.").format(
            name=where),
        "survey_choices": _("Question {name}: it needs 2 to {limit} options.").format(
            name=where, limit=p.get("limit", 20)),
        "survey_max": _("Question {name}: the maximum does not fit the options.").format(
            name=where),
        "survey_scale": _("Question {name}: a scale goes from 1 to 5 or from 1 to 10.").format(
            name=where),
        "survey_range": _("Question {name}: the range is not valid.").format(name=where),
        "survey_relevant": _("Question {name}: the condition refers to no earlier question "
                             "or option.").format(name=where),
        "xlsform": _("The file is not a readable XLSForm: {reason}").format(
            reason=html.escape(str(p.get("reason", ""))[:300])),
        "xlsform_columns": _("The <code>survey</code> sheet needs <code>label::Кыргызча</code> "
                             "and <code>label::Русский</code> columns."),
        "xlsform_list": _("No options named {name} on the <code>choices</code> sheet.").format(
            name=where),
        "xlsform_type": _("the type {name} cannot be asked in a chat. Supported: <code>"
                          "select_one, select_multiple, rank, integer, decimal, text, date, "
                          "range</code>.").format(name=where),
        "xlsform_relevant": _("only simple conditions are supported: <code>${name} = 'value'"
                              "</code> or <code>selected(${name}, 'value')</code>."),
        "xlsform_constraint": _("only simple constraints are supported: <code>. &gt;= A and . "
                                "&lt;= B</code> or <code>count-selected(.) &lt;= N</code>."),
        "xlsform_range": _("a <code>range</code> must go from 1 to 5 or from 1 to 10 in steps "
                           "of 1."),
    }
    text = by_code.get(error.code)
    if text is None:
        return refusal(error)
    if row:
        text = _("Row {row}: {reason}").format(row=row, reason=text)
    return text
