"""Renderers for the library: a proposal for its reviewers, the outcome for its author, and an
adoption for its author. Each is rendered through `library.card` for its recipient, so a notice
about something they may no longer see is dropped rather than sent."""

from __future__ import annotations

import html
from typing import Any

from bot.delivery.render import Recipient, Rendered, renderer
from bot.i18n import _
from bot.services import library, members
from bot.services.errors import ServiceError
from bot.services.library import ItemCard
from bot.views.library import card_buttons, card_text
from storage.db import Database
from storage.enums import ItemStatus


async def _card(db: Database, to: Recipient, payload: dict[str, Any]) -> ItemCard | None:
    try:
        return await library.card(db, to.member_id, int(payload["item_id"]), to.language)
    except ServiceError:
        return None


@renderer("library_proposed")
async def proposed(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    c = await _card(db, to, payload)
    if c is None or c.status != ItemStatus.REVIEW or not c.reviews:
        return None
    head = (_("The author changed the proposal {label}; please review it again.")
            if payload.get("resubmitted") else
            _("A new proposal {label} waits for your review.")).format(
        label=library.label(c.id))
    return Rendered("📥 " + head + "\n\n" + card_text(c, to.language), card_buttons(c))


@renderer("library_reviewed")
async def reviewed(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    c = await _card(db, to, payload)
    if c is None:
        return None
    title = html.escape(c.texts.get("title", ""))
    decision = payload.get("decision")
    if decision == "approve":
        text = "✅ " + _("Your proposal {label} “{title}” is published in the library.")
    elif decision == "return":
        text = "↩️ " + _("Your proposal {label} “{title}” was returned for changes.")
    else:
        text = "✖️ " + _("Your proposal {label} “{title}” was declined.")
    text = text.format(label=library.label(c.id), title=title)
    if c.review_comment and decision != "approve":
        text += "\n" + _("Reviewer's comment: {comment}").format(
            comment=html.escape(c.review_comment))
    return Rendered(text, card_buttons(c))


@renderer("library_adopted")
async def adopted(db: Database, to: Recipient, payload: dict[str, Any]) -> Rendered | None:
    c = await _card(db, to, payload)
    who = await members.by_id(db, int(payload.get("adopter_id") or 0))
    if c is None or who is None:
        return None
    return Rendered("🏘 " + _("{name} says their municipality uses your {label} “{title}”. "
                              "Municipalities using it: {count}.").format(
        name=html.escape(who.full_name), label=library.label(c.id),
        title=html.escape(c.texts.get("title", "")), count=c.municipalities), card_buttons(c))
