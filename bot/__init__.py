"""Birge: the chat platform of Kyrgyzstan's local self-government bodies."""
