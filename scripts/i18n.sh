#!/usr/bin/env bash
# Refresh the catalogs after changing strings: extract bot/ into i18n/birge.pot and merge it into
# i18n/{ky,ru,en}/LC_MESSAGES/birge.po. New strings arrive empty; tests fail until they are
# translated. (No compile step: Birge compiles the .po files in memory at start-up.)
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
"$PYBABEL" extract -F babel.cfg -k _ -k __ -k ngettext:1,2 --no-location --sort-output \
  --project=Birge --copyright-holder="Birge" -o i18n/birge.pot . >/dev/null 2>&1
for lang in ky ru en; do
  po="i18n/$lang/LC_MESSAGES/birge.po"
  if [ -f "$po" ]; then
    "$PYBABEL" update -D birge -i i18n/birge.pot -d i18n -l "$lang" --no-fuzzy-matching \
      --ignore-obsolete >/dev/null 2>&1
  else
    "$PYBABEL" init -D birge -i i18n/birge.pot -d i18n -l "$lang" >/dev/null 2>&1
  fi
done
echo "catalogs updated: $(grep -c '^msgid ' i18n/birge.pot) messages"
