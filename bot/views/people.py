"""What members see of the directory (/people), relayed messages, municipality names (/places)
and their data (/privacy): texts, cards, keyboards and the button payloads."""

from __future__ import annotations

import html

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import _
from bot.services import people, places
from bot.services.errors import ServiceError
from bot.views.buttons import button, grid, markup, page_rows, short
from bot.views.callbacks import Menu
from bot.views.labels import position_label, refusal, role_label
from storage.enums import Role


class Pe(CallbackData, prefix="pe"):
    """The directory: list (`value` = packed filters), page, open a card, write, reply, block;
    picking a filter (`id` = region, district, municipality, community or role index)."""

    action: str
    id: int = 0
    value: str = ""


class Pv(CallbackData, prefix="pv"):
    """/privacy: download my data, delete my account (asked, then confirmed for `member_id`)."""

    action: str
    member_id: int = 0


class Mu(CallbackData, prefix="mu"):
    """/places: confirm a pending municipality name, merge it (into `value`), add one."""

    action: str
    id: int = 0
    value: int = 0


def shown_name(name: str | None) -> str:
    """A member's name as others see it; a deleted member is "a former member"."""
    return name if name else _("a former member")


def people_refusal(error: ServiceError) -> str:
    p = error.params
    words = {
        "people_query": _("Please send at most {limit} characters of a name.").format(
            limit=p.get("limit", people.QUERY_MAX)),
        "people_message": _("Please send a message of 1 to {limit} characters, or one "
                            "document or photo.").format(limit=p.get("limit", people.MESSAGE_MAX)),
        "people_limit": _("You have written to {limit} new people today; you can write to more "
                          "tomorrow.").format(limit=p.get("limit", people.NEW_PER_DAY)),
        "people_blocked": _("This member does not take messages from you."),
        "people_unreachable": _("This member cannot be reached through Birge now."),
        "people_phone": _("That does not look like a phone number."),
        "municipality_other": _("Please send the name of a municipality: 2 to {limit} "
                                "characters.").format(limit=p.get("limit", places.NAME_MAX)),
        "merge_self": _("A municipality cannot be merged into itself."),
        "merge_target": _("Choose another municipality of the same district."),
        "municipality_decided": _("This name has already been confirmed or merged."),
        "municipality_exists": _("This municipality is already in the list: {name}.").format(
            name=p.get("name", "")),
        "already_deleted": _("This account has already been deleted."),
    }
    return words.get(error.code) or refusal(error)


# --- the directory ---------------------------------------------------------------------------


def role_word(role: Role, community: str | None, district: str | None) -> str:
    scope = ", ".join(x for x in (community, district) if x)
    return role_label(role) + (f" ({scope})" if scope else "")


def directory_text(page: people.Page, filters_line: str, query: str) -> str:
    lines = ["👥 <b>" + _("Member directory") + "</b>"]
    if filters_line:
        lines.append(filters_line)
    if query:
        lines.append("🔎 " + html.escape(query))
    lines.append(_("Found: {count}").format(count=page.total))
    if not page.rows:
        lines += ["", _("Nobody matches. Change the filters or the name.")]
        return "\n".join(lines)
    lines.append("")
    for n, row in enumerate(page.rows, start=page.page * people.PER_PAGE + 1):
        star = "⭐ " if row.leads else ""
        place = f", {html.escape(row.place)}" if row.place else ""
        lines.append(f"{n}. {star}<b>{html.escape(row.name)}</b> — "
                     f"{position_label(row.position)}{place}")
    if page.pages > 1:
        lines.append("")
        lines.append(_("Page {page} of {pages}").format(page=page.page + 1, pages=page.pages))
    return "\n".join(lines)


def directory_keyboard(page: people.Page, filters: people.Filters,
                       labels: dict[str, str]) -> InlineKeyboardMarkup:
    packed = filters.pack()
    rows = [[button(f"{n}. {row.name}"[:40], Pe(action="o", id=row.id, value=packed))]
            for n, row in enumerate(page.rows, start=page.page * people.PER_PAGE + 1)]
    paging = []
    if page.page > 0:
        paging.append(button("⬅️", Pe(action="pg", id=page.page - 1, value=packed)))
    if page.page + 1 < page.pages:
        paging.append(button("➡️", Pe(action="pg", id=page.page + 1, value=packed)))
    rows.append(paging)
    filters_buttons = [
        button("📍 " + labels.get("district", _("District")), Pe(action="fr", value=packed)),
        button("🏘 " + labels.get("municipality", _("Municipality")),
               Pe(action="fm", value=packed)),
        button("👥 " + labels.get("community", _("Community")), Pe(action="fc", value=packed)),
        button("🎖 " + labels.get("role", _("Role")), Pe(action="fo", value=packed)),
        button("🔎 " + _("By name"), Pe(action="q", value=packed)),
        button("✖️ " + _("Clear filters"), Pe(action="f")),
    ]
    rows += grid(filters_buttons, 2)
    rows.append([button("🏠 " + _("Menu"), Menu(item="home"))])
    return markup(rows)


CHOICES_PAGE = 10  # filter choices on a page (two columns): a district has up to ~40 places


def choice_keyboard(options: list[tuple[int, str]], action: str, packed: str,
                    any_action: str | None = None, page_action: str | None = None,
                    page: int = 0) -> InlineKeyboardMarkup:
    """A filter's choices; with `page_action`, a page at a time (`Pe.id` is then the page)."""
    buttons = [button(short(name, 40), Pe(action=action, id=oid, value=packed))
               for oid, name in options]
    if page_action is None:
        rows = grid(buttons, 2)
    else:
        rows = page_rows(buttons, page, lambda n: Pe(action=page_action, id=n, value=packed),
                         columns=2, size=CHOICES_PAGE)
    if any_action:
        rows.append([button(_("Any"), Pe(action=any_action, value=packed))])
    rows.append([button("⬅️ " + _("Back"), Pe(action="pg", value=packed))])
    return markup(rows)


def card_text(card: people.Card) -> str:
    lines = ["👤 <b>" + html.escape(card.name) + "</b>",
             _("Position: {value}").format(value=position_label(card.position))]
    place = ", ".join(x for x in (card.municipality, card.district) if x)
    if place:
        lines.append(_("Place: {value}").format(value=html.escape(place)))
    if card.communities:
        lines.append(_("Communities: {value}").format(
            value=html.escape(", ".join(card.communities))))
    shown = [role_word(r, c, d) for r, c, d in card.roles if r != Role.MEMBER]
    if shown:
        lines.append(_("Roles: {value}").format(value=html.escape(", ".join(shown))))
    if card.username:
        lines.append("Telegram: @" + html.escape(card.username))
    if card.phone:
        lines.append(_("Phone: {value}").format(value=html.escape(card.phone)))
    if card.hidden:
        lines.append("🙈 " + _("Hidden from the directory (you see them as Union staff)."))
    if card.is_me:
        lines.append("")
        lines.append(_("This is how colleagues see your card. /settings changes what it shows."))
    return "\n".join(lines)


def card_keyboard(card: people.Card, packed: str) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if card.can_write:
        rows.append([button("✉️ " + _("Write to them"), Pe(action="w", id=card.id))])
    if card.blocked_by_me:
        rows.append([button("🔓 " + _("Unblock"), Pe(action="ub", id=card.id))])
    rows.append([button("⬅️ " + _("Back"), Pe(action="pg", value=packed))])
    return markup(rows)


def relayed_text(m: people.Relayed) -> str:
    who = f"<b>{html.escape(m.sender_name)}</b> — {position_label(m.sender_position)}"
    if m.sender_place:
        who += f", {html.escape(m.sender_place)}"
    head = "↩️ " + _("A reply from {who}:") if m.is_reply else "✉️ " + _("A message from {who}:")
    text = head.format(who=who)
    if m.text:
        text += "\n\n" + html.escape(m.text)
    text += "\n\n<i>" + _("Sent through Birge's member directory.") + "</i>"
    return text


def relayed_keyboard(m: people.Relayed) -> InlineKeyboardMarkup:
    return markup([[button("↩️ " + _("Reply"), Pe(action="r", id=m.sender_id)),
                    button("🚫 " + _("Block"), Pe(action="bl", id=m.sender_id))]])


def listing_text(listing: people.Listing) -> str:
    lines = ["👥 <b>" + _("You in the member directory") + "</b>", "",
             (_("Hidden: colleagues do not find you in /people (district leaders and Union "
                "staff stay listed).") if listing.hidden
              else _("Listed: colleagues find you in /people.")),
             _("Your card never shows your phone or Telegram username unless you switch them "
               "on here.")]
    if not listing.has_phone:
        lines.append(_("To add your phone, send it as a contact (📎 → Contact → yourself)."))
    return "\n".join(lines)


def listing_keyboard(listing: people.Listing) -> InlineKeyboardMarkup:
    def mark(on: bool, text: str) -> str:
        return ("✅ " if on else "▫️ ") + text

    rows = [[button(mark(listing.hidden, _("Hide me")), Pe(action="lh", id=int(
        not listing.hidden)))]]
    if listing.has_username:
        rows.append([button(mark(listing.show_username, _("Show my username")),
                            Pe(action="lu", id=int(not listing.show_username)))])
    if listing.has_phone:
        rows.append([button(mark(listing.show_phone, _("Show my phone")),
                            Pe(action="lp", id=int(not listing.show_phone)))])
    rows.append([button("⬅️ " + _("Settings"), Menu(item="settings"))])
    return markup(rows)


# --- municipality names ----------------------------------------------------------------------


def pending_text(items: list[places.PendingPlace]) -> str:
    lines = ["🏘 <b>" + _("Municipality names") + "</b>", ""]
    if not items:
        lines.append(_("No new names are waiting for you."))
    else:
        lines.append(_("New names typed by members, waiting for your decision:"))
        for p in items:
            lines.append(f"• <b>{html.escape(p.name)}</b> — {html.escape(p.district)} "
                         + _("(members: {count})").format(count=p.members))
    return "\n".join(lines)


def pending_keyboard(items: list[places.PendingPlace], page: int = 0) -> InlineKeyboardMarkup:
    """The names waiting for a decision, a page at a time (`Mu.id` of "list" is the page)."""
    rows = page_rows([button(short(p.name, 40), Mu(action="o", id=p.id)) for p in items], page,
                     lambda n: Mu(action="list", id=n))
    rows.append([button("➕ " + _("Add a municipality"), Mu(action="add"))])
    rows.append([button("🏠 " + _("Menu"), Menu(item="home"))])
    return markup(rows)


def proposed_text(p: places.PendingPlace) -> str:
    lines = ["🏘 " + _("A new municipality name in {district}: <b>{name}</b>").format(
        district=html.escape(p.district), name=html.escape(p.name)),
        _("Members who chose it: {count}").format(count=p.members)]
    if p.candidates:
        lines.append(_("It looks like: {names}").format(
            names=", ".join(html.escape(c.name) for c in p.candidates)))
    lines.append(_("Confirm it as a new municipality, or merge it into an existing one."))
    return "\n".join(lines)


def proposed_keyboard(p: places.PendingPlace) -> InlineKeyboardMarkup:
    rows = [[button("✅ " + _("Confirm"), Mu(action="ok", id=p.id)),
             button("🔀 " + _("Merge…"), Mu(action="mg", id=p.id))]]
    rows += [[button("🔀 → " + c.name[:36], Mu(action="mt", id=p.id, value=c.id))]
             for c in p.candidates[:3]]
    rows.append([button("⬅️ " + _("Back"), Mu(action="list"))])
    return markup(rows)


def targets_keyboard(source_id: int, targets: list[places.Suggestion],
                     page: int = 0) -> InlineKeyboardMarkup:
    """The municipalities to merge a name into, a page at a time (`Mu.value` of "mg")."""
    rows = page_rows([button(short(t.name, 40), Mu(action="mt", id=source_id, value=t.id))
                      for t in targets], page,
                     lambda n: Mu(action="mg", id=source_id, value=n))
    rows.append([button("⬅️ " + _("Back"), Mu(action="o", id=source_id))])
    return markup(rows)


# --- /privacy --------------------------------------------------------------------------------


def privacy_text(retention_days: int) -> str:
    years = max(1, round(retention_days / 365))
    return "\n".join([
        "🔐 <b>" + _("Your data in Birge") + "</b>", "",
        _("What Birge keeps and why:"),
        "• " + _("your name, position, municipality, district, practice communities, language "
                 "and Telegram account — to connect you with colleagues and to send you what "
                 "concerns you;"),
        "• " + _("your questions, answers, national issues, co-signatures and comments — they "
                 "are your contribution and help others;"),
        "• " + _("your legal requests — private, seen only by the Union's lawyers and staff;"),
        "• " + _("your consent and when you gave it, your settings and your messages through "
                 "the directory."),
        "",
        _("The Union of LSGs keeps these data under the Law of the Kyrgyz Republic \"On "
          "personal information\". You may download them or delete your account at any time."),
        _("If you delete your account, your profile is erased at once; what you gave others "
          "stays as \"a former member\"; your legal requests are kept for {years} years and then "
          "erased.").format(years=years),
    ])


def privacy_keyboard(member_id: int) -> InlineKeyboardMarkup:
    return markup([[button("📦 " + _("Download my data"), Pv(action="export"))],
                   [button("🗑 " + _("Delete my account"), Pv(action="ask"))],
                   [button("🏠 " + _("Menu"), Menu(item="home"))]])


def delete_confirm_text() -> str:
    return ("⚠️ <b>" + _("Delete your account?") + "</b>\n\n" + _(
        "Your name, Telegram account, username and phone are erased, you leave the directory "
        "and your groups, and Birge will not write to you any more. Your answers, questions, "
        "issues and co-signatures stay, shown as \"a former member\". This cannot be undone."))


def delete_confirm_keyboard(member_id: int) -> InlineKeyboardMarkup:
    return markup([[button("🗑 " + _("Yes, delete"), Pv(action="delete", member_id=member_id)),
                    button("✖️ " + _("Keep it"), Pv(action="keep"))]])
