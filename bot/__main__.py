"""`python -m bot` is the `birge` command."""

import sys

from bot.cli import main

sys.exit(main())
