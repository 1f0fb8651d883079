"""Telegram adapters, one module per feature: parse the update, call a service, render a reply."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    """Every feature router, in the order updates should meet them (fallback last)."""
    from bot.flows import (
        ask_question,
        broadcast_compose,
        event_compose,
        legal_intake,
        library_item,
        onboarding,
        raise_issue,
        reply,
        survey_build,
    )
    from bot.handlers import (
        approval,
        broadcasts,
        bulletin,
        decision_inbox,
        dossiers,
        events,
        forum,
        groups,
        help,
        invite,
        issues,
        language,
        legal,
        liaison,
        library,
        people,
        places,
        positions,
        privacy,
        profile,
        questions,
        reports,
        search,
        settings,
        start,
        survey_results,
        surveys,
        unhandled,
    )

    # Every update meets each router's filters until one handles it, so the busiest (onboarding,
    # all of whose handlers need its state) comes before the ones staff use now and then.
    found = [start.router, language.router, help.router, approval.router, profile.router,
             invite.router, onboarding.router, questions.router, groups.router,
             ask_question.router, reply.router, search.router, forum.router, broadcasts.router,
             broadcast_compose.router, issues.router, dossiers.router, raise_issue.router,
             legal_intake.router, legal.router, library_item.router, library.router,
             settings.router, bulletin.router,
             event_compose.router, events.router,
             surveys.router, survey_build.router, survey_results.router, people.router,
             places.router, privacy.router, positions.router, decision_inbox.router,
             liaison.router, reports.router, unhandled.router]
    for router in found:
        # One process may build several Dispatchers (a restart in tests, the sandbox); the
        # module-level routers are detached from the previous one before being attached again.
        router._parent_router = None
    return found
