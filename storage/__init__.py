"""Birge's SQL store: tables, the session factory, migrations and FSM storage. Knows nothing of chat."""
