# The two commands of the README: `make run` and `make test`. Everything else is their plumbing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint setup sandbox browser postgres

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
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

# Every database test runs on SQLite and on PostgreSQL: the tests start a throwaway server from
# Debian's binaries (tests/postgres.py), installed here when missing. `pytest -k sqlite` runs one.
POSTGRES_PACKAGES := postgresql
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	    $(POSTGRES_PACKAGES); } || \
	  echo "make: could not install PostgreSQL; the PostgreSQL tests are skipped here" \
	    "(and fail under CI=true)" >&2

test: $(STAMP) lint browser postgres
	$(BIN)/python -m pytest
