"""What a member sees: one module per feature (texts, cards, keyboards), plus the shared pieces.

- `labels`: names of the closed vocabularies (positions, roles, statuses) and every refusal;
- `buttons`: inline keyboard builders and the navigation row;
- `callbacks`: the typed button payloads (`CallbackData`), ids only;
- one module per feature (`questions`, `legal`, `issues`, `broadcasts`, `digests`, `profile`, …).

Handlers, flows and the delivery renderers import from here; views import services' plain data
and `bot.i18n`, never handlers or flows.
"""
