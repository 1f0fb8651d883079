"""``python -m bot.sandbox.emulator --port 8081``: serve the emulator (see ``server.main``)."""

from bot.sandbox.emulator.server import main

main()
