"""Birge: the chat platform of Kyrgyzstan's local self-government bodies."""

from bot import lean_aiogram as _lean_aiogram  # noqa: F401  (before anything imports aiogram)
