"""Building a survey in the bot (short surveys), importing one from an XLSForm (long ones), and
posting a quick poll — staff for anyone, district leaders for their district, moderators for
their group's members.

survey: [group] → title (ky, ru, en on lines) → intro → questions (type → text → options / scale
ends / unit and range → maximum → required → shown only if …) → mode (per member, per
municipality, anonymous) → audience (staff: as for a broadcast) → deadline → preview in each
language → send. import: the file replaces the questions. poll: where (a group's forum thread or
members) → title → one choice question → deadline → preview → send.
Answers live in FSM state; `surveys.create_survey` checks everything again.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.config import Settings
from bot.flows import audience as picker
from bot.flows import guard, steps
from bot.flows.dates import parse_moment
from bot.flows.ui import Event, nav_press, show, wrong_input
from bot.i18n import LANGUAGES, _, __, language_name
from bot.services import survey_forms as forms
from bot.services import survey_roles, surveys
from bot.services.broadcasts import Audience
from bot.services.errors import ServiceError
from bot.services.forums import forums_of
from bot.services.members import MemberView
from bot.services.survey_import import MAX_BYTES, parse_xlsform
from bot.services.surveys import SurveyDraft
from bot.views.audience import DIMENSIONS, menu_rows
from bot.views.buttons import PAGE_SIZE, button, grid, markup, nav_row, page_rows, short
from bot.views.callbacks import MAX_PAGE, Nav, Pick, parse_id
from bot.views.surveys import Svr, invitation, survey_refusal
from storage.db import Database
from storage.models import Survey
from storage.types import utcnow

router = Router(name="survey_build")
router.message.filter(F.chat.type == "private")


class Build(StatesGroup):
    target = State()
    file = State()
    title = State()
    intro = State()
    qtype = State()
    qlabel = State()
    qoptions = State()
    qscale = State()
    qends = State()
    qnumber = State()
    qmax = State()
    qrequired = State()
    qcond = State()
    qmore = State()
    mode = State()
    audience = State()
    deadline = State()
    preview = State()


TEXT_STEPS = {"title", "intro", "qlabel", "qoptions", "qends", "qnumber", "deadline"}


def _step(raw: str | None) -> str | None:
    return raw.split(":", 1)[1] if raw and raw.startswith("Build:") else None


def _lines(text: str, parts: int = 3) -> dict[str, str]:
    """"Kyrgyz\nRussian\nEnglish" (English optional) → {"ky", "ru", "en"}."""
    found = [" ".join(x.split()) for x in text.strip().splitlines() if x.strip()]
    return {lang: found[i] for i, lang in enumerate(("ky", "ru", "en")[:parts]) if i < len(found)}


def _pair(text: str) -> dict[str, str]:
    """"Ооба / Да / Yes" → labels."""
    found = [" ".join(x.split()) for x in text.split("/")]
    return {lang: found[i] for i, lang in enumerate(("ky", "ru", "en")) if i < len(found)
            and found[i]}


def _group_buttons(groups: list[tuple[int, str, bool]], poll: bool,
                   staff: bool) -> list[InlineKeyboardButton]:
    """A group's forum thread (💬, polls) and its members (👥) as the survey's target."""
    buttons = []
    for gid, name, thread in groups:
        if poll and thread:
            buttons.append(button("💬 " + short(name, 40), Pick(step="sg", value=f"f{gid}")))
        if not staff or poll:
            buttons.append(button("👥 " + short(name, 40), Pick(step="sg", value=f"g{gid}")))
    return buttons


# --- asking each step --------------------------------------------------------------------------


async def ask(event: Event, state: FSMContext, db: Database, member: MemberView,
              step: str) -> None:
    await state.set_state(getattr(Build, step))
    data = await state.get_data()
    poll = data.get("kind") == "poll"
    skip = [button(_("Skip") + " ➡️", Nav(action="skip"))]
    if step == "target":
        groups = await survey_roles.group_choices(db, member.id, member.language)
        rows = []
        staff = await survey_roles.is_staff(db, member.id)
        if staff or await survey_roles.leads(db, member.id):
            rows.append([button("👥 " + _("Members (choose the audience)"),
                                Pick(step="sg", value="members"))])
        rows += page_rows(_group_buttons(groups, poll, staff), int(data.get("target_page", 0)),
                          lambda n: Pick(step="sg", value=f"page{n}"))
        await show(event, _("Who is it for? 💬 posts it in a group's forum thread, 👥 sends it "
                            "to members."), markup([*rows, nav_row(back=False)]))
    elif step == "file":
        await show(event, _("Send the XLSForm file (.xlsx, up to 2 MB): the <code>survey</code> "
                            "sheet with <code>label::Кыргызча</code> and <code>label::Русский"
                            "</code> columns, and the <code>choices</code> sheet."),
                   markup([nav_row(back=False)]))
    elif step == "title":
        await show(event, _("Send the title: the first line in Kyrgyz, the second in Russian, "
                            "a third in English if you like."), markup([nav_row()]))
    elif step == "intro":
        await show(event, _("Send the introduction: a paragraph in Kyrgyz, an empty line, a "
                            "paragraph in Russian (and English after another empty line), or "
                            "skip."), markup([skip, nav_row()]))
    elif step == "qtype":
        kinds = ["single", "multiple"] if poll else list(forms.TYPES)
        count = len(data.get("questions", []))
        buttons = [button(type_label(k), Pick(step="sq", value=k)) for k in kinds]
        await show(event, _("Question {number}: what kind?").format(number=count + 1),
                   markup([*grid(buttons, 2), nav_row()]))
    elif step == "qlabel":
        await show(event, _("Send the question: the first line in Kyrgyz, the second in "
                            "Russian, a third in English if you like."), markup([nav_row()]))
    elif step == "qoptions":
        await show(event, _("Send the options, one per line, as Kyrgyz / Russian, for example:"
                            "\nОоба / Да\nЖок / Нет"), markup([nav_row()]))
    elif step == "qscale":
        await show(event, _("Which scale?"), markup([
            [button("1–5", Pick(step="ss", value="5")), button("1–10", Pick(step="ss",
                                                                           value="10"))],
            nav_row()]))
    elif step == "qends":
        await show(event, _("Send the end labels on two lines as Kyrgyz / Russian: the lowest, "
                            "then the highest. Or skip."), markup([skip, nav_row()]))
    elif step == "qnumber":
        await show(event, _("Send the unit and the range, for example: сом 0 1000000. Or skip."),
                   markup([skip, nav_row()]))
    elif step == "qmax":
        q = data.get("q", {})
        n = len(q.get("choices", []))
        first = _("No limit") if q.get("type") == "multiple" else _("Order all")
        buttons = [button(first, Pick(step="sm", value="0"))] + [
            button(str(i), Pick(step="sm", value=str(i))) for i in range(1, n)]
        text = _("At most how many answers?") if q.get("type") == "multiple" else \
            _("Order all the options, or pick the top how many?")
        await show(event, text, markup([*grid(buttons, 5), nav_row()]))
    elif step == "qrequired":
        await show(event, _("Must it be answered?"), markup([
            [button(_("Required"), Pick(step="sr", value="1")),
             button(_("Optional"), Pick(step="sr", value="0"))], nav_row()]))
    elif step == "qcond":
        earlier = [q for q in data.get("questions", []) if q["type"] in ("single", "multiple")]
        rows = [[button(_("Always"), Pick(step="sc", value="-"))]]
        for q in earlier[-6:]:
            for c in q["choices"][:6]:
                label = (f"{forms.label(q['label'], member.language)[:18]} = "
                         f"{forms.label(c['label'], member.language)[:14]}")
                rows.append([button(label, Pick(step="sc", value=f"{q['name']}.{c['name']}"))])
        await show(event, _("Show this question always, or only if an earlier answer is …"),
                   markup([*rows, nav_row()]))
    elif step == "qmore":
        qs = data.get("questions", [])
        listing = "\n".join(f"{i}. {html.escape(forms.label(q['label'], member.language))} "
                            f"({type_label(q['type'])})" for i, q in enumerate(qs, 1))
        await show(event, _("Questions so far:") + "\n" + listing, markup([
            [button("➕ " + _("Add a question"), Pick(step="sn", value="add")),
             button("✔️ " + _("Finish"), Pick(step="sn", value="done"))], nav_row()]))
    elif step == "mode":
        await show(event, _("How do members answer?"), markup([
            [button("👤 " + _("Each member"), Pick(step="so", value="member"))],
            [button("🏛 " + _("One per municipality"), Pick(step="so", value="municipality"))],
            [button("🕶 " + _("Anonymously"), Pick(step="so", value="anonymous"))],
            nav_row()]))
    elif step == "audience":
        await _show_audience(event, db, member, data)
    elif step == "deadline":
        await show(event, _("Until when can members answer? Send a date, for example "
                            "25.12.2026 (or with a time: 25.12.2026 18:00)."),
                   markup([nav_row()]))
    elif step == "preview":
        await show_preview(event, state, db, member, member.language)


def type_label(kind: str) -> str:
    return {
        "single": _("One choice"), "multiple": _("Several choices"), "scale": _("Scale"),
        "number": _("Number"), "text": _("Short text"), "date": _("Date"),
        "ranking": _("Ranking"),
    }.get(kind, kind)


def _draft(data: dict[str, Any]) -> SurveyDraft:
    group = data.get("group_id")
    return SurveyDraft(
        title=data.get("title", {}), intro=data.get("intro", {}),
        questions=list(data.get("questions", [])),
        deadline=datetime.fromisoformat(data["deadline"]) if data.get("deadline")
        else utcnow(),
        audience=Audience.from_json(data.get("audience")),
        per_municipality=data.get("mode") == "municipality",
        anonymous=data.get("mode") == "anonymous", kind=data.get("kind", "survey"),
        group_id=int(group) if group else None, in_forum=bool(data.get("in_forum")))


async def _show_audience(event: Event, db: Database, member: MemberView,
                         data: dict[str, Any]) -> None:
    try:
        count = await surveys.count_audience(db, member.id, _draft(data))
    except ServiceError:
        count = 0
    summary = await picker.summary(db, Audience.from_json(data.get("audience")),
                                   member.language)
    await show(event, _("Who should receive it? Now: {summary}. Recipients: {count}.").format(
        summary=summary, count=count), markup(menu_rows("s", DIMENSIONS)))


def preview_text(data: dict[str, Any], lang: str) -> str:
    d = _draft(data)
    row = Survey(id=0, kind=d.kind, title_ky=d.title.get("ky", ""),
                 title_ru=d.title.get("ru", ""), title_en=d.title.get("en"),
                 intro_ky=d.intro.get("ky", ""), intro_ru=d.intro.get("ru", ""),
                 intro_en=d.intro.get("en"), questions=d.questions, deadline=d.deadline,
                 per_municipality=d.per_municipality, anonymous=d.anonymous, created_by_id=0)
    lines = [invitation(row, lang), ""]
    for i, q in enumerate(d.questions, 1):
        line = f"{i}. {html.escape(forms.label(q['label'], lang))} — {type_label(q['type'])}"
        if q.get("choices"):
            line += ": " + ", ".join(html.escape(forms.label(c["label"], lang))
                                     for c in q["choices"])
        rule = q.get("relevant")
        target = forms.by_name(d.questions, rule["q"]) if rule else None
        if rule and target is not None:
            options = {c["name"]: forms.label(c["label"], lang)
                       for c in target.get("choices", [])}
            line += " ⤷ " + html.escape(f"{forms.label(target['label'], lang)[:40]} = "
                                        f"{options.get(rule['value'], rule['value'])}")
        if not q.get("required", True):
            line += " (" + _("optional") + ")"
        lines.append(line)
    return "\n".join(lines)[:4000]


async def show_preview(event: Event, state: FSMContext, db: Database, member: MemberView,
                       lang: str) -> None:
    await state.set_state(Build.preview)
    data = await state.get_data()
    try:
        surveys.clean_draft(_draft(data))
        count = await surveys.count_audience(db, member.id, _draft(data)) \
            if not data.get("in_forum") else None
    except ServiceError as exc:
        await show(event, survey_refusal(exc), markup([nav_row()]))
        return
    langs = [button(("👁 " if c == lang else "") + language_name(c), Pick(step="sp", value=c))
             for c in LANGUAGES]
    text = preview_text(data, lang) + "\n\n" + _(
        "Above is the preview in {language}, as members will see it.").format(
        language=language_name(lang))
    if count is not None:
        text += "\n" + _("Recipients: {count}.").format(count=count)
    await show(event, text[:4090], markup([
        langs, [button("🚀 " + _("Send"), Pick(step="sp", value="send"))], nav_row()]))


# --- entry -------------------------------------------------------------------------------------


async def start(query: CallbackQuery, state: FSMContext, db: Database, member: MemberView,
                kind: str) -> None:
    """From /surveys: "New survey", "Quick poll" or "Import XLSForm"."""
    if not await surveys.may_create(db, member.id):
        await query.answer(_("You are not allowed to do that."), show_alert=True)
        return
    await query.answer()
    staff = await survey_roles.is_staff(db, member.id)
    await state.set_data({"kind": "poll" if kind == "poll" else "survey", "questions": [],
                          "audience": {}, "import": kind == "import", "staff": staff})
    leader = await survey_roles.leads(db, member.id)
    if kind == "poll" or not (staff or leader):
        await ask(query, state, db, member, "target")
    else:
        await ask(query, state, db, member, "file" if kind == "import" else "title")


def _after_target(data: dict[str, Any]) -> str:
    return "file" if data.get("import") else "title"


def _after_title(data: dict[str, Any]) -> str:
    return "qlabel" if data.get("kind") == "poll" else "intro"


def _after_questions(data: dict[str, Any]) -> str:
    if data.get("kind") == "poll":
        return "audience" if _needs_audience(data) else "deadline"
    return "mode"


def _needs_audience(data: dict[str, Any]) -> bool:
    return not data.get("group_id") and bool(data.get("staff"))


PREVIOUS = {"title": "target", "intro": "title", "qtype": "intro", "qlabel": "qtype",
            "qoptions": "qlabel", "qscale": "qlabel", "qnumber": "qlabel", "qends": "qscale",
            "qmax": "qoptions", "qrequired": "qlabel", "qcond": "qrequired", "qmore": "qcond",
            "mode": "qmore", "audience": "mode", "deadline": "mode", "preview": "deadline",
            "file": "target"}


@router.callback_query(Nav.filter(), StateFilter(Build))
async def on_nav(query: CallbackQuery, callback_data: Nav, state: FSMContext, db: Database,
                 member: MemberView | None) -> None:
    pressed = await nav_press(query, state, member is not None, callback_data.action,
                              _("Cancelled. Nothing was sent."))
    if pressed is None or member is None:
        return
    step, data = pressed
    if callback_data.action == "back":
        target = PREVIOUS.get(step, "title")
        if target == "target" and not data.get("targeted"):
            target = step
        if target == "qtype" and data.get("kind") == "poll":
            target = "title"
        if target == "intro" and data.get("kind") == "poll":
            target = "title"
        await ask(query, state, db, member, target)
    elif callback_data.action == "skip":
        if step == "intro":
            data["intro"] = {}
            await state.set_data(data)
            await ask(query, state, db, member, "mode" if data.get("questions") else "qtype")
        elif step == "qends":
            await _question_done_part(query, state, db, member, data)
        elif step == "qnumber":
            await ask(query, state, db, member, "qrequired")


async def _question_done_part(event: Event, state: FSMContext, db: Database,
                              member: MemberView, data: dict[str, Any]) -> None:
    await state.set_data(data)
    if data.get("kind") == "poll":
        await _finish_question(event, state, db, member, data, required=True)
        return
    await ask(event, state, db, member, "qrequired")


async def _finish_question(event: Event, state: FSMContext, db: Database, member: MemberView,
                           data: dict[str, Any], required: bool | None = None) -> None:
    q = dict(data.get("q", {}))
    if required is not None:
        q["required"] = required
    questions = list(data.get("questions", []))
    q["name"] = f"q{len(questions) + 1}"
    try:
        cleaned = forms.clean_questions([*questions, q])
    except ServiceError as exc:
        await show(event, survey_refusal(exc), markup([nav_row()]))
        return
    data["questions"] = cleaned
    data.pop("q", None)
    await state.set_data(data)
    if data.get("kind") == "poll":
        await ask(event, state, db, member, _after_questions(data))
    else:
        await ask(event, state, db, member, "qmore")


# --- typed answers -----------------------------------------------------------------------------


@router.message(StateFilter(Build), F.text, ~F.text.startswith("/"))
async def on_text(message: Message, state: FSMContext, db: Database,
                  member: MemberView | None) -> None:
    step = _step(await state.get_state())
    if member is None or step is None or message.text is None:
        return
    if step not in TEXT_STEPS:
        await message.answer(_("Please use the buttons."))
        return
    text = message.text.strip()[:6000]
    data = await state.get_data()
    if step == "title":
        title = _lines(text)
        if len(title.get("ky", "")) < 3 or len(title.get("ru", "")) < 3 or any(
                len(v) > surveys.TITLE_MAX for v in title.values()):
            await message.answer(survey_refusal(ServiceError("survey_title",
                                                             limit=surveys.TITLE_MAX)))
            return
        data["title"] = title
        await state.set_data(data)
        await ask(message, state, db, member, _after_title(data))
        return
    if step == "intro":
        parts = [p.strip() for p in text.split("\n\n") if p.strip()]
        if len(parts) < 2 or any(len(p) > surveys.INTRO_MAX for p in parts):
            await message.answer(_("Please send a paragraph in Kyrgyz and one in Russian, "
                                   "separated by an empty line (at most {limit} characters "
                                   "each).").format(limit=surveys.INTRO_MAX))
            return
        data["intro"] = dict(zip(("ky", "ru", "en"), parts, strict=False))
        await state.set_data(data)
        await ask(message, state, db, member, "mode" if data.get("import") else "qtype")
        return
    if step == "qlabel":
        label = _lines(text)
        if not label.get("ky") or not label.get("ru") or any(
                len(v) > forms.LABEL_MAX for v in label.values()):
            await message.answer(_("Please send the question in Kyrgyz on the first line and "
                                   "in Russian on the second (at most {limit} characters)."
                                   ).format(limit=forms.LABEL_MAX))
            return
        q = dict(data.get("q", {}))
        q["label"] = label
        data["q"] = q
        await state.set_data(data)
        if data.get("kind") == "poll" and not q.get("type"):
            await ask(message, state, db, member, "qtype")
            return
        nxt = {"single": "qoptions", "multiple": "qoptions", "ranking": "qoptions",
               "scale": "qscale", "number": "qnumber"}.get(q.get("type", ""), "qrequired")
        await ask(message, state, db, member, nxt)
        return
    if step == "qoptions":
        lines = [x for x in text.splitlines() if x.strip()]
        limit = forms.RANKING_MAX if data.get("q", {}).get("type") == "ranking" else \
            surveys.POLL_OPTIONS_MAX if data.get("kind") == "poll" else forms.CHOICES_MAX
        choices: list[dict[str, Any]] = [{"name": f"o{i}", "label": _pair(x)}
                                         for i, x in enumerate(lines, 1)]
        if not 2 <= len(choices) <= limit or any(
                not c["label"].get("ky") or not c["label"].get("ru")
                or any(len(v) > forms.CHOICE_LABEL_MAX for v in c["label"].values())
                for c in choices):
            await message.answer(_("Please send 2 to {limit} options, one per line, as Kyrgyz "
                                   "/ Russian (at most {length} characters each).").format(
                limit=limit, length=forms.CHOICE_LABEL_MAX))
            return
        q = dict(data.get("q", {}))
        q["choices"] = choices
        data["q"] = q
        await state.set_data(data)
        if data.get("kind") == "poll":
            await _finish_question(message, state, db, member, data, required=True)
        elif q.get("type") in ("multiple", "ranking"):
            await ask(message, state, db, member, "qmax")
        else:
            await ask(message, state, db, member, "qrequired")
        return
    if step == "qends":
        ends = [_pair(x) for x in text.splitlines() if x.strip()]
        if len(ends) != 2 or any(not x.get("ky") or not x.get("ru") for x in ends):
            await message.answer(_("Please send two lines as Kyrgyz / Russian, or skip."))
            return
        q = dict(data.get("q", {}))
        q["low"], q["high"] = ends
        data["q"] = q
        await _question_done_part(message, state, db, member, data)
        return
    if step == "qnumber":
        words = text.split()
        numbers = [w for w in words if forms._NUMBER.fullmatch(w)]
        unit = " ".join(w for w in words if w not in numbers)[:forms.UNIT_MAX]
        if len(numbers) not in (0, 2) or (numbers and float(numbers[0]) > float(numbers[1])):
            await message.answer(_("Please send the unit and two numbers, for example: сом 0 "
                                   "1000000. Or skip."))
            return
        q = dict(data.get("q", {}))
        if unit:
            q["unit"] = unit
        if numbers:
            q["min"], q["max"] = (int(float(numbers[0])), int(float(numbers[1])))
        data["q"] = q
        await state.set_data(data)
        await ask(message, state, db, member, "qrequired")
        return
    if step == "deadline":
        moment = parse_moment(text, end_of_day=True)
        if moment is None or moment <= utcnow():
            await message.answer(_("Please send a future date, for example 25.12.2026."))
            return
        data["deadline"] = moment.isoformat()
        await state.set_data(data)
        await show_preview(message, state, db, member, member.language)


@router.message(StateFilter(Build.file), F.document)
async def on_file(message: Message, state: FSMContext, db: Database, bot: Bot,
                  member: MemberView | None) -> None:
    assert message.document is not None
    if member is None:
        return
    doc = message.document
    if (doc.file_size or 0) > MAX_BYTES:
        await message.answer(_("That file is larger than {limit} MB.").format(limit=2))
        return
    if not (doc.file_name or "").lower().endswith((".xlsx", ".xls")):
        await message.answer(_("Please send an .xlsx file (an XLSForm)."))
        return
    buffer = await bot.download(doc.file_id)
    if buffer is None:
        await message.answer(_("Please try again in a moment."))
        return
    try:
        title, questions = parse_xlsform(buffer.read())
    except ServiceError as exc:
        await message.answer("⚠️ " + _("The form was not imported.") + "\n" + survey_refusal(exc))
        return
    data = await state.get_data()
    data["questions"] = questions
    data["title_hint"] = title
    await state.set_data(data)
    await message.answer(_("Imported {count} questions.").format(count=len(questions)))
    await ask(message, state, db, member, "title")


@router.message(StateFilter(Build), ~F.text.startswith("/"))
async def on_other(message: Message, state: FSMContext) -> None:
    step = _step(await state.get_state())
    await wrong_input(message, step, TEXT_STEPS, files_step="file")


# --- buttons -----------------------------------------------------------------------------------


@router.callback_query(Pick.filter(F.step.startswith("s")), StateFilter(Build))
async def on_pick(query: CallbackQuery, callback_data: Pick, state: FSMContext, db: Database,
                  settings: Settings, member: MemberView | None) -> None:
    step = _step(await state.get_state())
    if member is None or step is None:
        await query.answer()
        return
    data = await state.get_data()
    kind, value = callback_data.step, callback_data.value
    expected = {"sg": "target", "sq": "qtype", "ss": "qscale", "sm": "qmax", "sr": "qrequired",
                "sc": "qcond", "sn": "qmore", "so": "mode", "sp": "preview"}
    if kind in expected and expected[kind] != step:
        await guard.stale_press(query, state, db, member)  # its prompt, lost to a restart?
        return
    if step == "audience" and await picker.on_button(query, state, db, member, data, kind,
                                                     value, "s"):
        return
    if kind == "sg" and value.startswith("page"):
        page = parse_id(value[4:], MAX_PAGE)
        offered = _group_buttons(
            await survey_roles.group_choices(db, member.id, member.language),
            data.get("kind") == "poll", await survey_roles.is_staff(db, member.id))
        if page is None or page * PAGE_SIZE >= len(offered):
            await query.answer(_("This button is no longer active."))
            return
        await query.answer()
        data["target_page"] = page
        await state.set_data(data)
        await ask(query, state, db, member, "target")
        return
    await query.answer()
    if kind == "sg":
        groups = {f"{'f' if thread else 'g'}{gid}" for gid, _n, thread in
                  await survey_roles.group_choices(db, member.id, member.language)}
        groups |= {f"g{gid}" for gid, _n, _t in
                   await survey_roles.group_choices(db, member.id, member.language)}
        data["targeted"] = True
        data["staff"] = await survey_roles.is_staff(db, member.id)
        if value == "members" and (data["staff"] or await survey_roles.leads(db, member.id)):
            data.pop("group_id", None)
        elif value in groups:
            data["group_id"] = int(value[1:])
            data["in_forum"] = value.startswith("f")
        else:
            return
        await state.set_data(data)
        await ask(query, state, db, member, _after_target(data))
    elif kind == "sq" and value in forms.TYPES:
        label = data.get("q", {}).get("label") if data.get("kind") == "poll" else None
        if data.get("kind") == "poll" and value not in ("single", "multiple"):
            await ask(query, state, db, member, "qtype")  # a forged kind: ask again
            return
        # A poll's question is asked before its kind: keep it and go on to the options.
        data["q"] = {"type": value, **({"label": label} if label else {})}
        await state.set_data(data)
        await ask(query, state, db, member, "qoptions" if label else "qlabel")
    elif kind == "ss" and value in ("5", "10"):
        data["q"] = {**data.get("q", {}), "scale": int(value)}
        await state.set_data(data)
        await ask(query, state, db, member, "qends")
    elif kind == "sm" and value.isdigit():
        q = dict(data.get("q", {}))
        if int(value):
            q["max_choices" if q.get("type") == "multiple" else "top"] = int(value)
        data["q"] = q
        await state.set_data(data)
        await ask(query, state, db, member, "qrequired")
    elif kind == "sr":
        data["q"] = {**data.get("q", {}), "required": value == "1"}
        await state.set_data(data)
        if any(q["type"] in ("single", "multiple") for q in data.get("questions", [])):
            await ask(query, state, db, member, "qcond")
        else:
            await _finish_question(query, state, db, member, data)
    elif kind == "sc":
        q = dict(data.get("q", {}))
        if value != "-":
            target, _sep, option = value.partition(".")
            q["relevant"] = {"q": target, "value": option}
        data["q"] = q
        await _finish_question(query, state, db, member, data)
    elif kind == "sn":
        await ask(query, state, db, member, "qtype" if value == "add" else
                  _after_questions(data))
    elif kind == "so" and value in ("member", "municipality", "anonymous"):
        data["mode"] = value
        await state.set_data(data)
        await ask(query, state, db, member,
                  "audience" if _needs_audience(data) else "deadline")
    elif kind == "sa" and step == "audience":
        if value == "everyone":
            data["audience"] = {}
        elif value == "done":
            await ask(query, state, db, member, "deadline")
            return
        await state.set_data(data)
        await ask(query, state, db, member, "audience")
    elif kind == "sp" and value in LANGUAGES:
        await show_preview(query, state, db, member, value)
    elif kind == "sp" and value == "send":
        await _send(query, state, db, settings, member, data)


async def _send(query: CallbackQuery, state: FSMContext, db: Database, settings: Settings,
                member: MemberView, data: dict[str, Any]) -> None:
    try:
        created = await surveys.create_survey(db, member.id, _draft(data),
                                              forum_chat_id=forums_of(settings))
    except ServiceError as exc:
        await query.answer(survey_refusal(exc)[:200], show_alert=True)
        return
    await state.clear()
    text = _("Survey S-{id} is sent to {count} members.").format(
        id=created.survey_id, count=created.recipients)
    if data.get("in_forum"):
        text = _("Poll S-{id} is posted in the group's forum thread.").format(
            id=created.survey_id)
    await show(query, text, markup([[button("📊 " + _("Results"),
                                            Svr(action="card", survey_id=created.survey_id))]]))


async def _resume(message: Message, state: FSMContext, db: Database, member: MemberView | None,
                  step: str) -> None:
    if member is not None and hasattr(Build, step):
        await ask(message, state, db, member, step)


guard.register(Build, __("the survey you are building"), _resume)
steps.track(Build)
