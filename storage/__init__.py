"""Birge's SQL store: tables, sessions, migrations and FSM storage. Knows nothing of chat."""
