# The two commands of the README: `make run` and `make test`. Everything else is their plumbing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint setup sandbox browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/birge run

# Birge in the browser without Telegram: the emulator, Birge and a chat page with demo data.
sandbox: $(STAMP)
	$(BIN)/birge sandbox

lint: $(STAMP)
	$(BIN)/ruff check bot storage scripts tests
	$(BIN)/mypy

# The page's tests drive Debian's Chromium headless (a browser download is never needed).
BROWSER_PACKAGES := chromium fonts-dejavu-core fonts-noto-color-emoji
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	    $(BROWSER_PACKAGES); } || \
	  echo "make: could not install Chromium; the browser tests are skipped here" \
	    "(and fail under CI=true)" >&2

test: $(STAMP) lint browser
	$(BIN)/python -m pytest
