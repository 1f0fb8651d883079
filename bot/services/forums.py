"""Which forum chat may mirror which topic group: the one rule that keeps a private group out of
a shared forum.

A group open to all members is mirrored in the shared forum supergroup (`FORUM_CHAT_ID`). A group
open to one practice community is mirrored only in that community's own forum chat
(`FORUM_CHAT_IDS`, where only its members sit), never in the shared one, and nowhere when the
community has no chat of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Community, TopicGroup


@dataclass(frozen=True)
class Forums:
    shared: int | None = None
    by_community: Mapping[str, int] = field(default_factory=dict)

    def chat_for(self, community_code: str | None) -> int | None:
        """The chat a group may be mirrored in (None: nowhere)."""
        if community_code is None:
            return self.shared
        chat = self.by_community.get(community_code)
        return None if chat is None or chat == self.shared else chat

    def chats(self) -> set[int]:
        found = set(self.by_community.values())
        if self.shared is not None:
            found.add(self.shared)
        return found

    def may_post(self, community_code: str | None, chat_id: int | None) -> bool:
        return chat_id is not None and chat_id == self.chat_for(community_code)


def forums_of(settings: object) -> Forums:
    """The forums of a `Settings` (FORUM_CHAT_ID and FORUM_CHAT_IDS)."""
    return Forums(getattr(settings, "forum_chat_id", None),
                  dict(getattr(settings, "forum_chat_ids", None) or {}))


async def mirror_chat(s: AsyncSession, forums: Forums | int | None,
                      group: TopicGroup) -> int | None:
    """The chat where this group's thread may carry a post now (None: nowhere). Every post to
    a forum (questions, answers, quick polls) asks this."""
    if forums is None or group.forum_topic_id is None:
        return None
    if not isinstance(forums, Forums):
        forums = Forums(forums)
    code = None
    if group.community_id is not None:
        community = await s.get(Community, group.community_id)
        code = community.code if community else f"#{group.community_id}"
    chat = group.forum_chat_id
    if chat is None and group.community_id is None:
        chat = forums.shared  # a thread made before chats were recorded: the shared forum
    return chat if forums.may_post(code, chat) else None
