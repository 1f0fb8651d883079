"""Guided conversations: each flow keeps its answers in FSM state (stored in the database)."""
