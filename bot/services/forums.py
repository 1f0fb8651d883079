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
